"""Deblur video files frame by frame, streaming (DeblurGAN-v2's video use, Kupyn et al., 2019).

The frames go through the same :class:`~deblurgan.inference.Deblurrer` as photos (padding,
tiling, precision, device), in batches of ``batch_size``; decoding, encoding, audio copy and the
atomic write are :func:`deblurgan.io.video.transform_video`'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
from torch import Tensor

from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.io.video import VideoResult, transform_video

__all__ = ["deblur_video", "default_batch_size"]


def default_batch_size(deblurrer: Deblurrer) -> int:
    """Frames per model call: 1 on CPU (no gain from batching there), 4 on a GPU.

    Example:
        >>> from torch import nn
        >>> default_batch_size(Deblurrer(nn.Identity(), device="cpu"))
        1
    """
    return 1 if deblurrer.device.type == "cpu" else 4


def deblur_video(
    deblurrer: Deblurrer,
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    compare: bool = False,
    batch_size: int | None = None,
    crf: int = 18,
    preset: str = "medium",
    codec: str = "libx264",
    pixel_format: str = "yuv420p",
    progress: Callable[[int], object] | None = None,
) -> VideoResult:
    """Restore every frame of ``source`` and write the video to ``target`` (atomically).

    Args:
        deblurrer: the restoring model.
        source: the blurry video.
        target: the output (``.mp4``, ``.m4v``, ``.mov`` or ``.mkv``).
        compare: write the input and the output side by side (twice the width).
        batch_size: frames per model call; ``None``: :func:`default_batch_size`.
        crf: H.264/H.265 constant rate factor (0 lossless .. 51; 18 is visually lossless).
        preset: encoder speed preset.
        codec: FFmpeg encoder.
        pixel_format: ``yuv420p`` (odd sizes padded to even) or ``yuv444p`` (exact size).
        progress: called with the number of frames done after each batch.

    Raises:
        VideoError: an unreadable source or unwritable target (one line).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from torch import nn
        >>> from deblurgan.io.video import probe_video
        >>> folder = Path(tempfile.mkdtemp())
        >>> frames = iter([torch.rand(3, 16, 16) for _ in range(3)])
        >>> _ = transform_video(None, folder / "in.mp4", lambda x: x, frames=frames)
        >>> result = deblur_video(Deblurrer(nn.Identity(), device="cpu"), folder / "in.mp4",
        ...                       folder / "out.mp4", compare=True)
        >>> result.frames, probe_video(result.path).width
        (3, 32)
    """

    def transform(batch: Tensor) -> Tensor:
        restored = deblurrer(batch)
        return torch.cat([batch, restored], dim=-1) if compare else restored

    return transform_video(
        source,
        target,
        transform,
        batch_size=batch_size or default_batch_size(deblurrer),
        codec=codec,
        crf=crf,
        preset=preset,
        pixel_format=pixel_format,
        progress=progress,
    )
