"""Paired folders: pairing by name, aligned crops, GoPro sequences, one error for all problems."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.data import DATASETS, PairedFolderDataset


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _random_rgb(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def pair_dir(tmp_path: Path) -> Path:
    # Blurry = sharp with inverted colours: a crop of one determines the other exactly.
    for i, name in enumerate(["b.png", "a.png", "c.png"]):
        sharp = _random_rgb(24, 30, seed=i)
        _write(tmp_path / "sharp" / name, sharp)
        _write(tmp_path / "blur" / name, 255 - sharp)
    return tmp_path


def test_pairs_load_whole_images_by_name(pair_dir: Path) -> None:
    data = PairedFolderDataset(pair_dir)
    assert len(data) == 3 and [data[i]["name"] for i in range(3)] == ["a", "b", "c"]
    item = data[0]
    expected = torch.from_numpy(_random_rgb(24, 30, seed=1)).permute(2, 0, 1).float() / 255
    torch.testing.assert_close(item["sharp"], expected)
    torch.testing.assert_close(item["blurry"], 1 - expected)
    assert item["blurry"].dtype == torch.float32


def test_crops_and_flips_stay_aligned_and_seeded(pair_dir: Path) -> None:
    data = PairedFolderDataset(pair_dir, crop_size=8, flip=True, seed=5)
    windows = set()
    for i in range(3):
        item = data[i]
        assert item["blurry"].shape == (3, 8, 8)
        torch.testing.assert_close(item["blurry"], 1 - item["sharp"])
        assert torch.equal(item["sharp"], data[i]["sharp"])
        windows.add(tuple(item["sharp"][:, 0, 0].tolist()))
    assert len(windows) == 3
    other = PairedFolderDataset(pair_dir, crop_size=8, flip=True, seed=6)
    assert any(not torch.equal(other[i]["sharp"], data[i]["sharp"]) for i in range(3))


def test_gopro_layout_with_sequences(tmp_path: Path) -> None:
    for seq in ("GOPR0001_00", "GOPR0002_00"):
        for name in ("000001.png", "000002.png"):
            image = _random_rgb(10, 12, seed=len(seq))
            _write(tmp_path / "train" / seq / "blur" / name, image)
            _write(tmp_path / "train" / seq / "sharp" / name, image)
    data = DATASETS.build("paired_folders", root=tmp_path)
    assert [p.name for p in data.pairs] == [
        "train/GOPR0001_00/000001",
        "train/GOPR0001_00/000002",
        "train/GOPR0002_00/000001",
        "train/GOPR0002_00/000002",
    ]
    assert data[3]["sharp"].shape == (3, 10, 12)


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    _write(tmp_path / "blur" / "ok.png", _random_rgb(20, 20, 0))
    _write(tmp_path / "sharp" / "ok.png", _random_rgb(20, 20, 0))
    _write(tmp_path / "blur" / "lonely_blur.png", _random_rgb(20, 20, 0))
    _write(tmp_path / "sharp" / "lonely_sharp.png", _random_rgb(20, 20, 0))
    _write(tmp_path / "blur" / "size.png", _random_rgb(20, 20, 0))
    _write(tmp_path / "sharp" / "size.png", _random_rgb(20, 22, 0))
    _write(tmp_path / "blur" / "broken.png", _random_rgb(20, 20, 0))
    (tmp_path / "sharp" / "broken.png").write_bytes(b"garbage")
    _write(tmp_path / "blur" / "small.png", _random_rgb(6, 20, 0))
    _write(tmp_path / "sharp" / "small.png", _random_rgb(6, 20, 0))
    with pytest.raises(ValueError) as info:
        PairedFolderDataset(tmp_path, crop_size=8)
    message = str(info.value)
    assert "5 problem(s)" in message
    for name in ("lonely_blur.png", "lonely_sharp.png", "size.png", "broken.png", "small.png"):
        assert name in message
    assert "ok.png" not in message


def test_missing_folders_and_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no 'blur' or 'sharp' folders"):
        PairedFolderDataset(tmp_path)
    (tmp_path / "blur").mkdir()
    with pytest.raises(ValueError, match="missing folder"):
        PairedFolderDataset(tmp_path)
    (tmp_path / "sharp").mkdir()
    with pytest.raises(ValueError, match="no image pairs"):
        PairedFolderDataset(tmp_path)
    with pytest.raises(ValueError, match="crop_size"):
        PairedFolderDataset(tmp_path, crop_size=0)
    with pytest.raises(ValueError, match="not a folder"):
        PairedFolderDataset(tmp_path / "nope")
