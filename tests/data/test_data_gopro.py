"""GoPro layout: splits, blur kinds, scene-prefixed names, one error for every broken file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.data import DATASETS, GoProDataset


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _rgb(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def gopro(tmp_path: Path) -> Path:
    # blur = 255 - sharp, blur_gamma = sharp // 2: each determines the sharp frame exactly.
    for split, scenes in (
        ("train", ("GOPR0372_07_00", "GOPR0374_11_00")),
        ("test", ("GOPR0384_11_00",)),
    ):
        for s, scene in enumerate(scenes):
            for f in range(2):
                sharp = _rgb(12, 16, seed=10 * s + f)
                name = f"{f + 1:06d}.png"
                _write(tmp_path / split / scene / "sharp" / name, sharp)
                _write(tmp_path / split / scene / "blur" / name, 255 - sharp)
                _write(tmp_path / split / scene / "blur_gamma" / name, sharp // 2)
    return tmp_path


def test_splits_blur_kinds_and_names(gopro: Path) -> None:
    train = GoProDataset(gopro)
    assert len(train) == 4
    assert [p.name for p in train.pairs][:2] == ["GOPR0372_07_00/000001", "GOPR0372_07_00/000002"]
    item = train[3]
    assert item["name"] == "GOPR0374_11_00/000002"
    torch.testing.assert_close(item["blurry"], 1 - item["sharp"])
    test = DATASETS.build("gopro", root=gopro, split="test", blur="blur_gamma")
    assert len(test) == 2 and test[0]["name"] == "GOPR0384_11_00/000001"
    expected = torch.from_numpy(_rgb(12, 16, seed=0) // 2).permute(2, 0, 1).float() / 255
    torch.testing.assert_close(test[0]["blurry"], expected)


def test_augmented_crops_stay_aligned(gopro: Path) -> None:
    data = GoProDataset(
        gopro, crop_size=8, flip=True, rot90=True, jitter={"brightness": 0.2}, seed=3
    )
    for i in range(len(data)):
        item = data[i]
        assert item["blurry"].shape == (3, 8, 8)
        assert torch.equal(item["blurry"], data[i]["blurry"])  # seeded by (seed, index)
    plain = GoProDataset(gopro, crop_size=8, flip=True, rot90=True, seed=3)
    for i in range(len(plain)):
        torch.testing.assert_close(plain[i]["blurry"], 1 - plain[i]["sharp"])


def test_a_broken_gopro_split_fails_at_start_with_every_file(gopro: Path) -> None:
    scene = gopro / "train" / "GOPR0372_07_00"
    (scene / "blur" / "000002.png").unlink()  # missing partner
    _write(scene / "blur" / "000001.png", _rgb(12, 18, 0))  # size mismatch
    (gopro / "train" / "GOPR0374_11_00" / "sharp" / "000001.png").write_bytes(b"broken")
    with pytest.raises(ValueError) as info:
        GoProDataset(gopro)
    message = str(info.value)
    assert message.startswith("3 problem(s)")
    assert "GOPR0372_07_00/sharp/000002.png: no blurry partner" in message
    assert "GOPR0372_07_00/blur/000001.png: size 18x12 differs" in message
    assert "GOPR0374_11_00/sharp/000001.png: unreadable" in message
    GoProDataset(gopro, split="test")  # the other split is fine


def test_bad_arguments(gopro: Path) -> None:
    with pytest.raises(ValueError, match="blur must be one of"):
        GoProDataset(gopro, blur="sharp")
    with pytest.raises(ValueError, match=r"val: no such folder \(GoPro layout"):
        GoProDataset(gopro, split="val")
    with pytest.raises(ValueError, match="split"):
        GoProDataset(gopro, split="../x")
    with pytest.raises(ValueError, match="smaller than the crop size"):
        GoProDataset(gopro, crop_size=14)
