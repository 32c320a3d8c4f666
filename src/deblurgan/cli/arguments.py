"""Argument types shared by the ``deblur`` subcommands: each turns bad text into a usage error."""

from __future__ import annotations

import argparse
import math

__all__ = [
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
