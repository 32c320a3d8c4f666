"""Start-up checks shared by every dataset: read image headers, collect all problems, raise once.

A broken dataset must fail when it is built, with every offending file listed, not in the middle
of an epoch. The checks read image headers only (size and EXIF orientation), so thousands of
files are checked in seconds; ``decode=True`` decodes every pixel as well, which also catches
truncated files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "DatasetError",
    "check_image",
    "check_min_size",
    "image_size",
    "raise_if_problems",
]

# EXIF orientations that swap width and height once the picture is turned upright.
_TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_ORIENTATION_TAG = 0x0112


class DatasetError(ValueError):
    """A dataset that cannot be used; the message lists every problem, one per line.

    Args:
        where: what was checked (``"paired dataset /data/gopro/train"``).
        problems: one ``"<path>: <problem>"`` line each.

    Attributes:
        problems: the problem lines, for programs (``deblur data check``) to report.

    Example:
        >>> str(DatasetError("dataset x", ["a.png: no sharp partner"]))
        '1 problem(s) in dataset x:\\n  a.png: no sharp partner'
    """

    def __init__(self, where: str, problems: Sequence[str]) -> None:
        self.where = where
        self.problems = list(problems)
        super().__init__(
            f"{len(self.problems)} problem(s) in {where}:\n  " + "\n  ".join(self.problems)
        )


def image_size(path: str | os.PathLike[str], *, decode: bool = False) -> tuple[int, int]:
    """``(height, width)`` of an image as :func:`deblurgan.io.read_image` returns it (upright).

    Reads the header only: the size, and the EXIF orientation, which swaps the sides of photos
    taken on their side. ``decode=True`` decodes the whole file instead (slow; catches truncation).

    Args:
        path: the image file.
        decode: decode every pixel.

    Raises:
        OSError, ValueError: the file cannot be read (Pillow's and :class:`ImageError`'s errors).

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> file = Path(tempfile.mkdtemp()) / "a.png"
        >>> Image.new("RGB", (8, 6)).save(file)
        >>> image_size(file), image_size(file, decode=True)
        ((6, 8), (6, 8))
    """
    if decode:
        from deblurgan.io import read_image

        rgb = read_image(path, max_pixels=None).rgb
        return int(rgb.shape[-2]), int(rgb.shape[-1])
    from PIL import Image

    with Image.open(path) as image:
        height, width = int(image.height), int(image.width)
        try:
            orientation = int(image.getexif().get(_ORIENTATION_TAG, 1))
        except Exception:  # a corrupt EXIF block: read_image ignores it too
            orientation = 1
    if orientation in _TRANSPOSING_ORIENTATIONS:
        return width, height
    return height, width


def check_image(
    path: str | os.PathLike[str], problems: list[str], *, decode: bool = False
) -> tuple[int, int] | None:
    """The size of ``path``, or ``None`` after appending why it cannot be read to ``problems``.

    Example:
        >>> problems: list[str] = []
        >>> check_image("missing.png", problems), problems
        (None, ['missing.png: unreadable (no such file)'])
    """
    path = Path(path)
    if not path.is_file():
        problems.append(f"{path}: unreadable ({'a folder' if path.is_dir() else 'no such file'})")
        return None
    try:
        return image_size(path, decode=decode)
    except Exception as exc:  # Pillow raises OSError, ValueError, SyntaxError, DecompressionBomb*
        detail = str(exc).removeprefix(f"{path}: ") or type(exc).__name__
        problems.append(f"{path}: unreadable ({type(exc).__name__}: {detail})")
        return None


def check_min_size(
    path: str | os.PathLike[str],
    size: tuple[int, int],
    min_size: int | tuple[int, int] | None,
    problems: list[str],
    *,
    what: str = "the crop size",
) -> bool:
    """Whether ``size`` (height, width) holds ``min_size``; if not, say so in ``problems``.

    Example:
        >>> problems: list[str] = []
        >>> check_min_size("a.png", (6, 8), 7, problems), problems
        (False, ['a.png: 8x6 is smaller than the crop size 7x7'])
    """
    if min_size is None:
        return True
    need_h, need_w = (min_size, min_size) if isinstance(min_size, int) else min_size
    height, width = size
    if height >= need_h and width >= need_w:
        return True
    problems.append(f"{path}: {width}x{height} is smaller than {what} {need_w}x{need_h}")
    return False


def raise_if_problems(problems: Sequence[str], where: str) -> None:
    """Raise one :class:`DatasetError` listing ``problems`` if there are any.

    Example:
        >>> raise_if_problems([], "dataset x")  # nothing to report
    """
    if problems:
        raise DatasetError(where, problems)
