"""``deblur data check`` through ``main(argv)``: summaries, problem lists, exit codes, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblurgan.cli.main import main


def _save(path: Path, h: int, w: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((h, w, 3), dtype=np.uint8)).save(path)


@pytest.fixture
def gopro(tmp_path: Path) -> Path:
    for split in ("train", "test"):
        for i in range(2):
            for side in ("blur", "sharp"):
                _save(tmp_path / split / "GOPR0001_00" / side / f"{i:06d}.png", 9, 16)
    return tmp_path


def test_a_good_dataset_prints_a_summary(gopro: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", str(gopro)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{gopro}: gopro"
    assert out[1].split() == ["train/blur", "2", "pairs,", "sizes", "16x9", "(2)"]
    assert out[-1] == "ok: 4 pairs"


def test_problems_are_listed_with_exit_code_1(
    gopro: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = gopro / "train" / "GOPR0001_00" / "sharp" / "000001.png"
    broken.write_bytes(b"broken")
    (gopro / "test" / "GOPR0001_00" / "blur" / "000000.png").unlink()
    assert main(["data", "check", str(gopro), "--crop-size", "8"]) == 1
    out = capsys.readouterr().out
    assert "2 problem(s):" in out
    assert f"  {broken}: unreadable" in out
    assert "000000.png: no blurry partner" in out
    assert "train/blur  1 pairs" in out  # the good pair is still counted


def test_json_formats_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _save(tmp_path / "ab.png", 4, 10)
    assert main(["data", "check", str(tmp_path), "--format", "aligned", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "aligned" and report["ok"]
    assert report["parts"][0]["sizes"] == [{"height": 4, "width": 5, "count": 1}]
    assert main(["data", "check", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["data"]) == 2
    assert main(["data", "check", str(tmp_path), "--format", "zip"]) == 2


def _unreadable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Listing ``folder`` fails as it would without read permission (chmod does not stop root)."""
    import os

    real_scandir, real_listdir = os.scandir, os.listdir

    def refuse(path: object) -> None:
        if path is not None and Path(os.fsdecode(path)).resolve() == folder.resolve():
            raise PermissionError(13, "Permission denied", os.fsdecode(path))

    def scandir(path: object = ".") -> object:
        refuse(path)
        return real_scandir(path)  # type: ignore[arg-type]

    def listdir(path: object = ".") -> list:
        refuse(path)
        return real_listdir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "listdir", listdir)


@pytest.mark.parametrize("where", ["root", "blur folder", "scene"])
def test_an_unreadable_folder_is_one_line_and_a_failure(
    gopro: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    scene = next(p for p in sorted((gopro / "train").iterdir()) if p.is_dir())
    folder = {"root": gopro, "blur folder": scene / "blur", "scene": scene}[where]
    _unreadable(monkeypatch, folder)
    code = main(["data", "check", str(gopro)])
    captured = capsys.readouterr()
    assert code == (2 if where == "root" else 1)  # cannot start, or a partial dataset
    lines = captured.err.strip().splitlines()
    assert lines == [f"deblur data check: error: {folder}: cannot be read (permission denied)"], (
        captured.err
    )
