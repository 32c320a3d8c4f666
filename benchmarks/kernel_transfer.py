"""Does a model's deblurring transfer from our synthetic kernels to recorded camera shake?

Lai et al. (CVPR 2016) blurred real photos with 4 recorded camera-shake kernels: each blurry
image is the sharp one convolved with the kernel in sRGB values (checked: a convolution here
matches their files at 58.9 dB, so their noise is about 0.1 %). This script restores the same
sharp photos (``../shared/data/lai_uniform_val/sharp``) blurred four ways, and prints the PSNR
gain over each blurry input (shift-tolerant, as ``benchmarks/validation_views.py``), so the gap
between a model's synthetic figures and Lai's can be taken apart:

* ``lai``: Lai's recorded kernel, plain convolution in sRGB, 8-bit rounding (their recipe);
* ``walk``: our random-walk shake kernel (DeblurGAN's trajectories) of the same extent, same
  convolution;
* ``smooth``: our smooth shake kernel of varying speed (``smooth_trajectories``), same
  convolution;
* ``gamma`` and ``linear``: the realistic pipeline (``RealisticDegradation``) with camera shake
  of that extent (its own kernels, half smooth), no noise, no JPEG, no boosted highlights, and
  the sub-frames averaged in gamma space (sRGB values, as Lai's files and GoPro's standard
  ``blur`` folder) or in linear light (as a sensor does);
* ``pipeline``: the realistic pipeline with camera shake of that extent and its own averaging,
  highlights, noise and JPEG: what the model is trained on.

The extent of each Lai kernel is measured from its image (largest distance across its support),
and our kernels are drawn at that extent, in image pixels.

    python benchmarks/kernel_transfer.py runs/default_v5/checkpoints/last.ckpt
    python benchmarks/kernel_transfer.py default --kernels 2 --photos 6
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAI = REPO.parent / "shared" / "data" / "lai_uniform_val"
WAYS = ("lai", "walk", "smooth", "gamma", "linear", "pipeline")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model name, generator file or training checkpoint")
    parser.add_argument("--lai", type=Path, default=LAI, help="Lai et al.'s uniform set")
    parser.add_argument("--kernels", default="1,2,3,4", help="Lai kernel numbers (1 to 4)")
    parser.add_argument("--photos", type=int, default=4, help="photos per kernel")
    parser.add_argument("--shift", type=int, default=12, help="shift window of the scoring")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from deblurgan import load_model
    from deblurgan.blur.apply import blur_image
    from deblurgan.blur.realistic import RealisticDegradation
    from deblurgan.blur.trajectory import TrajectoryKernelSampler, kernel_extent
    from deblurgan.inference import Deblurrer
    from deblurgan.inference.evaluation.alignment import align_by_shift
    from deblurgan.io import read_image
    from deblurgan.metrics.psnr import psnr as psnr_db

    torch.set_num_threads(args.threads)
    deblurrer = Deblurrer(load_model(args.model), device="cpu", threads=args.threads)
    generator = torch.Generator().manual_seed(args.seed)

    def psnr(restored: torch.Tensor, sharp: torch.Tensor) -> float:
        a, b, _ = align_by_shift(restored.clamp(0, 1)[None], sharp[None], args.shift)
        return float(psnr_db(a, b))

    def convolve(sharp: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """Lai's recipe: a true convolution of the sRGB values, rounded to 8 bits."""
        return (blur_image(sharp, kernel.float()).clamp(0, 1) * 255).round() / 255

    sharp_files = sorted((args.lai / "sharp").glob("*_kernel_01.png"))[: args.photos]
    print(f"{args.model}: PSNR gain over the blurry input, {len(sharp_files)} photos per kernel")
    print(f"{'kernel':10s} {'extent':>6s}  " + "  ".join(f"{w:>8s}" for w in WAYS))
    totals: dict[str, list[float]] = {w: [] for w in WAYS}
    for number in [int(n) for n in args.kernels.split(",")]:
        image = read_image(args.lai / "kernels" / f"kernel_0{number}.png").rgb[0].double()
        lai_kernel = image / image.sum()
        size = kernel_extent(lai_kernel)
        side = 2 * math.ceil(size) + 1
        walk = TrajectoryKernelSampler(side, max_length=size, exposure=1.0, size_by="extent")
        smooth = TrajectoryKernelSampler(
            side, max_length=size, exposure=1.0, size_by="extent", smooth_prob=1.0,
            psf_sigma=(0.0, 1.0),
        )  # fmt: skip
        shake = {
            "frame_width": 1280,
            "blur_size": (size / 1280, size / 1280 + 1e-9),
            "camera_path_prob": 0.0,
        }
        camera = RealisticDegradation(**shake)
        clean = {"shot_noise": (0.0, 0.0), "jpeg_prob": 0.0, "highlight_gain": (1.0, 1.0)}
        by_domain = {
            way: RealisticDegradation(**shake, **clean, linear_prob=float(way == "linear"))
            for way in ("gamma", "linear")
        }
        gains: dict[str, list[float]] = {w: [] for w in WAYS}
        for path in sharp_files:
            name = path.name.replace("_kernel_01", f"_kernel_0{number}")
            sharp = read_image(args.lai / "sharp" / name).rgb
            pairs = {
                "lai": (convolve(sharp, lai_kernel), sharp),
                "walk": (convolve(sharp, walk.sample(1, generator=generator).kernels[0]), sharp),
                "smooth": (
                    convolve(sharp, smooth.sample(1, generator=generator).kernels[0]),
                    sharp,
                ),
            }
            for way, degradation in by_domain.items():
                degraded = degradation(sharp, generator=generator)
                pairs[way] = (degraded.blurry, degraded.sharp)
            degraded = camera(sharp, generator=generator)
            pairs["pipeline"] = (degraded.blurry, degraded.sharp)
            for way, (blurry, target) in pairs.items():
                gains[way].append(psnr(deblurrer(blurry), target) - psnr(blurry, target))
        row = "  ".join(f"{statistics.mean(gains[w]):+8.2f}" for w in WAYS)
        print(f"kernel_0{number:<2d} {size:6.0f}  {row}", flush=True)
        for w in WAYS:
            totals[w] += gains[w]
    print(f"{'mean':10s} {'':6s}  " + "  ".join(f"{np.mean(totals[w]):+8.2f}" for w in WAYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
