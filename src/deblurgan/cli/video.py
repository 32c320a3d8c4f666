"""``deblur video IN [-o OUT]``: restore every frame of a video, keeping its sound and timing.

``deblur IN.mp4`` (one input with a video extension) runs this command too. The output keeps the
frame rate (frame by frame: variable rates stay variable), the orientation metadata and every
audio stream (copied, not re-encoded); it is H.264 at ``--crf 18`` by default, written to a
temporary file and renamed at the end.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from deblurgan.cli.arguments import add_running_options, non_negative_int, positive_int
from deblurgan.cli.shared import (
    add_backend_option,
    add_download_options,
    check_download_options,
    load_deblurrer_auto,
    log_to_stderr,
)
from deblurgan.io.errors import one_line
from deblurgan.models.generator import arch_name

if TYPE_CHECKING:
    from deblurgan.inference import Deblurrer
    from deblurgan.io.video import VideoInfo

__all__ = ["build_parser", "default_video_output", "video_main"]

_PROG = "deblur video"
_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)


def _crf(text: str) -> int:
    value = non_negative_int(text)
    if value > 51:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 51, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur video``."""
    from deblurgan.io.video import CONTAINERS

    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Remove motion blur from every frame of a video; sound and timing kept.",
        epilog="exit codes: 0 written, 1 the video could not be read or written, 2 usage error",
    )
    parser.add_argument("input", metavar="IN", help="a video file FFmpeg reads")
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help=f"output video ({', '.join(CONTAINERS)}); default: <stem>_deblurred<ext> beside "
        "the input (.mp4 where the input's container cannot be written)",
    )
    parser.add_argument(
        "-m", "--model", default="default", help="model, as for 'deblur' (default: %(default)s)"
    )
    add_download_options(parser)
    add_running_options(parser)
    add_backend_option(parser, auto=True)
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help="frames per model call (default: 1 on CPU, 4 on a GPU)",
    )
    parser.add_argument(
        "--compare", action="store_true", help="write input and output side by side"
    )
    parser.add_argument(
        "--crf",
        type=_crf,
        default=18,
        help="quality, 0 (lossless) to 51; lower is better and larger (default: %(default)s)",
    )
    parser.add_argument(
        "--preset", choices=_PRESETS, default="medium", help="encoder speed (default: %(default)s)"
    )
    parser.add_argument(
        "--codec", default="libx264", help="FFmpeg video encoder (default: %(default)s)"
    )
    parser.add_argument(
        "--pixel-format",
        choices=("yuv420p", "yuv444p"),
        default="yuv420p",
        help="yuv420p plays everywhere but needs even sizes (an odd width or height is padded "
        "by one repeated row/column); yuv444p keeps the exact size (default: %(default)s)",
    )
    parser.add_argument(
        "-f", "--force", action="store_true", help="replace an existing output (never the input)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    return parser


def default_video_output(source: Path) -> Path:
    """``<stem>_deblurred<ext>`` beside ``source``; ``.mp4`` when its container is not written.

    Example:
        >>> default_video_output(Path("clips/a.MOV")), default_video_output(Path("b.avi"))
        (PosixPath('clips/a_deblurred.MOV'), PosixPath('b_deblurred.mp4'))
    """
    from deblurgan.io.video import CONTAINERS

    suffix = source.suffix if source.suffix.lower() in CONTAINERS else ".mp4"
    return source.with_name(f"{source.stem}_deblurred{suffix}")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


def video_main(argv: Sequence[str]) -> int:
    """Run ``deblur video``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    check_download_options(parser, [args.model], args)
    from deblurgan.io import printable
    from deblurgan.io.video import CONTAINERS, VideoError, probe_video

    source = Path(args.input)
    target = Path(args.output) if args.output else default_video_output(source)
    if target.suffix.lower() not in CONTAINERS:
        parser.error(
            f"cannot write {target.suffix or 'extensionless'!r} videos (-o {target}); "
            f"use one of {' '.join(CONTAINERS)}"
        )
    if _same_file(source, target):
        print(
            f"deblur: error: {printable(target)}: is the input (inputs are never overwritten)",
            file=sys.stderr,
        )
        return 1
    if target.exists() and not args.force:
        print(
            f"deblur: error: {printable(target)}: exists (use --force to replace it)",
            file=sys.stderr,
        )
        return 1
    try:
        info = probe_video(source)
    except (VideoError, ImportError) as exc:
        print(f"deblur: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    with log_to_stderr("deblur", args.quiet):
        megapixels = info.frames * info.width * info.height / 1e6  # 0 frames: unknown, eager
        try:
            deblurrer = load_deblurrer_auto(args, "deblur", megapixels)
        except ValueError as exc:
            print(f"deblur: error: {one_line(exc)}", file=sys.stderr)
            return 2
        return _run(args, deblurrer, source, target, info)


def _run(
    args: argparse.Namespace, deblurrer: Deblurrer, source: Path, target: Path, info: VideoInfo
) -> int:
    from tqdm import tqdm

    from deblurgan.inference.deblurrer import ModelOutputError
    from deblurgan.inference.video import deblur_video, default_batch_size
    from deblurgan.io import printable
    from deblurgan.io.video import VideoError

    batch = args.batch_size or default_batch_size(deblurrer)
    if not args.quiet:
        arch = arch_name(deblurrer.model)
        frames = f"{info.frames} frames" if info.frames else "frames"
        audio = f", {info.audio_streams} audio stream(s) copied" if info.audio_streams else ""
        print(
            f"deblur: {printable(source)}: {info.width}x{info.height}, {frames} at "
            f"{float(info.rate):.3g} fps ({info.codec}){audio}; model {args.model} ({arch}) on "
            f"{deblurrer.device}, {deblurrer.precision}, backend {args.backend}, {batch} frame(s) "
            "per call",
            file=sys.stderr,
        )
        width = info.width * (2 if args.compare else 1)
        if args.pixel_format == "yuv420p" and (width % 2 or info.height % 2):
            print(
                f"deblur: note: {width}x{info.height} is odd and yuv420p needs even sizes: "
                "padded by repeating the last row/column (--pixel-format yuv444p keeps it exact)",
                file=sys.stderr,
            )
    show = not args.quiet and sys.stderr.isatty()
    with tqdm(
        total=info.frames or None, file=sys.stderr, disable=not show, unit="frame", desc="deblur"
    ) as bar:
        try:
            result = deblur_video(
                deblurrer,
                source,
                target,
                compare=args.compare,
                batch_size=batch,
                crf=args.crf,
                preset=args.preset,
                codec=args.codec,
                pixel_format=args.pixel_format,
                progress=bar.update,
            )
        except (VideoError, ValueError) as exc:
            bar.close()
            status = 2 if isinstance(exc, ModelOutputError) else 1
            print(f"deblur: error: {' '.join(str(exc).split())}", file=sys.stderr)
            return status
    if not args.quiet:
        print(
            f"{result.frames} frames restored -> {printable(result.path)} "
            f"({result.width}x{result.height})"
        )
    return 0
