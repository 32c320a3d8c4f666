"""Make a short handheld-looking demo video from the example photos, with sound, for `deblur video`.

Each photo in ``examples/`` becomes a ``--seconds`` shot: a camera pans slowly across it while the
hand shakes (a seeded random walk plus a tremor), and each frame integrates ``--subframes``
positions of that path during its shutter time in linear light, so fast moves smear as real
motion blur does (the GoPro way of making blur, Nah et al., 2017). A quiet two-tone AAC track is
added so that ``deblur video`` has a sound stream to copy.

    python scripts/make_demo_video.py examples demo.mp4            # 640x360, 25 fps, 1.5 s a photo
    deblur video demo.mp4 -o demo_deblurred.mp4 --compare
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from deblurgan.blur.apply import linear_to_srgb, srgb_to_linear
from deblurgan.io import find_images, read_image


def _path(frames: int, subframes: int, generator: torch.Generator) -> torch.Tensor:
    """Camera offsets ``(frames * subframes, 2)`` in units of the crop size: pan plus shake."""
    steps = frames * subframes
    t = torch.linspace(0, 1, steps)
    pan = torch.stack([0.15 * t, 0.05 * torch.sin(math.pi * t)], dim=1)
    walk = torch.cumsum(torch.randn(steps, 2, generator=generator), dim=0) * 0.0015
    tremor = 0.01 * torch.sin(
        2 * math.pi * 6 * t[:, None] * 3 + torch.rand(1, 2, generator=generator) * 6
    )
    return pan + walk + tremor


def _shot(
    photo: torch.Tensor,
    width: int,
    height: int,
    frames: int,
    subframes: int,
    generator: torch.Generator,
) -> list[torch.Tensor]:
    """Frames of one shot: crops of ``photo`` (``(3, H, W)``) along a shaky path, motion-blurred."""
    linear = srgb_to_linear(photo)[None]
    offsets = _path(frames, subframes, generator)
    # crop 70 % of the photo, resampled to the frame size, moved along the path
    theta = torch.zeros(len(offsets), 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 0.7
    theta[:, :, 2] = offsets * 2 - torch.tensor([0.15, 0.05])
    grid = F.affine_grid(theta, [len(offsets), 3, height, width], align_corners=False)
    out = []
    for i in range(frames):
        chunk = grid[i * subframes : (i + 1) * subframes]
        views = F.grid_sample(
            linear.expand(len(chunk), -1, -1, -1),
            chunk,
            align_corners=False,
            padding_mode="reflection",
        )
        out.append(linear_to_srgb(views.mean(0)).clamp(0, 1))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path, help="folder of photos (examples/)")
    parser.add_argument("out", type=Path, help="the video to write (.mp4, .mkv, .mov)")
    parser.add_argument("--size", default="640x360", help="WIDTHxHEIGHT (640x360)")
    parser.add_argument("--rate", type=int, default=25, help="frames per second (25)")
    parser.add_argument("--seconds", type=float, default=1.5, help="per photo (1.5)")
    parser.add_argument("--subframes", type=int, default=9, help="shutter samples per frame (9)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import av

    width, height = (int(v) for v in args.size.split("x"))
    generator = torch.Generator().manual_seed(args.seed)
    photos = find_images([str(args.photos)])
    if not photos:
        parser.error(f"no photos in {args.photos}")
    per_shot = max(1, round(args.seconds * args.rate))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(args.out), "w") as container:
        video = container.add_stream("libx264", rate=args.rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "18"}
        sound = container.add_stream("aac", rate=22050)
        count = 0
        for photo_path in photos:
            photo = read_image(photo_path).rgb
            for frame in _shot(photo, width, height, per_shot, args.subframes, generator):
                pixels = (frame * 255).round().byte().permute(1, 2, 0).numpy()
                packet_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), "rgb24")
                packet_frame.pts = count
                for packet in video.encode(packet_frame):
                    container.mux(packet)
                count += 1
        for packet in video.encode():
            container.mux(packet)
        seconds = np.arange(int(22050 * count / args.rate)) / 22050
        tone = 0.1 * (np.sin(2 * np.pi * 220 * seconds) + np.sin(2 * np.pi * 330 * seconds))
        for start in range(0, len(tone), 1024):
            block = av.AudioFrame.from_ndarray(
                tone[start : start + 1024].astype(np.float32)[None], format="fltp", layout="mono"
            )
            block.sample_rate, block.pts = 22050, start
            for packet in sound.encode(block):
                container.mux(packet)
        for packet in sound.encode():
            container.mux(packet)
    print(f"{args.out}: {count} frames, {width}x{height} at {args.rate} fps, with sound")
    return 0


if __name__ == "__main__":
    sys.exit(main())
