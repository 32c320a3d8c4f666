"""Argument types shared by the ``deblur`` subcommands: each turns bad text into a usage error."""

from __future__ import annotations

import argparse
import math

__all__ = [
    "add_running_options",
    "image_size",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "quality",
]


def _number(text: str, kind: type[int] | type[float], what: str) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what} (finite), got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1.

    Example:
        >>> positive_int("3")
        3
    """
    value = int(_number(text, int, "a positive integer"))
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = int(_number(text, int, "an integer >= 0"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = float(_number(text, float, "a positive number"))
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0.

    Example:
        >>> non_negative_float("nan")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: expected a number >= 0 (finite), got 'nan'
    """
    value = float(_number(text, float, "a number >= 0"))
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def quality(text: str) -> int:
    """A JPEG/WebP quality, an integer from 1 to 100."""
    value = positive_int(text)
    if value > 100:
        raise argparse.ArgumentTypeError(f"expected an integer from 1 to 100, got {text!r}")
    return value


def image_size(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` as ``(width, height)``, both positive.

    Example:
        >>> image_size("1280x720")
        (1280, 720)
    """
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 1280x720, got {text!r}"
        ) from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"width and height must be positive, got {text!r}")
    return width, height


def add_running_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """How a generator runs, the same in every command that restores images.

    ``--device``, ``--precision``, ``--tile-size``, ``--tile-overlap`` and ``--threads`` (the
    keyword arguments of :class:`deblurgan.inference.Deblurrer`).

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_running_options(parser)
        >>> args = parser.parse_args(["--tile-size", "512"])
        >>> args.device, args.precision, args.tile_size, args.tile_overlap, args.threads
        ('auto', 'fp32', 512, 64, None)
    """
    parser.add_argument(
        "--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)"
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "fp16", "bf16"),
        default="fp32",
        help="fp16 needs CUDA; bf16 works on CUDA and CPU (default: %(default)s)",
    )
    parser.add_argument(
        "--tile-size",
        type=positive_int,
        default=1024,
        metavar="N",
        help="run larger images in overlapping N x N tiles (default: %(default)s)",
    )
    parser.add_argument(
        "--tile-overlap",
        type=non_negative_int,
        default=64,
        metavar="N",
        help="overlap between tiles, blended smoothly (default: %(default)s)",
    )
    parser.add_argument("--threads", type=positive_int, metavar="N", help="CPU threads for torch")
