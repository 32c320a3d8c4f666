"""Quality of a deblurring model on held-out synthetic camera-shake blur, against the blurry input.

This script produces the numbers in the shipped model's card. The test photos are the held-out
split of ``scripts/prepare_default_data.py`` (two Debian wallpapers and two scikit-image photos that
the model never saw); the blur is the training blur model (random camera-shake trajectories, linear
light, Gaussian noise) drawn with a seed that training never uses. The blurry input itself is the
baseline, measured on the same crops in the same run. The gain is also printed by blur strength
(the kernel's RMS radius around its centre, in pixels), so a mean hides nothing.

Usage:
    python scripts/prepare_default_data.py data/default      # once
    python benchmarks/default_model_quality.py                # the shipped model
    python benchmarks/default_model_quality.py --model runs/x/generator.safetensors
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from deblurgan.data import SyntheticBlurDataset
from deblurgan.inference import Deblurrer
from deblurgan.metrics import psnr, ssim
from deblurgan.models.weights import load_generator

TEST_SEED = 20_261_121  # never used in training (training uses seed 0 for train, 1 for val)
# Bins of the kernel's RMS radius (px): mild, moderate and strong camera shake.
STRENGTH_BINS = ((0.0, 2.0, "mild (< 2 px)"), (2.0, 4.0, "moderate (2-4 px)"),
                 (4.0, float("inf"), "strong (>= 4 px)"))  # fmt: skip


def kernel_radius(kernel: torch.Tensor) -> float:
    """RMS distance (px) of a kernel's mass from its centre of mass: how far the shake spreads."""
    k = kernel.double() / kernel.double().sum()
    ys = torch.arange(k.shape[0], dtype=torch.float64)[:, None]
    xs = torch.arange(k.shape[1], dtype=torch.float64)[None, :]
    cy, cx = float((k * ys).sum()), float((k * xs).sum())
    return float((k * ((ys - cy) ** 2 + (xs - cx) ** 2)).sum().sqrt())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="shipped name or checkpoint path")
    parser.add_argument("--photos", type=Path, default=Path("data/default/test"))
    parser.add_argument("--crops-per-photo", type=int, default=8)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--kernel-size", type=int, default=31)
    parser.add_argument("--scale", type=float, nargs=2, default=(0.25, 0.5))
    parser.add_argument("--seed", type=int, default=TEST_SEED)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args(argv)
    if not args.photos.is_dir():
        print(
            f"error: {args.photos}: no such folder; run `python scripts/prepare_default_data.py "
            f"{args.photos.parent}` first",
            file=sys.stderr,
        )
        return 1
    torch.set_num_threads(args.threads)
    n_photos = len([p for p in args.photos.iterdir() if p.is_file()])
    dataset = SyntheticBlurDataset(
        args.photos,
        crop_size=args.crop,
        length=n_photos * args.crops_per_photo,
        sampler={"name": "trajectory", "kernel_size": args.kernel_size},
        scale=tuple(args.scale),
        noise_std=(0.0, 0.01),
        flip=False,
        seed=args.seed,
        return_kernel=True,
    )
    model = load_generator(args.model)
    deblurrer = Deblurrer(model, device="cpu")
    rows = []
    start = time.perf_counter()
    for i in range(len(dataset)):
        item = dataset[i]
        blurry, sharp = item["blurry"][None], item["sharp"][None]
        restored = deblurrer(blurry)
        rows.append(
            {
                "name": item["name"],
                "psnr_input": float(psnr(blurry, sharp)),
                "psnr": float(psnr(restored, sharp)),
                "ssim_input": float(ssim(blurry, sharp)),
                "ssim": float(ssim(restored, sharp)),
                "kernel_radius": kernel_radius(item["kernel"]),
            }
        )
    elapsed = time.perf_counter() - start
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in rows[0] if k != "name"}
    improved = sum(r["psnr"] > r["psnr_input"] for r in rows)
    print(f"model: {args.model}   photos: {args.photos} ({n_photos})   crops: {len(rows)} x "
          f"{args.crop}px   kernel: {args.kernel_size}   seed: {args.seed}")  # fmt: skip
    print(f"{'':16}{'PSNR (dB)':>12}{'SSIM':>10}")
    print(f"{'blurry input':16}{mean['psnr_input']:12.2f}{mean['ssim_input']:10.4f}")
    print(f"{'restored':16}{mean['psnr']:12.2f}{mean['ssim']:10.4f}")
    print(f"{'gain':16}{mean['psnr'] - mean['psnr_input']:+12.2f}"
          f"{mean['ssim'] - mean['ssim_input']:+10.4f}")  # fmt: skip
    print(f"crops improved: {improved}/{len(rows)}   time: {elapsed:.1f} s")
    print(f"{'blur strength':20}{'crops':>6}{'input PSNR':>12}{'gain (dB)':>11}")
    for low, high, label in STRENGTH_BINS:
        part = [r for r in rows if low <= r["kernel_radius"] < high]
        if part:
            base = sum(r["psnr_input"] for r in part) / len(part)
            gain = sum(r["psnr"] - r["psnr_input"] for r in part) / len(part)
            print(f"{label:20}{len(part):6d}{base:12.2f}{gain:+11.2f}")
    if args.json:
        args.json.write_text(json.dumps({"mean": mean, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
