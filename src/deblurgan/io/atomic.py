"""Atomic file writes: a temporary file beside the target, flushed to disk, then renamed over it.

Every file the package writes (images, generator checkpoints, tables, JSON) goes through
:func:`atomic_write`, so a reader sees the old file or the complete new one, never a torn one,
and an interrupted write leaves no partial file behind. With ``replace=False`` the final name is
created exclusively (a hard link of the finished temporary file, which fails if the name
exists), so of two processes writing the same new file, one wins and the other gets
:class:`FileExistsError`, as it would one after the other.

The temporary files are named ``.<name>.<random>.tmp``: hidden, and with no image extension,
so input discovery never takes one for an input. One left behind by a killed process is removed
by the next write of the same name once it is an hour old (a live writer's file is younger).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["STALE_SECONDS", "atomic_write", "atomic_write_text", "remove_stale_temporaries"]

#: Age (seconds since the last change) after which a temporary file of :func:`atomic_write` is
#: taken to be left behind by a killed process and removed.
STALE_SECONDS = 3600.0

# Errors of os.link on file systems without hard links (FAT, some network shares).
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK}
)


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}."


def remove_stale_temporaries(path: str | os.PathLike[str], *, age: float = STALE_SECONDS) -> int:
    """Remove the temporary files of :func:`atomic_write` for ``path`` older than ``age`` seconds.

    Returns:
        How many were removed.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> stale = folder / ".a.png.x1y2.tmp"
        >>> _ = stale.write_bytes(b"torn")
        >>> os.utime(stale, (0, 0))
        >>> remove_stale_temporaries(folder / "a.png"), stale.exists()
        (1, False)
    """
    path = Path(path)
    prefix = _temporary_prefix(path)
    removed = 0
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and now - entry.stat().st_mtime > age:
                os.unlink(entry.path)
                removed += 1
    return removed


def _create_exclusively(temporary: str, path: Path) -> None:
    """Give the finished ``temporary`` the name ``path`` unless it exists (FileExistsError)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "file exists", os.fspath(path)) from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # No hard links here: the best left is a check just before the rename.
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "file exists", os.fspath(path)) from None
        os.replace(temporary, path)
        return
    os.unlink(temporary)


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], object], *, replace: bool = True
) -> Path:
    """Run ``write`` on a temporary binary file next to ``path``, then rename it over ``path``.

    Parent folders are created. The file gets the permissions ``open()`` would give it (0666 less
    the umask). On any error the temporary file is removed and the error propagates. Stale
    temporary files of ``path`` (see :func:`remove_stale_temporaries`) are removed first.

    Args:
        path: the file to write.
        write: writes the content to the binary file it is given.
        replace: replace an existing ``path``; with ``False`` the name is created exclusively
            and an existing file (even one that appeared while ``write`` ran) raises
            :class:`FileExistsError`, leaving it untouched.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "sub" / "a.bin"
        >>> atomic_write(target, lambda f: f.write(b"hi")).read_bytes()
        b'hi'
        >>> atomic_write(target, lambda f: f.write(b"again"), replace=False)
        Traceback (most recent call last):
        ...
        FileExistsError: [Errno 17] file exists: '...a.bin'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates the file 0600; give it the permissions open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        if replace:
            os.replace(temporary, path)
        else:
            _create_exclusively(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, *, replace: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`).

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "sub" / "a.txt"
        >>> atomic_write_text(target, "hi").read_text()
        'hi'
    """
    data = text.encode("utf-8")
    return atomic_write(path, lambda file: file.write(data), replace=replace)
