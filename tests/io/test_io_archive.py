"""Safe unpacking: regular files only, nothing outside the folder, bounded size."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from deblurgan.io.archive import ArchiveError, extract_archive


def _tar(path: Path, members: list[tuple[str, bytes | None, bytes]]) -> Path:
    """``(name, data or None for a link, link target)`` entries into a .tgz."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data, target in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.SYMTYPE
                info.linkname = target.decode()
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def test_a_package_unpacks(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "p.tgz", [("package/a.txt", b"a", b""), ("./package/b/c", b"c", b"")])
    out = extract_archive(archive, tmp_path / "out")
    assert (out / "package/a.txt").read_bytes() == b"a" and (
        out / "package/b/c"
    ).read_bytes() == b"c"
    with zipfile.ZipFile(tmp_path / "p.zip", "w") as package:
        package.writestr("pkg/x.bin", b"xyz")
    assert (
        extract_archive(tmp_path / "p.zip", tmp_path / "z") / "pkg/x.bin"
    ).read_bytes() == b"xyz"


@pytest.mark.parametrize(
    "name",
    ["../evil.txt", "package/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt"],
)
def test_path_traversal_is_refused(tmp_path: Path, name: str) -> None:
    archive = _tar(tmp_path / "p.tgz", [("package/ok.txt", b"ok", b""), (name, b"x", b"")])
    with pytest.raises(ArchiveError, match="outside the folder"):
        extract_archive(archive, tmp_path / "sub" / "out")
    assert not (tmp_path / "sub" / "out").exists()  # what was written is removed
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "sub" / "evil.txt").exists()


def test_links_and_bombs_are_refused(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "l.tgz", [("package/link", None, b"/etc/passwd")])
    with pytest.raises(ArchiveError, match="is a link; refused"):
        extract_archive(archive, tmp_path / "out")
    big = _tar(tmp_path / "b.tgz", [("package/zeros", b"\x00" * 5000, b"")])
    with pytest.raises(ArchiveError, match="size limit"):
        extract_archive(big, tmp_path / "out2", max_bytes=1000)
    many = _tar(tmp_path / "m.tgz", [(f"f{i}", b"", b"") for i in range(5)])
    with pytest.raises(ArchiveError, match="more than 3 members"):
        extract_archive(many, tmp_path / "out3", max_files=3)
    twice = _tar(tmp_path / "t.tgz", [("a", b"1", b""), ("./a", b"2", b"")])
    with pytest.raises(ArchiveError, match="appears twice"):
        extract_archive(twice, tmp_path / "out4")
    (tmp_path / "page.tgz").write_bytes(b"<!DOCTYPE html>")
    with pytest.raises(ArchiveError, match="not a tar or zip archive"):
        extract_archive(tmp_path / "page.tgz", tmp_path / "out5")
