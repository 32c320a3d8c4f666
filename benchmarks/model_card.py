"""The default model card's figures in one command: three validation views and the speed.

Runs, in one process, one after the other:

1. ``benchmarks/validation_views.py`` (all three views: realistic synthetic blur on the held-out
   test photos, Lai et al.'s real kernels, real blurred photos against MAXIM-3S) for the model,
   with the blurry input and the previous default measured in the same run (``--previous``:
   ``benchmarks/baselines/default_v1.safetensors``, which ``scripts/ship_default.py`` keeps when
   it replaces the shipped weights; until then, for a candidate ``-m``, the shipped default);
2. ``benchmarks/synthetic_components.py`` on the same held-out photos: the synthetic gain of the
   model and of the previous default taken apart (the pipeline's mix, without boosted
   highlights, and clean blur; by averaging domain), so the card can say how much of the gain
   is deblurring and how much denoising;
3. ``deblur bench`` at 1280x720 on 2 CPU threads, eager PyTorch: the model, the previous default
   and ``fpn_mobilenet`` at DeblurGAN-v2's width, each in its own subprocess; the ratios are to
   ``fpn_mobilenet``.

    python benchmarks/model_card.py                       # the shipped default
    python benchmarks/model_card.py -m runs/default_v6/checkpoints/last.ckpt --runs 3  # a candidate
    python benchmarks/model_card.py --markdown card/   # and the tables as Markdown in card/
    python benchmarks/model_card.py --views lai --no-components --no-speed

Needs ``make data`` (the test photos), ``make weights`` (LPIPS, MAXIM-3S) and, for view (c), the
MAXIM outputs (computed on the first run and cached; ``validation_views.py --fill-cache``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREVIOUS = HERE / "baselines" / "default_v1.safetensors"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-m", "--model", default="default", help="name or path (default)")
    parser.add_argument(
        "--previous",
        help="the previous default, a name or path (default: benchmarks/baselines/"
        f"{PREVIOUS.name} when kept; else the shipped default, for any other model)",
    )
    parser.add_argument("--views", default="synthetic,lai,real", help="as validation_views.py")
    parser.add_argument("--json", type=Path, help="validation_views.py's figures, as JSON")
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="DIR",
        help="write the tables as Markdown, for the card: DIR/views.md and DIR/components.md",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per model (5)")
    parser.add_argument("--no-components", action="store_true", help="skip step 2")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed")
    args = parser.parse_args(argv)
    previous: str | None = args.previous
    if previous is None:
        if PREVIOUS.is_file():
            previous = str(PREVIOUS)
        elif args.model != "default":  # a candidate: against what is shipped now
            previous = "default"
        else:
            print(f"model_card: no {PREVIOUS}: no previous default to measure", flush=True)
    elif previous != "default" and not Path(previous).is_file():
        print(f"model_card: error: {previous}: the previous default is missing", file=sys.stderr)
        return 1
    old = [] if previous is None else ["-m", previous]
    baseline = "none" if previous is None else previous
    views = ["-m", args.model, "--baseline", baseline, "--views", args.views]
    views += ["--json", str(args.json)] if args.json else []
    views += ["--markdown", str(args.markdown / "views.md")] if args.markdown else []
    import validation_views  # beside this script, as benchmarks/tlc_effect.py imports it

    status = validation_views.main(views)
    if status:
        return int(status)
    if not args.no_components and "synthetic" in args.views.split(","):
        import synthetic_components

        print("\nwhat the synthetic gain is made of (synthetic_components.py)", flush=True)
        photos = validation_views.REPO / "data" / "train_photos" / "test"  # the view's items
        components = [args.model, *old[1:], "--photos", str(photos)]
        components += ["--markdown", str(args.markdown / "components.md")] if args.markdown else []
        status = synthetic_components.main(components)
        if status:
            return int(status)
    if args.no_speed:
        return 0
    from deblurgan.cli.bench import bench_main

    print("\nspeed at 1280x720, 2 CPU threads, eager PyTorch (deblur bench)", flush=True)
    bench = ["-m", args.model, *old, "-m", "fpn_mobilenet"]
    bench += ["--size", "1280x720", "--runs", str(args.runs), "--threads", "2"]
    return int(bench_main(bench))


if __name__ == "__main__":
    sys.exit(main())
