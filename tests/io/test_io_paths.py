"""deblurgan.io.paths: files, folders and glob patterns expand to sorted, de-duplicated images."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from deblurgan.io import IMAGE_EXTENSIONS, ImageError, find_images, is_image_path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root: b.png a.JPG c.tiff notes.txt .hidden.png ._a.jpg sub/{d.png,e.webp} .git/f.png"""
    for name in ["b.png", "a.JPG", "c.tiff", "notes.txt", ".hidden.png", "._a.jpg"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    for name in ["d.png", "e.webp"]:
        (tmp_path / "sub" / name).write_bytes(b"x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "f.png").write_bytes(b"x")
    return tmp_path


def _names(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_folder_sorted_by_extension_case_insensitive(tree: Path) -> None:
    assert _names(find_images([tree]), tree) == ["a.JPG", "b.png", "c.tiff"]


def test_folder_recursive(tree: Path) -> None:
    found = _names(find_images([tree], recursive=True), tree)
    assert found == ["a.JPG", "b.png", "c.tiff", "sub/d.png", "sub/e.webp"]


def test_globs(tree: Path) -> None:
    assert _names(find_images([str(tree / "*.png")]), tree) == ["b.png"]
    assert _names(find_images([str(tree / "**" / "*.png")]), tree) == ["b.png", "sub/d.png"]
    # A pattern's matches are filtered to images; matched folders are expanded (as a shell would
    # pass them on as folder inputs).
    everything = ["a.JPG", "b.png", "c.tiff", "sub/d.png", "sub/e.webp"]
    assert _names(find_images([str(tree / "*")]), tree) == everything
    assert _names(find_images([str(tree / "su?")]), tree) == ["sub/d.png", "sub/e.webp"]


def test_relative_glob(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    assert find_images(["sub/*.webp"]) == [Path("sub/e.webp")]


def test_explicit_file_kept_whatever_its_extension(tree: Path) -> None:
    assert find_images([tree / "notes.txt"]) == [tree / "notes.txt"]


def test_order_of_inputs_kept_and_duplicates_dropped(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    found = find_images(["c.tiff", ".", "./b.png", str(tree / "*.png"), "sub/d.png"])
    assert [p.as_posix() for p in found] == ["c.tiff", "a.JPG", "b.png", "sub/d.png"]


@pytest.mark.parametrize("item", ["missing.png", "missing_dir", "*.gif", "nothing/**/*.png"])
def test_missing_inputs_named(tree: Path, item: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    with pytest.raises(ImageError) as info:
        find_images(["b.png", item])
    message = str(info.value)
    assert message.startswith(f"{item}: ") and "\n" not in message


def test_pattern_matching_only_non_images(tree: Path) -> None:
    with pytest.raises(ImageError, match="no image files"):
        find_images([str(tree / "*.txt")])


def test_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="no images") as info:
        find_images([tmp_path / "empty"])
    assert "empty" in str(info.value)


def test_empty_inputs_and_single_path_misuse(tree: Path) -> None:
    assert find_images([]) == []
    with pytest.raises(TypeError, match="sequence"):
        find_images(str(tree))  # type: ignore[arg-type]


def test_extensions() -> None:
    assert all(ext.startswith(".") and ext == ext.lower() for ext in IMAGE_EXTENSIONS)
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"} <= set(IMAGE_EXTENSIONS)
    assert is_image_path("X.TIFF") and not is_image_path("x.txt") and not is_image_path("png")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loop_does_not_recurse_forever(tree: Path) -> None:
    (tree / "sub" / "loop").symlink_to(tree, target_is_directory=True)
    found = _names(find_images([tree], recursive=True), tree)
    assert found == ["a.JPG", "b.png", "c.tiff", "sub/d.png", "sub/e.webp"]


def _folder_with_a_loop(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "a.png").write_bytes(b"")
    (root / "sub" / "b.png").write_bytes(b"")
    (root / "loop.png").symlink_to("loop.png")  # points at itself
    (root / "sub" / "again").symlink_to("again")
    return root


@pytest.mark.parametrize("recursive", [False, True])
def test_symlink_loops_are_problems_not_crashes(tmp_path: Path, recursive: bool) -> None:
    root = _folder_with_a_loop(tmp_path)
    problems: list[ImageError] = []
    found = find_images([root], recursive=recursive, problems=problems)
    expected = ["a.png", "b.png"] if recursive else ["a.png"]
    assert [p.name for p in found] == expected
    loops = sorted(str(p) for p in problems)
    want = [f"{root / 'loop.png'}: symbolic link loop"]
    if recursive:
        want.append(f"{root / 'sub' / 'again'}: symbolic link loop")
    assert loops == sorted(want)
    # Through a glob, and without a problems list (the first one is raised).
    problems = []
    assert [p.name for p in find_images([str(root / "*.png")], problems=problems)] == ["a.png"]
    assert [str(p) for p in problems] == [f"{root / 'loop.png'}: symbolic link loop"]
    with pytest.raises(ImageError, match="symbolic link loop"):
        find_images([root])


def test_unreadable_folders_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _folder_with_a_loop(tmp_path)
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:  # root reads everything: simulate the permission
        if Path(path) in (root / "sub", tmp_path / "locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    problems: list[ImageError] = []
    found = find_images([root], recursive=True, problems=problems)
    assert [p.name for p in found] == ["a.png"]
    assert f"{root / 'sub'}: cannot be read (permission denied)" in [str(p) for p in problems]
    (tmp_path / "locked").mkdir()
    problems = []
    assert find_images([tmp_path / "locked"], problems=problems) == []
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'locked'}: cannot be read (permission denied)"
    ]
