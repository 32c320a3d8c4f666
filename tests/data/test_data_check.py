"""check_dataset: layout detection, summaries and every problem of each layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblurgan.data import check_dataset, detect_format


def _save(path: Path, h: int, w: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((h, w, 3), dtype=np.uint8)).save(path)


def test_gopro_detected_and_each_split_and_blur_kind_summarised(tmp_path: Path) -> None:
    for split, n in (("train", 3), ("test", 1)):
        for i in range(n):
            for side in ("blur", "blur_gamma", "sharp"):
                _save(tmp_path / split / "GOPR0001_00" / side / f"{i:06d}.png", 6, 8)
    assert detect_format(tmp_path) == "gopro"
    report = check_dataset(tmp_path)
    assert report.ok and report.problems == []
    counts = {part.name: part.count for part in report.parts}
    assert counts == {"train/blur": 3, "train/blur_gamma": 3, "test/blur": 1, "test/blur_gamma": 1}
    assert report.parts[0].sizes == {(6, 8): 3}
    (tmp_path / "test" / "GOPR0001_00" / "blur_gamma" / "000000.png").unlink()
    report = check_dataset(tmp_path, blur="blur_gamma")
    assert not report.ok and [p.name for p in report.parts] == [
        "train/blur_gamma",
        "test/blur_gamma",
    ]
    assert len(report.problems) == 1 and "no blurry partner" in report.problems[0]


def test_paired_folders_with_problems(tmp_path: Path) -> None:
    _save(tmp_path / "blur" / "a.png", 6, 8)
    _save(tmp_path / "sharp" / "a.png", 6, 8)
    _save(tmp_path / "blur" / "b.png", 6, 8)
    _save(tmp_path / "sharp" / "b.png", 6, 9)
    report = check_dataset(tmp_path, crop_size=7)
    assert report.format == "paired_folders" and not report.ok
    assert len(report.problems) == 2
    assert report.as_dict()["problems"] == report.problems


def test_photos_and_aligned_images(tmp_path: Path) -> None:
    _save(tmp_path / "p1.png", 10, 20)
    _save(tmp_path / "p2.png", 10, 20)
    report = check_dataset(tmp_path)
    assert report.format == "synthetic" and report.ok and report.notes
    assert report.parts[0].count == 2 and report.parts[0].sizes == {(10, 20): 2}
    aligned = check_dataset(tmp_path, format="aligned")
    assert aligned.ok and aligned.parts[0].sizes == {(10, 10): 2}
    _save(tmp_path / "odd.png", 10, 21)
    aligned = check_dataset(tmp_path, format="aligned")
    assert not aligned.ok and "odd.png: width 21 is odd" in aligned.problems[0]
    assert (
        check_dataset(tmp_path, crop_size=12)
        .problems[0]
        .endswith("smaller than the crop size 12x12")
    )


def test_empty_and_bad_arguments(tmp_path: Path) -> None:
    report = check_dataset(tmp_path)
    assert not report.ok and "no images" in report.problems[0]
    report = check_dataset(tmp_path, format="gopro")
    assert not report.ok and "no 'train' or 'test' folder" in report.problems[0]
    with pytest.raises(ValueError, match="format must be"):
        check_dataset(tmp_path, format="zip")
    with pytest.raises(ValueError, match="not a folder"):
        check_dataset(tmp_path / "nope")
