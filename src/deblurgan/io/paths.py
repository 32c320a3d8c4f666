"""Expand command-line inputs (files, folders, glob patterns) into a sorted list of image files."""

from __future__ import annotations

import errno
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


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if isinstance(exc, PermissionError):
        return "cannot be read (permission denied)"
    return f"cannot be read ({exc.strerror or exc})"


def _note(problems: list[ImageError] | None, path: Path | str, exc: OSError) -> None:
    problem = ImageError(os.fspath(path), _describe(exc))
    if problems is None:
        raise problem
    problems.append(problem)


def _looped(path: Path, problems: list[ImageError] | None) -> bool:
    """Whether ``path`` cannot be followed (a link loop, a dangling or unreadable entry); the
    problem is noted for a loop or an unreadable entry, never for a plain dangling link."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        _note(problems, path, exc)
        return True
    return False


def _images_in_folder(
    folder: Path, *, recursive: bool, problems: list[ImageError] | None = None
) -> list[Path]:
    """Image files inside ``folder`` (sorted), skipping hidden files and folders.

    A symbolic link loop or an unreadable folder is noted in ``problems`` (raised when it is
    ``None``) and the scan goes on.
    """
    if not recursive:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            _note(problems, folder, exc)
            return []
        found = []
        for entry in entries:
            path = folder / entry.name
            if _is_hidden(entry.name) or (entry.is_symlink() and _looped(path, problems)):
                continue
            if is_image_path(entry.name) and entry.is_file():
                found.append(path)
        return found

    def walk() -> Iterator[Path]:
        # os.walk does not follow symlinked folders, so a link loop cannot recurse forever; it
        # lists such a loop among the files, where _looped() reports it.
        def unreadable(exc: OSError) -> None:
            _note(problems, exc.filename or folder, exc)

        for root, dirs, files in os.walk(folder, onerror=unreadable):
            dirs[:] = [d for d in dirs if not _is_hidden(d)]
            for name in sorted(files):
                path = Path(root) / name
                if _is_hidden(name) or (path.is_symlink() and _looped(path, problems)):
                    continue
                if is_image_path(name):
                    yield path

    return sorted(walk())


def _expand(
    item: str | os.PathLike[str], *, recursive: bool, problems: list[ImageError] | None
) -> list[Path]:
    path = Path(item)
    text = os.fspath(item)
    if path.is_dir():
        before = len(problems) if problems is not None else 0
        images = _images_in_folder(path, recursive=recursive, problems=problems)
        if not images and (problems is None or len(problems) == before):
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
            if match.is_symlink() and _looped(match, problems):
                continue
            if match.is_dir():
                matched.extend(_images_in_folder(match, recursive=recursive, problems=problems))
            elif is_image_path(match):
                matched.append(match)
        if not matched and not problems:
            exts = " ".join(IMAGE_EXTENSIONS)
            raise ImageError(text, f"pattern matches no image files (extensions {exts})")
        return matched
    raise ImageError(text, "no such file or folder")


def find_images(
    inputs: Sequence[str | os.PathLike[str]],
    *,
    recursive: bool = False,
    problems: list[ImageError] | None = None,
) -> list[Path]:
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
        problems: where to put what makes a folder entry unusable (a symbolic link loop, an
            unreadable folder or subfolder) so that the scan goes on; ``None`` raises the
            first one instead.

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
        for path in _expand(item, recursive=recursive, problems=problems):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                found.append(path)
    return found
