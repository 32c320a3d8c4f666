"""``deblur bench``: latency, fps, peak memory, parameters and MACs, against fpn_mobilenet.

Each (model, backend, memory format, size) is measured in a fresh subprocess (so that its peak
memory is its own) by :func:`deblurgan.inference.benchmark.measure`. ``fpn_mobilenet`` at
DeblurGAN-v2's published width is always measured in the same run, eager, at each size: the
``vs fpn`` columns are ratios to it. Where a model runs on eager and on ``compile`` in one run,
the table says after how many frames the compile's first call is repaid.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from deblurgan.cli.arguments import image_size, non_negative_int, positive_int

__all__ = ["bench_main", "build_parser", "format_table"]

_PROG = "deblur bench"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur bench``."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Time generators (latency median and spread, fps, peak memory, params, MACs) "
        "with fpn_mobilenet as the in-run baseline.",
    )
    parser.add_argument(
        "-m",
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="architecture name (untrained), weights name or checkpoint; repeat (default: default)",
    )
    parser.add_argument(
        "--size",
        action="append",
        type=image_size,
        default=[],
        metavar="WxH",
        help="frame size; repeat (default: 1280x720)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N (default: cpu)")
    parser.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default="fp32")
    parser.add_argument(
        "--backend",
        action="append",
        choices=("eager", "compile", "onnxruntime"),
        default=[],
        help="repeat to compare (default: eager)",
    )
    parser.add_argument(
        "--channels-last",
        choices=("no", "yes", "both"),
        default="no",
        help="channels-last memory format for eager/compile (default: no)",
    )
    parser.add_argument("--runs", type=positive_int, default=5, help="timed runs (default: 5)")
    parser.add_argument(
        "--warmup", type=non_negative_int, default=1, help="untimed runs after the first (1)"
    )
    parser.add_argument("--threads", type=positive_int, help="torch threads (default: torch's)")
    parser.add_argument(
        "--tile-size", type=non_negative_int, default=0, help="tile side (0: whole frame)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser


def _worker(args: argparse.Namespace) -> int:
    from deblurgan.inference.benchmark import measure

    job = json.loads(args.worker)
    try:
        result = measure(**job).to_dict()
    except Exception as exc:
        result = {**job, "error": " ".join(str(exc).split())[:300]}
    print(json.dumps(result))
    return 0


def _run(job: dict[str, Any]) -> dict[str, Any]:
    command = [sys.executable, "-m", "deblurgan", "bench", "--worker", json.dumps(job)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {**job, "error": f"worker failed: {tail}"}
    return dict(json.loads(lines[-1]))


def _ratio(value: float | None, base: float | None) -> str:
    return "-" if not value or not base else f"{value / base:.2f}x"


def format_table(results: list[dict[str, Any]]) -> str:
    """The results as an aligned text table, ratios to the eager fpn_mobilenet of each size.

    Example:
        >>> row = {"model": "fpn_mobilenet", "arch": "fpn_mobilenet", "backend": "eager",
        ...        "memory_format": "contiguous", "width": 8, "height": 8, "parameters": 10,
        ...        "macs": 10**9, "median_s": 0.1, "times_s": [0.1], "fps": 10.0,
        ...        "peak_memory_bytes": 2**20, "first_call_s": 0.2, "max_abs_diff": None}
        >>> print(format_table([row]).splitlines()[2].split()[:4])
        ['fpn_mobilenet', 'eager', '8x8', '0.00']
    """
    from deblurgan.inference.benchmark import BASELINE

    header = [
        "model",
        "backend",
        "size",
        "params M",
        "GMACs",
        "median ms",
        "spread ms",
        "fps",
        "peak MiB",
        "time vs fpn",
        "mem vs fpn",
        "setup+1st s",
        "diff vs eager",
    ]
    rows = [header]
    notes = []
    bases = {
        (r["width"], r["height"]): r
        for r in results
        if r.get("model") == BASELINE
        and r.get("backend") == "eager"
        and r.get("memory_format") == "contiguous"
        and "error" not in r
    }
    for r in results:
        if "error" in r:
            notes.append(f"{r['model']} ({r['backend']}): {r['error']}")
            continue
        base = bases.get((r["width"], r["height"]))
        backend = r["backend"] + (" +CL" if r["memory_format"] == "channels_last" else "")
        spread = f"{min(r['times_s']) * 1000:.0f}-{max(r['times_s']) * 1000:.0f}"
        rows.append(
            [
                r["model"],
                backend,
                f"{r['width']}x{r['height']}",
                f"{r['parameters'] / 1e6:.2f}",
                "-" if r["macs"] is None else f"{r['macs'] / 1e9:.1f}",
                f"{r['median_s'] * 1000:.0f}",
                spread,
                f"{r['fps']:.2f}",
                f"{r['peak_memory_bytes'] / 2**20:.0f}",
                _ratio(r["median_s"], base["median_s"] if base else None),
                _ratio(r["peak_memory_bytes"], base["peak_memory_bytes"] if base else None),
                f"{r.get('setup_s', 0.0) + r['first_call_s']:.1f}",
                "-" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}",
            ]
        )
        if r["backend"] != "eager":
            eager = next(
                (
                    e
                    for e in results
                    if "error" not in e
                    and e["backend"] == "eager"
                    and e["model"] == r["model"]
                    and (e["width"], e["height"]) == (r["width"], r["height"])
                    and e["memory_format"] == r["memory_format"]
                ),
                None,
            )
            if eager is not None:
                gain = eager["median_s"] - r["median_s"]
                extra = r.get("setup_s", 0.0) + r["first_call_s"] - r["median_s"]
                if gain > 0:
                    notes.append(
                        f"{r['model']} {backend} at {r['width']}x{r['height']}: "
                        f"{eager['median_s'] / r['median_s']:.2f}x eager; its first call costs "
                        f"{extra:.1f} s more (setup included), repaid after "
                        f"{max(extra, 0) / gain:.0f} frames"
                    )
                else:
                    notes.append(
                        f"{r['model']} {backend} at {r['width']}x{r['height']}: not faster "
                        f"than eager ({r['median_s'] * 1000:.0f} vs "
                        f"{eager['median_s'] * 1000:.0f} ms)"
                    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([*lines, *(f"note: {n}" for n in notes)])


def bench_main(argv: Sequence[str]) -> int:
    """Run ``deblur bench``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.worker:
        return _worker(args)
    import torch

    from deblurgan.inference.benchmark import BASELINE

    models = args.model or ["default"]
    sizes = args.size or [(1280, 720)]
    backends = args.backend or ["eager"]
    formats = {"no": [False], "yes": [True], "both": [False, True]}[args.channels_last]
    common = {
        "device": args.device,
        "precision": args.precision,
        "runs": args.runs,
        "warmup": args.warmup,
        "threads": args.threads,
        "tile_size": args.tile_size,
    }
    jobs = []
    for size in sizes:
        jobs.append({"name": BASELINE, "size": size, "backend": "eager", **common})
        for name, backend, cl in itertools.product(models, backends, formats):
            if backend == "onnxruntime" and cl:
                continue
            job = {"name": name, "size": size, "backend": backend, "channels_last": cl, **common}
            if (name, backend, cl) != (BASELINE, "eager", False):
                jobs.append(job)
    results = []
    for job in jobs:
        if not args.json:
            label = f"{job['name']} {job['backend']}{' +CL' if job.get('channels_last') else ''}"
            print(f"{_PROG}: {label} at {job['size'][0]}x{job['size'][1]} ...", file=sys.stderr)
        results.append(_run(job))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        threads = args.threads or torch.get_num_threads()
        print(
            f"{args.device}, {args.precision}, {threads} thread(s), median of {args.runs} runs "
            f"after the first + {args.warmup} warm-up, spread = min-max, "
            f"{common['tile_size'] or 'no'} tiling; torch {torch.__version__}, "
            f"{platform.processor() or platform.machine()}"
        )
        print(format_table(results))
        print(
            "peak MiB: rise of the worker's peak RSS (CPU) or CUDA allocation over the model "
            "before the first call; +CL: channels-last; diff vs eager: max abs, 1e-3 allowed"
        )
    return 1 if any("error" in r for r in results) else 0
