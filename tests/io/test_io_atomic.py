"""Atomic writes: exclusive creation of the final name, stale temporary files."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from deblurgan.io import atomic
from deblurgan.io.atomic import atomic_write, atomic_write_text, remove_stale_temporaries


def test_exclusive_write_refuses_a_name_that_appears_while_writing(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"

    def write(file) -> None:  # another process creates the name while this one writes
        target.write_bytes(b"theirs")
        file.write(b"mine")

    with pytest.raises(FileExistsError):
        atomic_write(target, write, replace=False)
    assert target.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # no temporary left
    atomic_write(target, write, replace=True)  # --force: replaced as before
    assert target.read_bytes() == b"mine"


def test_exclusive_write_creates_a_new_file_with_open_permissions(tmp_path: Path) -> None:
    target = atomic_write_text(tmp_path / "a" / "new.txt", "hi", replace=False)
    assert target.read_text() == "hi"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert target.stat().st_nlink == 1  # the temporary link is gone
    assert sorted(p.name for p in target.parent.iterdir()) == ["new.txt"]


def test_without_hard_links_the_name_is_still_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src, dst) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(atomic.os, "link", no_links)
    target = tmp_path / "x.txt"
    atomic_write_text(target, "one", replace=False)
    assert target.read_text() == "one"
    with pytest.raises(FileExistsError):
        atomic_write_text(target, "two", replace=False)
    assert target.read_text() == "one"


def test_only_stale_temporaries_of_the_same_name_are_removed(tmp_path: Path) -> None:
    old = time.time() - 2 * atomic.STALE_SECONDS
    stale = tmp_path / ".a.png.abc123.tmp"
    fresh = tmp_path / ".a.png.def456.tmp"
    other = tmp_path / ".b.png.abc123.tmp"
    for path in (stale, fresh, other):
        path.write_bytes(b"x")
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    assert remove_stale_temporaries(tmp_path / "a.png") == 1
    assert not stale.exists() and fresh.exists() and other.exists()
    atomic_write_text(tmp_path / "b.png", "")  # the next write of b.png clears its own
    assert not other.exists()
