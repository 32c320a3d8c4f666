"""A|B images: both orders, halves, odd widths and small images named at start-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.data import DATASETS, AlignedPairDataset


def _rgb(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array).permute(2, 0, 1).float() / 255


@pytest.fixture
def ab_dir(tmp_path: Path) -> Path:
    for i in range(3):
        blurry, sharp = _rgb(10, 14, seed=i), _rgb(10, 14, seed=100 + i)
        (tmp_path / "train").mkdir(exist_ok=True)
        Image.fromarray(np.concatenate([blurry, sharp], axis=1)).save(
            tmp_path / "train" / f"{i}.png"
        )
    return tmp_path


def test_halves_in_both_orders(ab_dir: Path) -> None:
    data = AlignedPairDataset(ab_dir, split="train")
    assert len(data) == 3 and data.pairs[0].size == (10, 14)
    item = data[1]
    assert item["name"] == "1"
    torch.testing.assert_close(item["blurry"], _tensor(_rgb(10, 14, seed=1)))
    torch.testing.assert_close(item["sharp"], _tensor(_rgb(10, 14, seed=101)))
    swapped = DATASETS.build("aligned", root=ab_dir / "train", order="sharp_blur")[1]
    assert torch.equal(swapped["blurry"], item["sharp"]) and torch.equal(
        swapped["sharp"], item["blurry"]
    )


def test_crops_keep_the_halves_aligned(tmp_path: Path) -> None:
    sharp = _rgb(16, 18, seed=7)
    Image.fromarray(np.concatenate([255 - sharp, sharp], axis=1)).save(tmp_path / "x.png")
    data = AlignedPairDataset(tmp_path, crop_size=8, flip=True, rot90=True, seed=1)
    for _ in range(3):
        item = data[0]
        assert item["blurry"].shape == (3, 8, 8)
        torch.testing.assert_close(item["blurry"], 1 - item["sharp"])


def test_odd_widths_small_and_broken_files_are_listed_together(ab_dir: Path) -> None:
    folder = ab_dir / "train"
    Image.fromarray(_rgb(10, 15, seed=0)).save(folder / "odd.png")
    Image.fromarray(_rgb(4, 30, seed=0)).save(folder / "flat.png")
    (folder / "junk.png").write_bytes(b"junk")
    with pytest.raises(ValueError) as info:
        AlignedPairDataset(folder, crop_size=6)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("3 problem(s) in A|B dataset")
    assert any("odd.png: width 15 is odd" in line for line in lines)
    assert any(
        "flat.png: 15x4 is smaller than the crop size (per half) 6x6" in line for line in lines
    )
    assert any("junk.png: unreadable" in line for line in lines)


def test_sub_folders_and_bad_arguments(ab_dir: Path) -> None:
    data = AlignedPairDataset(ab_dir, recursive=True)
    assert [p.name for p in data.pairs] == ["train/0", "train/1", "train/2"]
    with pytest.raises(ValueError, match="order must be one of"):
        AlignedPairDataset(ab_dir, order="a_b")
    with pytest.raises(ValueError, match="no images"):
        AlignedPairDataset(ab_dir)  # images are only in train/
    with pytest.raises(ValueError, match="not a folder"):
        AlignedPairDataset(ab_dir / "missing")
