"""Real blur from high-frame-rate video: average N consecutive frames (the GoPro recipe).

Nah et al. (2017, "Deep multi-scale convolutional neural network for dynamic scene deblurring")
built the GoPro dataset by averaging 7 to 13 consecutive 240 fps frames into one blurry frame and
keeping the middle frame as its sharp target. :func:`video_pairs` does the same with any video,
so a user with an action camera can make their own training pairs; :func:`frame_pairs` works on
any sequence of frames (for example a folder of images read in order).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from deblurgan.blur.degrade import Gamma, decode_gamma, encode_gamma, parse_gamma

__all__ = [
    "FramePair",
    "average_frames",
    "draw_odd",
    "frame_pairs",
    "import_av",
    "odd_counts",
    "read_video_frames",
    "video_pairs",
]

FrameCount = int | tuple[int, int]


def odd_counts(num_frames: FrameCount) -> tuple[int, ...]:
    """The odd counts allowed by ``num_frames``: an odd integer, or the odd ones in ``(lo, hi)``.

    Example:
        >>> odd_counts((7, 13)), odd_counts(5)
        ((7, 9, 11, 13), (5,))
    """
    if isinstance(num_frames, int) and not isinstance(num_frames, bool):
        lo = hi = num_frames
    elif (
        isinstance(num_frames, tuple | list)
        and len(num_frames) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in num_frames)
    ):
        lo, hi = int(num_frames[0]), int(num_frames[1])
    else:
        raise ValueError(
            f"num_frames must be an odd integer or a (low, high) pair, got {num_frames!r}"
        )
    if lo < 1 or lo > hi:
        raise ValueError(f"num_frames must satisfy 1 <= low <= high, got {num_frames!r}")
    counts = tuple(n for n in range(lo, hi + 1) if n % 2 == 1)
    if not counts:
        raise ValueError(
            f"num_frames must allow an odd count (the sharp target is the middle frame), "
            f"got {num_frames!r}"
        )
    return counts


def draw_odd(counts: tuple[int, ...], generator: torch.Generator | None) -> int:
    """One of ``counts``, uniformly; needs ``generator`` only when there is a choice.

    Example:
        >>> draw_odd((7,), None)
        7
    """
    if len(counts) == 1:
        return counts[0]
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"a range of frame counts {counts} needs a torch.Generator, got {type(generator)}"
        )
    return counts[int(torch.randint(len(counts), (1,), generator=generator))]


def average_frames(frames: Tensor, *, gamma: Gamma = "srgb") -> tuple[Tensor, Tensor]:
    """Average an odd number of frames into a blurry frame; the middle frame is its sharp target.

    Args:
        frames: ``(N, C, H, W)`` consecutive frames in [0, 1], ``N`` odd.
        gamma: average in linear light through this curve (``"srgb"``, default), a power
            (2.2 gives GoPro's ``blur_gamma``) or ``None`` to average the encoded values
            (GoPro's ``blur``).

    Returns:
        ``(blurry, sharp)``, each ``(C, H, W)``; ``sharp`` is ``frames[N // 2]`` itself.

    Shape:
        - frames: ``(N, C, H, W)``; outputs: ``(C, H, W)``

    Example:
        >>> frames = torch.stack([torch.full((3, 2, 2), v) for v in (0.0, 0.5, 1.0)])
        >>> blurry, sharp = average_frames(frames, gamma=None)
        >>> float(blurry.mean()), float(sharp.mean())
        (0.5, 0.5)
    """
    if not isinstance(frames, Tensor):
        raise TypeError(f"frames must be a torch.Tensor, got {type(frames)}")
    if frames.ndim != 4:
        raise ValueError(f"frames must have shape (N, C, H, W), got {tuple(frames.shape)}")
    n = frames.shape[0]
    if n % 2 == 0:
        raise ValueError(f"the number of frames must be odd (the middle one is sharp), got {n}")
    gamma = parse_gamma(gamma)
    work = torch.float64 if frames.dtype == torch.float64 else torch.float32
    light = decode_gamma(frames.to(work), gamma)
    blurry = encode_gamma(light.mean(dim=0), gamma).clamp(0.0, 1.0).to(frames.dtype)
    return blurry, frames[n // 2]


@dataclass
class FramePair:
    """One blurry frame made of ``num_frames`` consecutive frames, and its sharp middle frame.

    Args:
        blurry: ``(3, H, W)`` average of frames ``start .. start + num_frames - 1``.
        sharp: ``(3, H, W)`` frame ``middle``.
        start: index (from 0) of the first frame averaged.
        num_frames: how many frames were averaged (odd).
    """

    blurry: Tensor
    sharp: Tensor
    start: int
    num_frames: int

    @property
    def middle(self) -> int:
        """Index of the sharp frame."""
        return self.start + self.num_frames // 2


def frame_pairs(
    frames: Iterable[Tensor],
    *,
    num_frames: FrameCount = (7, 13),
    stride: int | None = None,
    gamma: Gamma = "srgb",
    generator: torch.Generator | None = None,
) -> Iterator[FramePair]:
    """Blurry/sharp pairs from a stream of frames, holding only one window in memory.

    Window ``j`` starts where window ``j - 1`` started plus ``stride`` (default: its length, so
    windows are consecutive and do not overlap) and spans ``num_frames`` frames, drawn per window
    among the odd counts of the range. A last window that runs past the end is dropped.

    Args:
        frames: ``(C, H, W)`` tensors in [0, 1], all the same size, in time order.
        num_frames: an odd count or a ``(low, high)`` range (GoPro: 7 to 13).
        stride: frames between window starts; ``None`` for back-to-back windows.
        gamma: averaging curve, as for :func:`average_frames`.
        generator: draws the window lengths; needed only for a range.

    Yields:
        :class:`FramePair` objects, in time order.

    Example:
        >>> stream = (torch.full((3, 4, 4), i / 10) for i in range(10))
        >>> pairs = list(frame_pairs(stream, num_frames=3, gamma=None))
        >>> [(p.start, p.middle) for p in pairs], round(float(pairs[1].blurry.mean()), 4)
        ([(0, 1), (3, 4), (6, 7)], 0.4)
    """
    counts = odd_counts(num_frames)
    if len(counts) > 1 and not isinstance(generator, torch.Generator):
        raise TypeError(f"num_frames={num_frames!r} is a range: pass a torch.Generator")
    if stride is not None and (
        not isinstance(stride, int) or isinstance(stride, bool) or stride < 1
    ):
        raise ValueError(f"stride must be a positive integer or None, got {stride!r}")
    return _windows(iter(frames), counts, stride, parse_gamma(gamma), generator)


def _windows(
    source: Iterator[Tensor],
    counts: tuple[int, ...],
    stride: int | None,
    gamma: Gamma,
    generator: torch.Generator | None,
) -> Iterator[FramePair]:
    buffer: list[Tensor] = []
    buffer_start = 0  # frame index of buffer[0]
    index = 0  # frames taken from the source so far
    start = 0
    shape: tuple[int, ...] | None = None

    def pull() -> Tensor | None:
        nonlocal index, shape
        try:
            frame = next(source)
        except StopIteration:
            return None
        if not isinstance(frame, Tensor) or frame.ndim != 3:
            got = tuple(frame.shape) if isinstance(frame, Tensor) else type(frame)
            raise ValueError(f"frame {index} must be a (C, H, W) tensor, got {got}")
        if shape is None:
            shape = tuple(frame.shape)
        elif tuple(frame.shape) != shape:
            raise ValueError(
                f"frame {index} has shape {tuple(frame.shape)}, the first frame {shape}: "
                "every frame must have the same size"
            )
        index += 1
        return frame

    while True:
        n = draw_odd(counts, generator)
        while buffer_start < start:  # skip what a stride larger than the window leaves out
            if buffer:
                buffer.pop(0)
            elif pull() is None:
                return
            buffer_start += 1
        while len(buffer) < n:
            frame = pull()
            if frame is None:
                return
            buffer.append(frame)
        blurry, sharp = average_frames(torch.stack(buffer[:n]), gamma=gamma)
        yield FramePair(blurry, sharp, start, n)
        start += n if stride is None else stride


def import_av() -> Any:
    """The ``av`` module (PyAV, the ``video`` extra); call it before any work on a video starts.

    Raises:
        ImportError: one line naming the extra to install.
    """
    try:
        import av
    except ImportError as exc:
        detail = " ".join(str(exc).split())
        raise ImportError(
            f"reading videos needs PyAV, the 'video' extra: pip install 'deblurgan[video]' "
            f"({detail})"
        ) from exc
    return av


def read_video_frames(path: str | os.PathLike[str]) -> Iterator[Tensor]:
    """Decode the first video stream of a file, frame by frame, with PyAV (the ``video`` extra).

    Frames of more than 8 bits per sample are decoded at 16 bits, so no precision is lost.
    Rotation metadata (phones' portrait videos) is not applied: frames come as stored.

    Args:
        path: a video file that FFmpeg reads (MP4, MOV, MKV, AVI, ...).

    Yields:
        float32 ``(3, H, W)`` RGB frames in [0, 1].

    Raises:
        ImportError: PyAV is not installed (``pip install 'deblurgan[video]'``).
        ValueError: ``"<path>: <problem>"`` when the file is missing, has no video or cannot be
            decoded.
    """
    av = import_av()
    name = os.fspath(path)
    try:
        with av.open(name) as container:
            if not container.streams.video:
                raise ValueError(f"{name}: no video stream in this file")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                deep = max(c.bits for c in frame.format.components) > 8
                if deep:
                    array = frame.to_ndarray(format="rgb48le")
                    scale = 65535.0
                else:
                    array = frame.to_ndarray(format="rgb24")
                    scale = 255.0
                tensor = torch.from_numpy(array.astype("float32")).permute(2, 0, 1)
                yield (tensor / scale).contiguous()
    except av.FFmpegError as exc:
        detail = " ".join(str(getattr(exc, "strerror", None) or exc).split())
        raise ValueError(f"{name}: cannot read video ({detail})") from exc


def video_pairs(
    path: str | os.PathLike[str],
    *,
    num_frames: FrameCount = (7, 13),
    stride: int | None = None,
    gamma: Gamma = "srgb",
    generator: torch.Generator | None = None,
) -> Iterator[FramePair]:
    """Blurry/sharp pairs from a high-frame-rate video, as the GoPro dataset was made.

    Decodes the video as it goes (one window of frames in memory) and averages windows of
    ``num_frames`` consecutive frames; see :func:`frame_pairs` for the windows. For realistic blur
    the video should be shot at a high frame rate (GoPro: 240 fps) with a short shutter, so each
    frame is sharp and consecutive frames overlap.

    Args:
        path: the video file.
        num_frames: an odd count or a ``(low, high)`` range of them (GoPro: 7 to 13).
        stride: frames between window starts; ``None`` for back-to-back windows.
        gamma: averaging curve (``"srgb"``, a power such as 2.2, or ``None``).
        generator: draws the window lengths; needed only for a range.

    Yields:
        :class:`FramePair` objects with float32 ``(3, H, W)`` images.

    Raises:
        ImportError: PyAV missing (``pip install 'deblurgan[video]'``).
        ValueError: unreadable video, bad settings.
    """
    import_av()
    if not os.path.isfile(path):
        raise ValueError(f"{os.fspath(path)}: no such video file")
    return frame_pairs(
        read_video_frames(path),
        num_frames=num_frames,
        stride=stride,
        gamma=gamma,
        generator=generator,
    )
