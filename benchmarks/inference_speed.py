"""CPU inference speed and memory: the shipped model and nafnet against fpn_mobilenet and others.

Each model runs in a fresh subprocess so that its peak memory (``ru_maxrss``) is its own: the
worker reports the rise of its peak resident set size over its resident size just before the
first forward pass (the activations and workspace of inference; the weights are loaded before).
Times are the median of ``--runs`` timed passes under ``torch.inference_mode`` after
``--warmup`` untimed ones, on one ``--size`` image through :class:`deblurgan.inference.Deblurrer`
(padding included, tiling off unless ``--tile-size``), with ``--threads`` torch threads.
Weights do not change the speed, so ``maxim`` times MAXIM-3S built untrained (no fetch needed).

    python benchmarks/inference_speed.py                      # 1280x720, 2 threads, 5 runs
    python benchmarks/inference_speed.py --size 640x360 --runs 3
    python benchmarks/inference_speed.py --models fpn_mobilenet,maxim --runs 1 --warmup 0
    python benchmarks/inference_speed.py --models fpn_mobilenet,maxim --runs 1 --tile-size 512
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from deblurgan.cli.arguments import image_size, positive_int

MODELS = ("shipped", "nafnet", "fpn_mobilenet", "resnet", "maxim")
DEFAULT_MODELS = ("shipped", "nafnet", "fpn_mobilenet", "resnet")
BASELINE = "fpn_mobilenet"
DESCRIPTIONS = {
    "shipped": 'load_generator("default"): the weights shipped in the package',
    "nafnet": "NAFNet blocks in a 5-level U-Net on pixel-unshuffled input, TLC (defaults)",
    "fpn_mobilenet": "DeblurGAN-v2 FPN-MobileNetV2 at the published width (defaults)",
    "resnet": "DeblurGAN ResNet generator, 9 blocks, width 64 (defaults)",
    "maxim": "MAXIM-3S (maxim_3s, the architecture of `deblur -m maxim`), 22.2 M parameters",
}
_ARCHS = {"maxim": "maxim_3s"}


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # Linux reports KiB


def _current_rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return _peak_rss_bytes()  # no /proc: the peak so far is the best lower bound we have


def _worker(
    name: str, width: int, height: int, runs: int, warmup: int, threads: int, tile_size: int
) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    from deblurgan.inference import Deblurrer
    from deblurgan.models import build_generator, load_generator
    from deblurgan.models.weights import shipped_weights_path

    if name == "shipped":
        if not shipped_weights_path("default").is_file():
            return {
                "name": name,
                "skipped": f"no shipped weights at {shipped_weights_path('default')}",
            }
        model = load_generator("default")
    else:
        model = build_generator(_ARCHS.get(name, name))
    arch = getattr(model, "arch_spec", {"name": name})
    tiled = 0 < tile_size < max(width, height)
    deblurrer = Deblurrer(
        model,
        device="cpu",
        tile_size=tile_size if tiled else max(width, height),
        tile_overlap=32 if tiled else 0,
        threads=threads,
    )
    blurry = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    rss_before = _current_rss_bytes()
    for _ in range(warmup):
        deblurrer(blurry)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        deblurrer(blurry)
        times.append(time.perf_counter() - start)
    return {
        "name": name,
        "arch": arch,
        "parameters": sum(p.numel() for p in model.parameters()),
        "median_s": statistics.median(times),
        "times_s": times,
        "peak_rss_increase_bytes": max(_peak_rss_bytes() - rss_before, 0),
        "peak_rss_bytes": _peak_rss_bytes(),
    }


def _run_worker(name: str, args: argparse.Namespace) -> dict[str, Any]:
    width, height = args.size
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        name,
        "--size",
        f"{width}x{height}",
        "--runs",
        str(args.runs),
        "--warmup",
        str(args.warmup),
        "--threads",
        str(args.threads),
        "--tile-size",
        str(args.tile_size),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return {"name": name, "skipped": f"worker failed: {tail[0]}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _get(record: dict[str, Any] | None, key: str) -> float | None:
    return None if record is None else float(record[key])


def _ratio(value: float, base: float | None) -> str:
    return "-" if not base else f"{value / base:.2f}x"


def _print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    width, height = args.size
    import torch

    tiles = f"tiles of {args.tile_size} px (overlap 32)" if args.tile_size else "whole frame"
    print(
        f"CPU inference, {width}x{height}, {tiles}, {args.threads} thread(s), median of "
        f"{args.runs} (after {args.warmup} warm-up), torch {torch.__version__}, "
        f"{platform.processor() or platform.machine()}"
    )
    base = next((r for r in results if r["name"] == BASELINE and "skipped" not in r), None)
    header = ["model", "arch", "params", "time", "vs fpn", "peak mem +", "vs fpn", "params vs fpn"]
    rows = [header]
    for r in results:
        if "skipped" in r:
            continue
        mib = r["peak_rss_increase_bytes"] / 2**20
        rows.append(
            [
                r["name"],
                r["arch"]["name"],
                f"{r['parameters'] / 1e6:.2f} M",
                f"{r['median_s'] * 1000:.0f} ms",
                _ratio(r["median_s"], _get(base, "median_s")),
                f"{mib:.0f} MiB",
                _ratio(r["peak_rss_increase_bytes"], _get(base, "peak_rss_increase_bytes")),
                _ratio(r["parameters"], _get(base, "parameters")),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print(
            "  ".join(
                cell.rjust(w) if i >= 2 else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    for r in results:
        if "skipped" in r:
            print(f"note: {r['name']} skipped: {r['skipped']}")
    print("peak mem +: rise of the worker's peak RSS over its RSS before the first forward pass")
    for r in results:
        print(f"  {r['name']}: {DESCRIPTIONS[r['name']]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", type=image_size, default=(1280, 720), help="WIDTHxHEIGHT (1280x720)"
    )
    parser.add_argument("--runs", type=positive_int, default=5, help="timed runs per model (5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (1)")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch threads (2)")
    parser.add_argument(
        "--tile-size", type=int, default=0, help="tile side in px (0: the whole frame at once)"
    )
    parser.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help=f"comma-separated, from {', '.join(MODELS)} (default: {', '.join(DEFAULT_MODELS)})",
    )
    parser.add_argument("--json", action="store_true", help="also print the raw results as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        width, height = args.size
        result = _worker(
            args.worker, width, height, args.runs, args.warmup, args.threads, args.tile_size
        )
        print(json.dumps(result))
        return 0
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {', '.join(MODELS)}")
    if BASELINE not in names:  # ratios need the baseline measured in the same run
        names.insert(0, BASELINE)
    results = [_run_worker(name, args) for name in names]
    _print_table(results, args)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
