"""PSNR/SSIM of classical deconvolution (Wiener, Tikhonov, Richardson-Lucy, hyper-Laplacian)
with known kernels.

For each noise level it prints the PSNR/SSIM of the blurred input (the baseline) and of each
method, each method's gain over the input, and the time per image. By default the pairs are made
here: scikit-image's bundled photos, blurred by seeded camera-shake kernels (random trajectories)
with the real scene around each crop (no artificial borders), at two noise levels. ``--data DIR``
reads pairs instead from ``DIR/blur``, ``DIR/sharp`` and ``DIR/kernel`` (files matched by name;
kernels are images, as ``deblur deconv --kernel`` reads them). ``--tune`` adds, per method and
noise level, the best setting of a small grid (an oracle choice: it looks at the sharp images).

Usage:
    python benchmarks/classical_deconv.py
    python benchmarks/classical_deconv.py --tune --noise 0 0.005 0.02
    python benchmarks/classical_deconv.py --save-data /tmp/pairs && \\
        python benchmarks/classical_deconv.py --data /tmp/pairs
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.blur import BLUR_SAMPLERS, DECONV_METHODS, add_gaussian_noise, blur_image
from deblurgan.data import find_pairs
from deblurgan.io import IMAGE_EXTENSIONS, read_image, read_kernel, write_image
from deblurgan.metrics import psnr, ssim

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
PARAMETER = {
    "wiener": "nsr",
    "tikhonov": "weight",
    "richardson_lucy": "iterations",
    "hyper_laplacian": "weight",
}
GRID: dict[str, list[Any]] = {
    "wiener": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
    "tikhonov": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
    "richardson_lucy": [5, 10, 20, 30, 50, 100],
    "hyper_laplacian": [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3],
}


@dataclass
class Pair:
    name: str
    blurry: Tensor  # (1, 3, H, W)
    sharp: Tensor  # (1, 3, H, W)
    kernel: Tensor  # (kh, kw), sum 1
    noise: str  # the noise level, or "-" when read from files


def _photo(name: str) -> Tensor:
    from skimage import data

    array = getattr(data, name)()
    image = torch.from_numpy(array).float() / 255
    if image.ndim == 2:
        image = image[..., None].expand(-1, -1, 3)
    return image.permute(2, 0, 1)[None]  # (1, 3, H, W)


def make_pairs(*, size: int, kernel_size: int, noise: list[float], seed: int) -> list[Pair]:
    """Blur each photo's centre square with a seeded trajectory kernel, then add noise."""
    sampler = BLUR_SAMPLERS.build("trajectory", kernel_size=kernel_size)
    margin = kernel_size // 2
    pairs = []
    for i, name in enumerate(PHOTOS):
        photo = _photo(name)
        h, w = photo.shape[-2:]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = photo[..., top : top + side, left : left + side]
        window = size + 2 * margin
        square = F.interpolate(square, size=(window, window), mode="bilinear", antialias=True)
        square = square.clamp(0, 1)
        kernel = sampler.sample(1, generator=torch.Generator().manual_seed(seed + i)).kernels[0]
        inner = (..., slice(margin, margin + size), slice(margin, margin + size))
        blurred = blur_image(square, kernel)[inner]  # the scene around the crop made the blur
        for j, std in enumerate(noise):
            g = torch.Generator().manual_seed(seed + 1000 * (j + 1) + i)
            blurry = add_gaussian_noise(blurred, std, generator=g) if std else blurred
            pairs.append(Pair(name, blurry, square[inner], kernel.double(), f"{std:g}"))
    return pairs


def read_pairs(root: Path) -> list[Pair]:
    """Pairs from ``root/{blur,sharp}/NAME`` with ``root/kernel/<stem>.<image ext>``."""
    pairs = []
    missing = []
    for pair in find_pairs(root):
        stem = Path(pair.name).name
        kernels = [
            p
            for p in sorted((root / "kernel").glob(f"{stem}.*"))
            if p.suffix.lower() in IMAGE_EXTENSIONS
        ]
        if not kernels:
            missing.append(f"{root / 'kernel' / stem}.*")
            continue
        pairs.append(
            Pair(
                pair.name,
                read_image(pair.blurry, max_pixels=None).rgb[None],
                read_image(pair.sharp, max_pixels=None).rgb[None],
                read_kernel(kernels[0]),
                "-",
            )
        )
    if missing:
        raise SystemExit("error: no kernel image for: " + ", ".join(missing))
    return pairs


def save_pairs(pairs: list[Pair], root: Path) -> None:
    """Write pairs in the ``--data`` layout (16-bit PNG; kernels scaled to a peak of 1)."""
    for pair in pairs:
        name = f"{pair.name}_noise{pair.noise}"
        write_image(root / "blur" / f"{name}.png", pair.blurry[0], bit_depth=16)
        write_image(root / "sharp" / f"{name}.png", pair.sharp[0], bit_depth=16)
        peak = (pair.kernel / pair.kernel.max()).float().expand(3, -1, -1)
        write_image(root / "kernel" / f"{name}.png", peak, bit_depth=16)


def _run(method: str, value: Any, pair: Pair) -> tuple[float, float, float]:
    start = time.perf_counter()
    restored = DECONV_METHODS[method](
        pair.blurry, pair.kernel.float(), **{PARAMETER[method]: value}
    )
    elapsed = time.perf_counter() - start
    return float(psnr(restored, pair.sharp)), float(ssim(restored, pair.sharp)), elapsed


def evaluate(pairs: list[Pair], settings: dict[str, Any], *, tune: bool) -> list[dict[str, Any]]:
    rows = []
    for noise in dict.fromkeys(pair.noise for pair in pairs):
        group = [pair for pair in pairs if pair.noise == noise]
        base_psnr = statistics.mean(float(psnr(p.blurry, p.sharp)) for p in group)
        base_ssim = statistics.mean(float(ssim(p.blurry, p.sharp)) for p in group)
        rows.append(
            {
                "noise": noise,
                "method": "blurred input",
                "psnr": base_psnr,
                "ssim": base_ssim,
                "gain": 0.0,
                "ms": None,
            }
        )
        for method in DECONV_METHODS:
            candidates = [(settings[method], "")]
            if tune:
                candidates += [(v, " (best of grid)") for v in GRID[method]]
            results = {}
            for value, _ in candidates:
                if value not in results:
                    results[value] = [_run(method, value, pair) for pair in group]
            choices = [(settings[method], "")]
            if tune:
                best = max(GRID[method], key=lambda v: statistics.mean(r[0] for r in results[v]))
                choices.append((best, " (best of grid)"))
            for value, note in choices:
                scores = results[value]
                mean_psnr = statistics.mean(r[0] for r in scores)
                rows.append(
                    {
                        "noise": noise,
                        "method": f"{method} {PARAMETER[method]}={value:g}{note}",
                        "psnr": mean_psnr,
                        "ssim": statistics.mean(r[1] for r in scores),
                        "gain": mean_psnr - base_psnr,
                        "ms": 1000 * statistics.median(r[2] for r in scores),
                    }
                )
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    header = ["noise", "method", "PSNR dB", "SSIM", "gain dB", "ms/image"]
    lines = [header]
    for row in rows:
        lines.append(
            [
                row["noise"],
                row["method"],
                f"{row['psnr']:.2f}",
                f"{row['ssim']:.4f}",
                "-" if row["ms"] is None else f"{row['gain']:+.2f}",
                "-" if row["ms"] is None else f"{row['ms']:.1f}",
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    align = ["<", "<", ">", ">", ">", ">"]
    return "\n".join(
        "  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(line, align, widths, strict=True))
        for line in lines
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="read DIR/{blur,sharp,kernel} instead")
    parser.add_argument("--size", type=int, default=256, help="side of the generated crops")
    parser.add_argument("--kernel-size", type=int, default=21)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.01])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nsr", type=float, default=1e-2, help="Wiener (default: the CLI's)")
    parser.add_argument("--weight", type=float, default=1e-2, help="Tikhonov (default: the CLI's)")
    parser.add_argument("--iterations", type=int, default=30, help="Richardson-Lucy")
    parser.add_argument(
        "--hl-weight", type=float, default=5e-4, help="hyper-Laplacian (default: the CLI's)"
    )
    parser.add_argument("--tune", action="store_true", help="add the best setting of a grid")
    parser.add_argument("--save-data", type=Path, help="write the generated pairs here and stop")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.data is not None:
        pairs = read_pairs(args.data)
        source = f"{len(pairs)} pairs from {args.data}"
    else:
        pairs = make_pairs(
            size=args.size, kernel_size=args.kernel_size, noise=args.noise, seed=args.seed
        )
        source = (
            f"{len(PHOTOS)} scikit-image photos ({', '.join(PHOTOS)}), {args.size}x{args.size}, "
            f"trajectory kernels {args.kernel_size}x{args.kernel_size} (seed {args.seed}), "
            f"Gaussian noise std {', '.join(f'{n:g}' for n in args.noise)}"
        )
    if args.save_data is not None:
        save_pairs(pairs, args.save_data)
        print(f"wrote {len(pairs)} pairs to {args.save_data}")
        return 0
    settings = {
        "wiener": args.nsr,
        "tikhonov": args.weight,
        "richardson_lucy": args.iterations,
        "hyper_laplacian": args.hl_weight,
    }
    rows = evaluate(pairs, settings, tune=args.tune)
    print(
        f"classical deconvolution: {source}; mean over images, torch {torch.__version__}, "
        f"{args.threads} thread(s)"
    )
    print(format_table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps({"source": source, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
