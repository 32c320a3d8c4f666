"""CPU inference speed and memory: the shipped model and nafnet against fpn_mobilenet and others.

A thin caller of ``deblur bench`` (:mod:`deblurgan.cli.bench`, the one implementation): each
model runs in a fresh subprocess, so that its peak memory is its own; times are the median of
``--runs`` timed passes after the first call and ``--warmup`` more, on one ``--size`` frame
through :class:`deblurgan.inference.Deblurrer` (padding included, tiling off unless
``--tile-size``), with ``--threads`` torch threads; ``fpn_mobilenet`` at DeblurGAN-v2's width is
always measured in the same run and the ratios are to it. Weights do not change the speed, so
``maxim`` times MAXIM-3S built untrained (no fetch needed).

    python benchmarks/inference_speed.py                      # 1280x720, 2 threads, 5 runs
    python benchmarks/inference_speed.py --size 640x360 --runs 3
    python benchmarks/inference_speed.py --models fpn_mobilenet,maxim --runs 1 --warmup 0
    python benchmarks/inference_speed.py --models shipped --backend compile --backend eager
"""

from __future__ import annotations

import argparse
import sys

from deblurgan.cli.arguments import image_size, positive_int
from deblurgan.cli.bench import bench_main

#: This script's names -> ``deblur bench -m`` names.
MODELS = {
    "shipped": "default",
    "nafnet": "nafnet",
    "fpn_mobilenet": "fpn_mobilenet",
    "resnet": "resnet",
    "maxim": "maxim_3s",
}
DEFAULT_MODELS = ("shipped", "nafnet", "fpn_mobilenet", "resnet")


def bench_arguments(args: argparse.Namespace) -> list[str]:
    """The ``deblur bench`` arguments for this script's options.

    Example:
        >>> ns = argparse.Namespace(models="shipped,maxim", size=(640, 360), runs=3, warmup=1,
        ...                         threads=2, tile_size=0, json=False, backend=["eager"])
        >>> " ".join(bench_arguments(ns))[:60]
        '-m default -m maxim_3s --size 640x360 --runs 3 --warmup 1 --'
    """
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        raise SystemExit(f"unknown models {unknown}; choose from {', '.join(MODELS)}")
    width, height = args.size
    argv = [item for name in names for item in ("-m", MODELS[name])]
    argv += ["--size", f"{width}x{height}", "--runs", str(args.runs), "--warmup", str(args.warmup)]
    argv += ["--threads", str(args.threads), "--tile-size", str(args.tile_size)]
    argv += [item for backend in args.backend for item in ("--backend", backend)]
    return [*argv, "--json"] if args.json else argv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=image_size, default=(1280, 720), help="WxH (1280x720)")
    parser.add_argument("--runs", type=positive_int, default=5, help="timed runs per model (5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs after the first (1)")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch threads (2)")
    parser.add_argument("--tile-size", type=int, default=0, help="tile side (0: whole frame)")
    parser.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help=f"comma-separated, from {', '.join(MODELS)}",
    )
    parser.add_argument(
        "--backend",
        action="append",
        default=[],
        choices=("eager", "compile", "onnxruntime"),
        help="repeat (eager)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    return bench_main(bench_arguments(args))


if __name__ == "__main__":
    sys.exit(main())
