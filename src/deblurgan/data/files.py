"""Listing the image files of a dataset: extensions, folders, sub-folders, explicit files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deblurgan.io import IMAGE_EXTENSIONS

__all__ = ["list_image_files", "normalise_extensions"]

PathLike = str | Path


def normalise_extensions(extensions: Sequence[str] | str) -> frozenset[str]:
    """Lower-case extensions with their leading dot: ``("PNG", ".jpg")`` -> ``{".png", ".jpg"}``.

    Example:
        >>> sorted(normalise_extensions(["PNG", ".jpg"]))
        ['.jpg', '.png']
    """
    if isinstance(extensions, str):
        extensions = [extensions]
    exts = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    if not exts:
        raise ValueError("extensions must name at least one file extension, e.g. ('.png',)")
    return frozenset(exts)


def list_image_files(
    root: PathLike | Sequence[PathLike],
    *,
    extensions: Sequence[str] | str = tuple(IMAGE_EXTENSIONS),
    recursive: bool = False,
) -> list[Path]:
    """Image files named by ``root``: a folder, a file, or a list of them (sorted, deduplicated).

    Args:
        root: folder(s) to scan and/or image files to take as they are.
        extensions: file extensions to keep when scanning folders (case-insensitive).
        recursive: also scan sub-folders.

    Returns:
        The files, folder contents sorted by path, in the order given.

    Example:
        >>> list_image_files([])
        []
    """
    exts = normalise_extensions(extensions)
    entries = [root] if isinstance(root, str | Path) else list(root)
    missing = [str(e) for e in entries if not Path(e).exists()]
    if missing:
        raise ValueError(f"no such file or folder: {', '.join(missing)}")
    files: list[Path] = []
    for entry in map(Path, entries):
        if entry.is_dir():
            pattern = entry.rglob("*") if recursive else entry.iterdir()
            files.extend(sorted(p for p in pattern if p.is_file() and p.suffix.lower() in exts))
        else:
            files.append(entry)
    return list(dict.fromkeys(files))
