"""Expand command-line inputs (files, folders, glob patterns) into a sorted list of image files."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from deblurgan.io.errors import ImageError

__all__ = ["IMAGE_EXTENSIONS", "find_images", "is_image_path"]

#: File extensions (lower case) that folder and glob expansion treat as images. Every one of them
#: is readable by :func:`deblurgan.io.read_image`.
IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".bmp",
    ".jpeg",
    ".jpg",
    ".pgm",
    ".png",
    ".pnm",
    ".ppm",
    ".tif",
    ".tiff",
    ".webp",
)

_GLOB_CHARS = frozenset("*?[")


def is_image_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` has an image extension (case-insensitive).

    Example:
        >>> is_image_path("holiday/IMG_0001.JPG"), is_image_path("notes.txt")
        (True, False)
    """
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _is_hidden(name: str) -> bool:
    # Dot files include macOS "._name.jpg" resource forks, which are not images.
    return name.startswith(".")


def _images_in_folder(folder: Path, *, recursive: bool) -> list[Path]:
    """Image files inside ``folder`` (sorted), skipping hidden files and folders."""
    if not recursive:
        found = [
            folder / entry.name
            for entry in os.scandir(folder)
            if not _is_hidden(entry.name) and entry.is_file() and is_image_path(entry.name)
        ]
        return sorted(found)

    def walk() -> Iterator[Path]:
        # os.walk does not follow symlinked folders, so a link loop cannot recurse forever.
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not _is_hidden(d)]
            for name in files:
                if not _is_hidden(name) and is_image_path(name):
                    yield Path(root) / name

    return sorted(walk())


def _expand(item: str | os.PathLike[str], *, recursive: bool) -> list[Path]:
    path = Path(item)
    text = os.fspath(item)
    if path.is_dir():
        images = _images_in_folder(path, recursive=recursive)
        if not images:
            where = "in it or its subfolders" if recursive else "in it"
            hint = "" if recursive else " (use recursive search for subfolders)"
            exts = " ".join(IMAGE_EXTENSIONS)
            raise ImageError(text, f"folder has no images {where}{hint}; looked for {exts}")
        return images
    if path.exists():
        # A file named explicitly is kept whatever its extension; the reader reports bad ones.
        return [path]
    if _GLOB_CHARS & set(text):
        matches = sorted(glob.glob(text, recursive=True))
        if not matches:
            raise ImageError(text, "no files match this pattern")
        matched: list[Path] = []
        for match in map(Path, matches):
            if match.is_dir():
                matched.extend(_images_in_folder(match, recursive=recursive))
            elif is_image_path(match):
                matched.append(match)
        if not matched:
            exts = " ".join(IMAGE_EXTENSIONS)
            raise ImageError(text, f"pattern matches no image files (extensions {exts})")
        return matched
    raise ImageError(text, "no such file or folder")


def find_images(inputs: Sequence[str | os.PathLike[str]], *, recursive: bool = False) -> list[Path]:
    """Expand files, folders and glob patterns into the list of images to process.

    Each input is, in this order of precedence:

    - a folder: the image files in it (by extension, case-insensitive; hidden files skipped),
      sorted; with ``recursive=True`` also those in its subfolders;
    - an existing file: kept as given, whatever its extension;
    - a glob pattern (``*.jpg``, ``shots/**/*.png``; ``**`` always recurses): the matching image
      files, sorted; matching folders are expanded as above.

    The result keeps the order of ``inputs`` and drops repeats (the same file reached twice).

    Args:
        inputs: paths, folders or patterns, as typed on the command line.
        recursive: also search the subfolders of folder inputs.

    Returns:
        The image paths.

    Raises:
        ImageError: an input that does not exist, a pattern that matches nothing, or a folder
            without images.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> for name in ["b.png", "a.JPG", "notes.txt"]:
        ...     _ = (root / name).write_bytes(b"")
        >>> [p.name for p in find_images([root, root / "a.JPG"])]
        ['a.JPG', 'b.png']
    """
    if isinstance(inputs, (str, os.PathLike)):
        msg = f"inputs must be a sequence of paths, not a single path {os.fspath(inputs)!r}"
        raise TypeError(msg)
    found: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        for path in _expand(item, recursive=recursive):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                found.append(path)
    return found
