"""Make the demo's blurry example photos from held-out photos (never used in training).

Each photo is downscaled (wallpapers to 1280x800), blurred with a seeded random camera-shake kernel
in linear light, given a little sensor noise and saved as JPEG in ``examples/``; the sharp
originals are not shipped (they are in Debian's wallpapers and scikit-image).

Usage:
    python scripts/prepare_default_data.py data/default
    python scripts/make_examples.py data/default/test examples
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from deblurgan.blur import TrajectoryKernelSampler, add_gaussian_noise, blur_image
from deblurgan.blur.apply import linear_to_srgb, srgb_to_linear
from deblurgan.io import find_images, read_image, write_image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-side", type=int, default=1280)
    args = parser.parse_args(argv)
    sampler = TrajectoryKernelSampler(31, exposure=(0.5, 1.0))
    generator = torch.Generator().manual_seed(args.seed)
    for path in find_images([args.photos]):
        sharp = read_image(path).rgb[None]
        scale = min(1.0, args.max_side / max(sharp.shape[-2:]))
        if scale < 1:
            size = (round(sharp.shape[-2] * scale), round(sharp.shape[-1] * scale))
            sharp = F.interpolate(sharp, size=size, mode="bilinear", antialias=True).clamp(0, 1)
        kernel = sampler.sample(1, generator=generator).kernels
        blurry = linear_to_srgb(blur_image(srgb_to_linear(sharp), kernel))
        blurry = add_gaussian_noise(blurry, 0.005, generator=generator)
        target = args.out / f"{path.stem.removeprefix('skimage_')}_blurry.jpg"
        write_image(target, blurry[0], quality=92)
        print(f"{target}: {blurry.shape[-1]}x{blurry.shape[-2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
