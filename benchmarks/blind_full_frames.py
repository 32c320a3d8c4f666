"""Blind deconvolution against GoPro-like blur on whole 1280x720 frames, not 256 px crops.

The realistic synthetic view scores 256 px crops, which hold few edges for a kernel estimate
with a large support; GoPro frames are 1280x720. This script makes 1280x720 frames from the
largest sharp photos of a folder (resized so the shorter side fits, centre-cropped), then runs
``deblur eval --format synthetic --crop-size 0`` on them: the training pipeline's realistic blur
(camera paths with rotation and zoom, moving objects, shake kernels, saturation, noise, JPEG)
of whole frames, each item's blur drawn afresh, scored shift-tolerant. Methods: the blurry
input, ``blind`` (each frame's kernel estimated, support 8 % of the longer side: 103 px, then
Wiener at NSR 1e-2) and, as the in-run baseline, the shipped model.

Usage:
    python benchmarks/blind_full_frames.py                     # 18 items from 9 frames, ~15 min
    python benchmarks/blind_full_frames.py --photos DIR --frames 4 --items 4
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validation_views import run_eval  # the one runner of deblur eval here

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1280, 720)


def make_frames(photos: Path, out: Path, count: int) -> list[Path]:
    """The ``count`` first photos (by name) at least 1280x720 (either way round), as frames."""
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for path in sorted(p for p in photos.iterdir() if p.is_file()):
        try:
            with Image.open(path) as image:
                w, h = image.size
                if max(w, h) < SIZE[0] or min(w, h) < SIZE[1]:
                    continue
                rgb = image.convert("RGB")
        except OSError:
            continue
        fw, fh = SIZE if w >= h else SIZE[::-1]
        scale = max(fw / w, fh / h)
        rgb = rgb.resize((round(w * scale), round(h * scale)), Image.Resampling.LANCZOS)
        left, top = (rgb.width - fw) // 2, (rgb.height - fh) // 2
        target = out / f"{path.stem}.png"
        rgb.crop((left, top, left + fw, top + fh)).save(target)
        made.append(target)
        if len(made) == count:
            break
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=ROOT / "data" / "train_photos" / "train")
    parser.add_argument("--frames", type=int, default=9, help="frames to make (default 9)")
    parser.add_argument("--items", type=int, default=18, help="blurred items (default 18)")
    parser.add_argument("--shift", type=int, default=10, help="shift window, px (default 10)")
    parser.add_argument("--model", default="default", help="the in-run network (default: shipped)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        frames = make_frames(args.photos, Path(tmp) / "frames", args.frames)
        if not frames:
            print(f"blind_full_frames: error: {args.photos}: no photo of 1280x720 or more",
                  file=sys.stderr)  # fmt: skip
            return 1
        eval_argv = [
            "--data", str(Path(tmp) / "frames"), "--format", "synthetic", "--crop-size", "0",
            "--items", str(args.items), "--shift", str(args.shift), "--metrics", "psnr,ssim",
            "--warmup", "0", "--threads", str(args.threads),
            "--method", "identity", "--method", "blind", "-m", args.model,
        ]  # fmt: skip
        # verbose: deblur eval's own tables (by blur size too) go to stderr
        code, summary, _ = run_eval(eval_argv, Path(tmp), verbose=True)
    methods = summary.get("methods", {})
    if code != 0 or "identity" not in methods:
        print(f"blind_full_frames: error: deblur eval exited with {code}", file=sys.stderr)
        return code or 1
    base = methods["identity"]["psnr"]
    print(f"{len(frames)} frames of 1280x720 from {args.photos}, {args.items} items of the "
          f"realistic pipeline, shift-tolerant (+-{args.shift} px)")  # fmt: skip
    print(f"{'method':24s} {'PSNR':>7s} {'gain':>7s} {'SSIM':>7s}")
    for name, scores in methods.items():
        gain = "" if name == "identity" else f"{scores['psnr'] - base:+.2f}"
        print(f"{name:24s} {scores['psnr']:7.2f} {gain:>7s} {scores['ssim']:7.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
