"""Small videos for tests, written with PyAV (a module of its own: ``conftest`` names several
files under tests/, so ``from conftest import ...`` depends on which was imported last)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_test_video(
    path: Path,
    *,
    frames: int = 5,
    size: tuple[int, int] = (64, 48),
    rate: int = 25,
    audio: bool = False,
    times: list[float] | None = None,
    rotation: int = 0,
    codec: str = "libx264",
) -> Path:
    """A tiny video written with PyAV: a bright square moving over a gradient.

    Args:
        path: the file; its extension picks the container.
        frames: how many frames.
        size: ``(width, height)``; odd sizes are written as yuv444p.
        rate: nominal frame rate.
        audio: add a mono AAC stream (a 440 Hz tone) as long as the video.
        times: each frame's time in seconds (a variable frame rate); default ``i / rate``.
        rotation: display rotation metadata in degrees.
        codec: video encoder.
    """
    from fractions import Fraction

    import av

    width, height = size
    time_base = Fraction(1, 1000)
    times = times if times is not None else [i / rate for i in range(frames)]
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=rate)
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        video.time_base = video.codec_context.time_base = time_base
        if rotation:
            video.set_display_rotation(rotation)
        sound = container.add_stream("aac", rate=8000) if audio else None
        y, x = np.mgrid[0:height, 0:width]
        for i, t in enumerate(times):
            pixels = np.stack(
                [x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), np.full_like(x, 80)],
                axis=-1,
            ).astype(np.uint8)
            left = (4 + 3 * i) % max(width - 8, 1)
            pixels[height // 3 : height // 3 + 8, left : left + 8] = 255
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = round(t / time_base), time_base
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            duration = (times[-1] if times else 0) + 1 / rate
            samples = np.sin(2 * np.pi * 440 * np.arange(int(8000 * duration)) / 8000)
            for start in range(0, len(samples), 1024):
                chunk = samples[start : start + 1024].astype(np.float32)[None]
                block = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                block.sample_rate, block.pts = 8000, start
                for packet in sound.encode(block):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return path
