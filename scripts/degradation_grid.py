"""The picture of docs/degradation.md: synthetic training pairs beside real blurred photos.

Top: training items of ``data=synthetic`` (the realistic pipeline's defaults, 256 px crops, as the
training DataLoader makes them), each blurry crop above its sharp target, labelled with the
blur size (px at the 1280 px frame), the kind (camera path or camera shake), the averaging
(linear or gamma), the shot noise ``a`` and the JPEG quality. Bottom: 256 px crops of real
blurred photos at their own resolution (``../shared/data/real_blur``: Lai et al. 2016,
RealBlur-J, Köhler et al. 2012, smartphone bursts; research benchmarks, shown for viewing only),
so streak length, smoothness and noise can be compared by eye.

Usage:
    .venv/bin/python scripts/degradation_grid.py                  # writes docs/degradation_grid.jpg
    .venv/bin/python scripts/degradation_grid.py --seed 3 --out /tmp/grid.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from deblurgan.data.synthetic import SyntheticBlurDataset
from deblurgan.io import read_image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
# Real blurred photos (camera shake, object motion, low light, saturated lights), and where in
# each the 256 px crop is taken (fractions of the free range; 0.5 is the centre).
REAL = [
    ("sbdd_samples/scene011_blur_11.png", 0.5, 0.5),
    ("sbdd_samples/scene118_blur_03.png", 0.5, 0.4),
    ("sbdd_samples/Blurry2_1.png", 0.5, 0.5),
    ("sbdd_samples/set007_001_IMG_20190504_091532_BURST71.png", 0.5, 0.5),
    ("lai_real/night4.jpg", 0.5, 0.5),
    ("lai_real/street_cars.jpg", 0.5, 0.5),
    ("lai_real/coke.jpg", 0.5, 0.5),
    ("lai_real/car4.jpg", 0.5, 0.5),
]


def _tile(image: torch.Tensor) -> Image.Image:
    array = (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    return Image.fromarray(array)


def _label(tile: Image.Image, text: str) -> Image.Image:
    tile = tile.copy()
    draw = ImageDraw.Draw(tile)
    box = draw.textbbox((3, 2), text)
    draw.rectangle((box[0] - 2, box[1] - 1, box[2] + 2, box[3] + 1), fill=(0, 0, 0))
    draw.text((3, 2), text, fill=(255, 255, 0))
    return tile


def _real_crop(path: Path, size: int, fy: float, fx: float) -> torch.Tensor:
    image = read_image(path).rgb
    h, w = image.shape[-2:]
    top, left = round((h - size) * fy), round((w - size) * fx)
    return image[:, top : top + size, left : left + size]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=SHARED / "photos" / "kodak24")
    parser.add_argument("--real", type=Path, default=SHARED / "real_blur")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "degradation_grid.jpg")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--columns", type=int, default=4)
    parser.add_argument("--pair-rows", type=int, default=2, help="rows of blurry/sharp pairs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)

    count = args.columns * args.pair_rows
    data = SyntheticBlurDataset(
        args.photos, crop_size=args.tile, length=count, seed=args.seed, return_params=True
    )
    tiles: list[list[Image.Image]] = []
    for row in range(args.pair_rows):
        blurry_row, sharp_row = [], []
        for col in range(args.columns):
            item = data[row * args.columns + col]
            p = item["params"]
            kind = "path" if p["kind"] == "camera_path" else "shake"
            objects = f"+{p['moving_objects']}obj" if p.get("moving_objects") else ""
            jpeg = f"q{p['jpeg_quality']}" if p["jpeg_quality"] is not None else "png"
            text = (
                f"{p['blur_px']:.0f}px {kind}{objects} {p['averaging'][:3]} "
                f"a={p['shot_noise']:.0e} {jpeg}"
            )
            blurry_row.append(_label(_tile(item["blurry"]), text))
            sharp_row.append(_label(_tile(item["sharp"]), "sharp target"))
        tiles += [blurry_row, sharp_row]
    real = [
        _label(_tile(_real_crop(args.real / name, args.tile, fy, fx)), f"real: {Path(name).stem}")
        for name, fy, fx in REAL[: 2 * args.columns]
    ]
    tiles += [real[i : i + args.columns] for i in range(0, len(real), args.columns)]

    gap = 4
    width = args.columns * args.tile + (args.columns - 1) * gap
    height = len(tiles) * args.tile + (len(tiles) - 1) * gap
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    for r, line in enumerate(tiles):
        for c, tile in enumerate(line):
            canvas.paste(tile, (c * (args.tile + gap), r * (args.tile + gap)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(args.out, quality=92)  # JPEG quality; PNG ignores it
    print(f"wrote {args.out} ({width}x{height})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
