"""Video files in and out with PyAV (the ``video`` extra): probe, and map frames through a function.

:func:`transform_video` streams a video through a function on batches of float RGB frames: it
decodes, calls the function, encodes (H.264 by default) and copies every audio stream packet by
packet (remuxed, not re-encoded), so memory stays bounded whatever the length. Timestamps are
kept frame by frame (a variable frame rate stays variable), and so is the orientation (the display
matrix of phones' portrait videos is written back as metadata; the pixels stay as stored). The
output is written to a temporary file beside the target and renamed at the end
(:func:`~deblurgan.io.atomic.atomic_write`), so an interrupted run leaves nothing at the target.

H.264 in yuv420p (the format every player reads) needs even widths and heights. An odd frame is
padded by repeating its last row or column up to even; ``pixel_format="yuv444p"`` keeps the exact
size instead (High 4:4:4 profile, which fewer players support). Every failure that is the file's
fault raises :class:`VideoError`, one line ``"<path>: <problem>"``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
from torch import Tensor

from deblurgan.io.atomic import atomic_write
from deblurgan.io.errors import ImageError

__all__ = [
    "PIXEL_FORMATS",
    "VIDEO_EXTENSIONS",
    "VideoError",
    "VideoInfo",
    "VideoResult",
    "is_video_path",
    "probe_video",
    "transform_video",
]

logger = logging.getLogger(__name__)

#: Output extensions -> FFmpeg muxer. Inputs may be anything FFmpeg reads.
CONTAINERS: dict[str, str] = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
#: Extensions recognised as videos when looking at input names (``deblur IN.mp4``).
VIDEO_EXTENSIONS = (
    *CONTAINERS,
    ".avi",
    ".webm",
    ".mpg",
    ".mpeg",
    ".ts",
    ".m2ts",
    ".mts",
    ".wmv",
    ".flv",
    ".3gp",
)
PIXEL_FORMATS = ("yuv420p", "yuv444p")
_IMAGE_DEMUXERS = ("image2", "_pipe", "gif", "apng", "webp")


class VideoError(ImageError):
    """A video file that cannot be found, read, decoded or written: ``"<path>: <problem>"``."""


def is_video_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a video by its extension (case-insensitive).

    Example:
        >>> is_video_path("holiday/CLIP.MP4"), is_video_path("photo.jpg")
        (True, False)
    """
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def _import_av() -> Any:
    try:
        import av
    except ImportError as exc:
        raise ImportError(f"videos need PyAV: pip install 'deblurgan[video]' ({exc})") from exc
    return av


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` finds: the first video stream and the audio beside it.

    ``frames`` is 0 when the container does not say; ``rate`` is the average (nominal) frame
    rate; ``rotation`` the display rotation in degrees (counter-clockwise, as FFmpeg reports it).
    """

    width: int
    height: int
    rate: Fraction
    frames: int
    rotation: int
    codec: str
    audio_streams: int
    duration_s: float | None


@dataclass(frozen=True)
class VideoResult:
    """What :func:`transform_video` wrote."""

    path: Path
    frames: int
    width: int
    height: int
    padded: bool
    audio_streams: int


def _problem(exc: BaseException) -> str:
    text = str(getattr(exc, "strerror", None) or exc)
    return " ".join(text.split())


def _open_input(av: Any, source: Path) -> Any:
    if not source.exists():
        raise VideoError(source, "no such file")
    if source.is_dir():
        raise VideoError(source, "is a folder, not a video file")
    try:
        container = av.open(os.fspath(source), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise VideoError(
            source, f"not a video file FFmpeg can read, or truncated ({_problem(exc)})"
        ) from exc
    name = container.format.name
    if any(part in name for part in _IMAGE_DEMUXERS):
        container.close()
        raise VideoError(source, f"is an image ({name}), not a video: restore it with 'deblur'")
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["no streams"]
        container.close()
        raise VideoError(source, f"no video stream in this file (it holds {', '.join(kinds)})")
    return container


def _stream_duration(stream: Any) -> float | None:
    """The video stream's own duration in seconds (the stream header's, or Matroska's tag)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    if tag:
        try:
            hours, minutes, seconds = tag.split(":")
            return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        except ValueError:
            return None
    return None


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Open a video and decode its first frame: size, frame rate, orientation, audio.

    Args:
        path: a file FFmpeg reads (MP4, MOV, MKV, AVI, WebM, ...).

    Raises:
        ImportError: PyAV is missing (``pip install 'deblurgan[video]'``).
        VideoError: missing file, not a video, no video stream, no decodable frame.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "grey.mp4"
        >>> _ = transform_video(None, path, lambda x: x, frames=iter([torch.full((3, 8, 8), .5)]))
        >>> info = probe_video(path)
        >>> info.width, info.height, info.frames, info.audio_streams
        (8, 8, 1, 0)
    """
    av = _import_av()
    source = Path(path)
    container = _open_input(av, source)
    try:
        stream = container.streams.video[0]
        try:
            first = next(container.decode(stream), None)
        except av.FFmpegError as exc:
            raise VideoError(source, f"cannot decode the video ({_problem(exc)})") from exc
        if first is None:
            raise VideoError(source, "the video stream holds no frame (empty or truncated file)")
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        duration = _stream_duration(stream)
        return VideoInfo(
            width=first.width,
            height=first.height,
            rate=Fraction(rate),
            frames=int(stream.frames or 0),
            rotation=int(getattr(first, "rotation", 0) or 0),
            codec=stream.codec_context.name,
            audio_streams=len(container.streams.audio),
            duration_s=duration,
        )
    finally:
        container.close()


def _frame_to_tensor(frame: Any) -> Tensor:
    deep = max(c.bits for c in frame.format.components) > 8
    array = frame.to_ndarray(format="rgb48le" if deep else "rgb24")
    scale = 65535.0 if deep else 255.0
    return torch.from_numpy(array.astype(np.float32) / scale).permute(2, 0, 1)


def _tensor_to_array(image: Tensor, height: int, width: int) -> np.ndarray:
    """``(3, h, w)`` float in [0, 1] -> ``(height, width, 3)`` uint8, edge-padded up to size."""
    array = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
    array_np = array.permute(1, 2, 0).cpu().numpy()
    pad_h, pad_w = height - array_np.shape[0], width - array_np.shape[1]
    if pad_h or pad_w:
        array_np = np.pad(array_np, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return np.ascontiguousarray(array_np)


@dataclass
class _Pending:
    tensors: list[Tensor]
    stamps: list[tuple[int | None, Fraction | None]]


def transform_video(
    source: str | os.PathLike[str] | None,
    target: str | os.PathLike[str],
    transform: Callable[[Tensor], Tensor],
    *,
    batch_size: int = 1,
    codec: str = "libx264",
    crf: int = 18,
    preset: str = "medium",
    pixel_format: str = "yuv420p",
    progress: Callable[[int], object] | None = None,
    frames: Iterator[Tensor] | None = None,
    rate: Fraction | int = 25,
) -> VideoResult:
    """Decode ``source``, pass its frames through ``transform`` in batches, encode to ``target``.

    Audio streams are copied packet by packet; subtitle and data streams are dropped (logged).
    Each output frame keeps its input frame's timestamp. The target's extension picks the
    container (``.mp4``, ``.m4v``, ``.mov``, ``.mkv``); it is written atomically.

    Args:
        source: the input video; ``None`` to encode ``frames`` instead (tests, demos).
        target: the output file. The caller decides whether it may replace an existing file.
        transform: ``(B, 3, H, W)`` float RGB in [0, 1] -> ``(B, 3, H', W')`` (the output size
            must stay the same for every batch, e.g. twice the width for a side-by-side view).
        batch_size: frames per call of ``transform``.
        codec: FFmpeg encoder (``libx264``, ``libx265``, ...).
        crf: constant rate factor, 0 (lossless) to 51; lower is better and larger.
        preset: the encoder's speed/size trade-off (``ultrafast`` ... ``veryslow``).
        pixel_format: ``yuv420p`` (odd sizes padded to even) or ``yuv444p`` (exact size).
        progress: called with the number of frames written after each batch.
        frames: ``(3, H, W)`` frames to encode when ``source`` is ``None``.
        rate: their frame rate.

    Raises:
        ImportError: PyAV missing.
        VideoError: the source cannot be read (not a video, no video stream, truncated, frame
            size changing mid-stream) or the target cannot be written; nothing is left at
            ``target`` then.
    """
    av = _import_av()
    target = Path(target)
    muxer = CONTAINERS.get(target.suffix.lower())
    if muxer is None:
        raise VideoError(
            target,
            f"cannot write {target.suffix or 'extensionless'} videos; use one of "
            f"{' '.join(CONTAINERS)}",
        )
    if pixel_format not in PIXEL_FORMATS:
        raise ValueError(f"pixel_format must be one of {PIXEL_FORMATS}, got {pixel_format!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not 0 <= crf <= 51:
        raise ValueError(f"crf must be in 0..51, got {crf}")
    where = Path(source) if source is not None else target
    container = _open_input(av, where) if source is not None else None
    try:
        if container is not None:
            info = probe_video(where)
            in_video = container.streams.video[0]
            in_video.thread_type = "AUTO"
            in_audio = list(container.streams.audio)
            others = [s for s in container.streams if s.type not in ("video", "audio")]
            if others:
                logger.warning("%s: %d %s stream(s) not copied", where, len(others), others[0].type)
            time_base = in_video.time_base
            out_rate = info.rate
        else:
            in_video, in_audio, time_base, out_rate = None, [], None, Fraction(rate)
        state: dict[str, Any] = {"written": 0, "size": None, "padded": False, "end": None}

        def write(file: BinaryIO) -> None:
            output = av.open(file, "w", format=muxer)
            try:
                _stream(
                    av,
                    output,
                    container,
                    in_video,
                    in_audio,
                    time_base,
                    out_rate,
                    frames,
                    transform,
                    state,
                    batch_size=batch_size,
                    codec=codec,
                    crf=crf,
                    preset=preset,
                    pixel_format=pixel_format,
                    progress=progress,
                    rotation=info.rotation if container is not None else 0,
                    where=where,
                )
            finally:
                output.close()
            if container is not None:
                _check_complete(where, info, state)  # before the rename: nothing at the target

        try:
            atomic_write(target, write)
        except av.FFmpegError as exc:
            raise VideoError(where, f"cannot deblur the video ({_problem(exc)})") from exc
        except OSError as exc:
            raise VideoError(target, f"cannot write ({_problem(exc)})") from exc
    finally:
        if container is not None:
            container.close()
    width, height = state["size"] or (0, 0)
    return VideoResult(target, state["written"], width, height, state["padded"], len(in_audio))


def _check_complete(where: Path, info: VideoInfo, state: dict[str, Any]) -> None:
    written = state["written"]
    if info.frames and written < info.frames:
        raise VideoError(
            where, f"the video is truncated: {written} of {info.frames} frames decoded"
        )
    end, duration, step = state["end"], info.duration_s, 1 / float(info.rate)
    if duration and end is not None and end + step < duration - 2 * step - 0.01 * duration:
        raise VideoError(
            where,
            f"the video is truncated: it stops at {end:.2f} s of {duration:.2f} s "
            f"({written} frames decoded)",
        )


def _stream(
    av: Any,
    output: Any,
    container: Any,
    in_video: Any,
    in_audio: list[Any],
    time_base: Fraction | None,
    rate: Fraction,
    frames: Iterator[Tensor] | None,
    transform: Callable[[Tensor], Tensor],
    state: dict[str, Any],
    *,
    batch_size: int,
    codec: str,
    crf: int,
    preset: str,
    pixel_format: str,
    progress: Callable[[int], object] | None,
    rotation: int,
    where: Path,
) -> None:
    out_audio = {s.index: output.add_stream_from_template(s) for s in in_audio}
    video: Any = None  # created at the first batch, when the output size is known
    pending = _Pending([], [])
    last_pts = -1
    # The header is written at the first mux and fixes the streams: audio waits for the video
    # stream, which is added when the first batch gives the output size (a batch of packets).
    early_audio: list[Any] = []

    def flush() -> None:
        nonlocal video, last_pts
        if not pending.tensors:
            return
        batch = torch.stack(pending.tensors)
        restored = transform(batch)
        if restored.dim() != 4 or restored.shape[0] != batch.shape[0]:
            raise ValueError(f"transform returned {tuple(restored.shape)} for {tuple(batch.shape)}")
        h, w = restored.shape[-2:]
        if video is None:
            even = pixel_format == "yuv420p"
            out_h, out_w = (h + h % 2, w + w % 2) if even else (h, w)
            state["size"], state["padded"] = (out_w, out_h), (out_h, out_w) != (h, w)
            video = output.add_stream(codec, rate=rate)
            video.width, video.height, video.pix_fmt = out_w, out_h, pixel_format
            if time_base is not None:  # the encoder too, or it rounds stamps to 1 / rate
                video.time_base = video.codec_context.time_base = time_base
            video.options = {"crf": str(crf), "preset": preset}
            if rotation:
                video.set_display_rotation(rotation)
            state["shape"] = (h, w)
            for packet in early_audio:
                output.mux(packet)
            early_audio.clear()
        if state["shape"] != (h, w):
            raise VideoError(where, f"the frame size changed mid-stream to {w}x{h}")
        out_w, out_h = state["size"]
        for image, (pts, tb) in zip(restored, pending.stamps, strict=True):
            frame = av.VideoFrame.from_ndarray(_tensor_to_array(image, out_h, out_w), "rgb24")
            if pts is None or pts <= last_pts:  # missing or repeated stamps: keep them increasing
                pts = last_pts + 1 if tb is not None else state["written"]
            frame.pts, last_pts = pts, pts
            if tb is not None:
                frame.time_base = tb
            else:
                frame.time_base = 1 / rate
            for packet in video.encode(frame):
                output.mux(packet)
            state["written"] += 1
        if progress is not None:
            progress(len(pending.tensors))
        pending.tensors.clear()
        pending.stamps.clear()

    def add(image: Tensor, pts: int | None, tb: Fraction | None) -> None:
        pending.tensors.append(image)
        pending.stamps.append((pts, tb))
        if len(pending.tensors) >= batch_size:
            flush()

    if container is None:
        for image in frames or iter(()):
            add(image, None, None)
    else:
        try:
            for packet in container.demux(in_video, *in_audio):
                if packet.stream.type == "audio":
                    if packet.dts is None:  # the demuxer's end-of-stream marker
                        continue
                    packet.stream = out_audio[packet.stream.index]
                    if video is None:
                        early_audio.append(packet)
                    else:
                        output.mux(packet)
                    continue
                for decoded in packet.decode():  # an empty packet flushes the decoder
                    if decoded.time is not None:
                        state["end"] = float(decoded.time)
                    add(_frame_to_tensor(decoded), decoded.pts, decoded.time_base)
        except av.FFmpegError as exc:
            if isinstance(exc, getattr(av, "MuxerError", ())) or "mux" in _problem(exc).lower():
                raise
            raise VideoError(
                where,
                f"cannot decode the video after {state['written'] + len(pending.tensors)} "
                f"frames, truncated or damaged ({_problem(exc)})",
            ) from exc
    flush()
    if video is None:
        raise VideoError(where, "the video stream holds no frame (empty or truncated file)")
    for packet in video.encode():
        output.mux(packet)
