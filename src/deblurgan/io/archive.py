"""Unpacking a downloaded package (tar, tar.gz, zip) without letting it write outside its folder.

:func:`extract_archive` writes regular files and folders only: a member with an absolute path, a
``..`` component, a drive letter, a symbolic or hard link, a device or a FIFO refuses the whole
archive before anything is written, and the total size and file count are bounded (an archive
bomb stops at the limit). Files are written by this code from the member's bytes, never by
``tarfile``'s or ``zipfile``'s own extraction, and get ordinary permissions (no set-uid bits).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

__all__ = ["ArchiveError", "extract_archive"]

_CHUNK = 1 << 20


class ArchiveError(ValueError):
    """An archive that cannot be unpacked safely; the message is one line."""


def _safe_relative(name: str, archive: Path) -> PurePosixPath | None:
    """The member's path inside the destination, or ``None`` for the archive's root entry."""
    text = name.replace("\\", "/")
    path = PurePosixPath(text)
    if text.startswith("/") or (len(text) > 1 and text[1] == ":") or ".." in path.parts:
        raise ArchiveError(f"{archive}: member {name!r} would be written outside the folder")
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def _tar_members(archive: Path) -> Iterator[tuple[str, bool, int, IO[bytes] | None]]:
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            if member.isdir():
                yield member.name, True, 0, None
            elif member.isreg():
                yield member.name, False, member.size, tar.extractfile(member)
            else:
                what = "link" if member.issym() or member.islnk() else "special file"
                raise ArchiveError(f"{archive}: member {member.name!r} is a {what}; refused")


def _zip_members(archive: Path) -> Iterator[tuple[str, bool, int, IO[bytes] | None]]:
    with zipfile.ZipFile(archive) as package:
        for info in package.infolist():
            mode = (info.external_attr >> 16) & 0o170000
            if mode and mode not in (0o100000, 0o040000):  # only regular files and folders
                raise ArchiveError(f"{archive}: member {info.filename!r} is a link; refused")
            if info.is_dir():
                yield info.filename, True, 0, None
            else:
                with package.open(info) as stream:
                    yield info.filename, False, info.file_size, stream


def _copy_bounded(stream: IO[bytes], target: Path, budget: int, archive: Path) -> int:
    written = 0
    with open(target, "xb") as file:
        while block := stream.read(_CHUNK):
            written += len(block)
            if written > budget:
                raise ArchiveError(f"{archive}: unpacks to more than the size limit; refused")
            file.write(block)
    return written


def extract_archive(
    archive: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    *,
    max_bytes: int = 4 * 1024**3,
    max_files: int = 20_000,
) -> Path:
    """Unpack a tar (plain, gzip, bzip2, xz) or zip archive into an empty or new folder.

    Args:
        archive: the archive file.
        destination: the folder to fill (created; it must be empty). On a refusal it is removed
            with everything written so far.
        max_bytes: the most bytes all files may hold together (default 4 GiB).
        max_files: the most members (default 20,000).

    Returns:
        ``destination``.

    Raises:
        ArchiveError: not a tar or zip archive, a member that would escape the folder, a link
            or special file, a name given twice, or over a limit.

    Example:
        >>> import io, tarfile, tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> with tarfile.open(folder / "a.tar.gz", "w:gz") as tar:
        ...     info = tarfile.TarInfo("package/hello.txt"); info.size = 2
        ...     tar.addfile(info, io.BytesIO(b"hi"))
        >>> (extract_archive(folder / "a.tar.gz", folder / "out") / "package/hello.txt").read_text()
        'hi'
    """
    archive = Path(archive)
    destination = Path(destination)
    if destination.exists() and any(destination.iterdir()):
        raise ArchiveError(f"{destination}: the destination folder is not empty")
    if tarfile.is_tarfile(archive):
        members = _tar_members(archive)
    elif zipfile.is_zipfile(archive):
        members = _zip_members(archive)
    else:
        raise ArchiveError(f"{archive}: not a tar or zip archive")
    destination.mkdir(parents=True, exist_ok=True)
    budget, count, seen = max_bytes, 0, set()
    try:
        for name, is_dir, size, stream in members:
            count += 1
            if count > max_files:
                raise ArchiveError(f"{archive}: more than {max_files} members; refused")
            relative = _safe_relative(name, archive)
            if relative is None:
                continue
            target = destination.joinpath(*relative.parts)
            if is_dir:
                target.mkdir(parents=True, exist_ok=True)
                continue
            if relative in seen:
                raise ArchiveError(f"{archive}: member {name!r} appears twice; refused")
            seen.add(relative)
            if size > budget:
                raise ArchiveError(f"{archive}: unpacks to more than the size limit; refused")
            target.parent.mkdir(parents=True, exist_ok=True)
            if stream is None:  # tarfile gives no stream for a few exotic regular members
                raise ArchiveError(f"{archive}: member {name!r} cannot be read; refused")
            budget -= _copy_bounded(stream, target, budget, archive)
    except ArchiveError:
        shutil.rmtree(destination, ignore_errors=True)
        raise
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        shutil.rmtree(destination, ignore_errors=True)
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise ArchiveError(f"{archive}: cannot unpack ({message})") from None
    return destination
