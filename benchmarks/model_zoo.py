"""The model zoo on the CPU: parameters, GMACs and latency of every generator vs fpn_mobilenet.

Every registered generator is built at its default (published) settings. For each ``--sizes``
entry the input is padded to the generator's ``size_multiple`` as inference pads it; GMACs are
counted on the meta device (:func:`deblurgan.models.complexity.generator_macs`) and the latency
is the median of ``--runs`` timed forward passes under ``torch.inference_mode`` after
``--warmup`` untimed ones, with ``--threads`` torch threads. Ratios are to ``fpn_mobilenet``
(DeblurGAN-v2's fast model) measured in the same run, so they hold across machines better than
the milliseconds do.

A model whose predicted time at a size exceeds ``--max-seconds`` is skipped there with a note:
the prediction is the seconds per MAC of one pass at a small probe size, times the MACs of
``warmup + runs`` passes at that size.

    python benchmarks/model_zoo.py                                   # 256x256 and 1280x720
    python benchmarks/model_zoo.py --sizes 640x360 --runs 3 --models rir,unet,fpn_mobilenet
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from typing import Any

from deblurgan.cli.arguments import image_size, positive_int

BASELINE = "fpn_mobilenet"
PROBE_SIDE = 64


def _sizes(text: str) -> list[tuple[int, int]]:
    sizes = [image_size(part.strip()) for part in text.split(",") if part.strip()]
    if not sizes:
        raise argparse.ArgumentTypeError("expected at least one WIDTHxHEIGHT")
    return sizes


def _round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)


def _time_forward(model: Any, width: int, height: int, passes: int) -> list[float]:
    import torch
    import torch.nn.functional as F

    multiple = int(getattr(model, "size_multiple", 1))
    blurry = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    pad = (0, _round_up(width, multiple) - width, 0, _round_up(height, multiple) - height)
    times = []
    with torch.inference_mode():
        for _ in range(passes):
            start = time.perf_counter()
            model(F.pad(blurry, pad, mode="replicate"))[..., :height, :width]
            times.append(time.perf_counter() - start)
    return times


def _measure(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from deblurgan.models import build_generator
    from deblurgan.models.complexity import generator_macs

    model = build_generator(name).eval()
    multiple = int(getattr(model, "size_multiple", 1))
    record: dict[str, Any] = {
        "name": name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "size_multiple": multiple,
        "sizes": {},
    }
    probe_side = _round_up(PROBE_SIDE, multiple)
    probe_s = min(_time_forward(model, probe_side, probe_side, 2))  # the first pass warms up
    probe_macs = generator_macs(name, height=probe_side, width=probe_side)
    for width, height in args.sizes:
        macs = generator_macs(name, height=height, width=width)
        entry: dict[str, Any] = {"macs": macs}
        predicted = probe_s * macs / max(probe_macs, 1) * (args.warmup + args.runs)
        if name != BASELINE and predicted > args.max_seconds:
            entry["skipped"] = (
                f"about {predicted:.3g} s predicted for {args.warmup + args.runs} passes "
                f"(over --max-seconds {args.max_seconds:g})"
            )
        else:
            times = _time_forward(model, width, height, args.warmup + args.runs)[args.warmup :]
            entry["median_s"] = statistics.median(times)
            entry["times_s"] = times
        record["sizes"][f"{width}x{height}"] = entry
    return record


def _ratio(value: float | None, base: float | None) -> str:
    return "-" if value is None or not base else f"{value / base:.2f}x"


def _print_tables(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    import torch

    print(
        f"CPU forward pass, {args.threads} thread(s), median of {args.runs} "
        f"(after {args.warmup} warm-up), torch {torch.__version__}, "
        f"{platform.processor() or platform.machine()}; default settings of each generator"
    )
    base = next(r for r in results if r["name"] == BASELINE)
    for width, height in args.sizes:
        key = f"{width}x{height}"
        base_entry = base["sizes"][key]
        print(f"\n{key} (padded to each size multiple)")
        header = ["model", "params", "vs fpn", "GMACs", "vs fpn", "latency", "vs fpn"]
        rows = [header]
        for r in results:
            entry = r["sizes"][key]
            median = entry.get("median_s")
            rows.append(
                [
                    r["name"],
                    f"{r['parameters'] / 1e6:.2f} M",
                    _ratio(r["parameters"], base["parameters"]),
                    f"{entry['macs'] / 1e9:.1f}",
                    _ratio(entry["macs"], base_entry["macs"]),
                    "skipped" if median is None else f"{median * 1000:.0f} ms",
                    _ratio(median, base_entry.get("median_s")),
                ]
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            print(
                "  ".join(
                    cell.ljust(w) if i == 0 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(row, widths, strict=True))
                )
            )
        for r in results:
            if "skipped" in r["sizes"][key]:
                print(f"note: {r['name']} at {key} skipped: {r['sizes'][key]['skipped']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[(256, 256), (1280, 720)],
        help="comma-separated WIDTHxHEIGHT list (256x256,1280x720)",
    )
    parser.add_argument("--runs", type=positive_int, default=3, help="timed runs per size (3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (1)")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch threads (2)")
    parser.add_argument(
        "--models", default="", help="comma-separated subset (all registered generators)"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=120.0,
        help="skip a model at a size whose predicted time is longer (120)",
    )
    parser.add_argument("--json", action="store_true", help="also print the raw results as JSON")
    args = parser.parse_args(argv)

    import torch

    from deblurgan.models import GENERATORS

    torch.set_num_threads(args.threads)
    names = [n.strip() for n in args.models.split(",") if n.strip()] or list(GENERATORS)
    unknown = sorted(set(names) - set(GENERATORS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {', '.join(GENERATORS)}")
    if BASELINE not in names:
        names.insert(0, BASELINE)  # the ratios need it, measured in this run
    results = []
    for name in names:
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        results.append(_measure(name, args))
    _print_tables(results, args)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
