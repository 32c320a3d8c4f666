"""Quality of a deblurring model on held-out realistic synthetic blur, against the blurry input.

A thin caller of ``deblur eval --format synthetic``: the one synthetic protocol (the realistic
degradation of training, ``deblurgan.blur.RealisticDegradation``, 256 px crops at scale 1, each
taken as part of a 1280 px wide frame, item ``i`` from photo ``i % n`` seeded by
``(seed, i)``), so the model card's figures are what ``deblur eval`` prints. The test photos are
the held-out split of ``scripts/prepare_default_data.py``; the seed is one training never uses.
The blurry input (``identity``) is scored on the same crops in the same run, and the table is
split by blur size (the streak at the image centre, pixels at 1280), each with its gain.

Usage:
    python scripts/prepare_default_data.py data/default      # once
    python benchmarks/default_model_quality.py                # the shipped model
    python benchmarks/default_model_quality.py --model runs/x/generator.safetensors --json out.json

The same figures by hand:
    deblur eval --data data/default/test --format synthetic --items 32 --seed 20261121 \\
        --model default --method identity --metrics psnr,ssim
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deblurgan.cli.evaluate import eval_main
from deblurgan.io import find_images

TEST_SEED = 20_261_121  # never used in training (training uses seed 0 for train, 1000003 for val)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="shipped name or checkpoint path")
    parser.add_argument("--photos", type=Path, default=Path("data/default/test"))
    parser.add_argument("--crops-per-photo", type=int, default=8)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--seed", type=int, default=TEST_SEED)
    parser.add_argument("--metrics", default="psnr,ssim", help="as deblur eval --metrics")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the summary here (replaced)")
    args = parser.parse_args(argv)
    if not args.photos.is_dir():
        print(
            f"error: {args.photos}: no such folder; run `python scripts/prepare_default_data.py "
            f"{args.photos.parent}` first",
            file=sys.stderr,
        )
        return 1
    photos = len(find_images([args.photos]))
    command = [
        "--data", str(args.photos), "--format", "synthetic",
        "--items", str(photos * args.crops_per_photo), "--crop-size", str(args.crop),
        "--seed", str(args.seed), "--model", args.model, "--method", "identity",
        "--metrics", args.metrics, "--threads", str(args.threads), "--quiet",
    ]  # fmt: skip
    if args.json is not None:
        command += ["--json", str(args.json), "--force"]
    print(f"deblur eval {' '.join(command)}", flush=True)
    return eval_main(command)


if __name__ == "__main__":
    raise SystemExit(main())
