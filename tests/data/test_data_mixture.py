"""Mixture of datasets: proportions, determinism by (seed, index), validation, shipped configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import deblurgan
from deblurgan.data import DATASETS, DeadLeavesDataset, MixtureDataset, SyntheticBlurDataset

SMALL = {"name": "trajectory", "kernel_size": 9, "num_samples": 200}
LEAVES = {"name": "dead_leaves", "crop_size": 16, "length": 50, "sampler": SMALL}


class Constant:
    """A cheap source: item ``i`` is a constant image ``value`` named ``f"{tag}_{i}"``."""

    def __init__(self, tag: str, length: int, *, crop_size: Any = 8, value: float = 0.0):
        self.tag, self.length, self.crop_size, self.value = tag, length, crop_size, value

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        image = torch.full((3, 8, 8), self.value)
        return {"blurry": image, "sharp": image.clone(), "name": f"{self.tag}_{index}"}


def test_proportions_follow_the_weights_and_indices_spread() -> None:
    sources = [Constant("a", 10), Constant("b", 1000), Constant("c", 5)]
    mix = MixtureDataset(sources, weights=[3, 1, 0], length=4000, seed=2)
    drawn = [mix.source(i) for i in range(4000)]
    which = np.array([w for w, _ in drawn])
    assert not (which == 2).any()  # a zero weight is never drawn
    # Binomial(4000, 0.75): standard deviation 0.007 on the fraction.
    assert abs((which == 0).mean() - 0.75) < 0.03
    # Indices into a source are uniform over it (chi-square against equal counts).
    from scipy import stats

    inner = np.array([i for w, i in drawn if w == 0])
    counts = np.bincount(inner, minlength=10)
    assert counts.min() > 0 and inner.max() < 10
    assert stats.chisquare(counts).pvalue > 1e-3
    assert max(i for w, i in drawn if w == 1) < 1000


def test_items_are_a_function_of_seed_and_index() -> None:
    sources = [Constant("a", 7, value=0.2), Constant("b", 9, value=0.8)]
    mix = MixtureDataset(sources, length=50, seed=1)
    again = MixtureDataset(sources, length=50, seed=1)
    backwards = [again[i] for i in reversed(range(50))][::-1]  # any access order
    for i in range(50):
        item = mix[i]
        which, inner = mix.source(i)
        assert item["source"] == ["Constant", "Constant#1"][which]
        assert item["name"] == f"{'ab'[which]}_{inner}"
        assert torch.equal(item["sharp"], sources[which][inner]["sharp"])
        assert item["name"] == backwards[i]["name"]
    other = MixtureDataset(sources, length=50, seed=2)
    assert [mix.source(i) for i in range(50)] != [other.source(i) for i in range(50)]
    assert mix[-1]["name"] == mix[49]["name"]
    with pytest.raises(IndexError):
        mix[50]


def test_specs_build_through_the_registry_and_workers_agree() -> None:
    mix = DATASETS.from_spec(
        {
            "name": "mixture",
            "datasets": [LEAVES, {**LEAVES, "texture": "flat", "seed": 9}],
            "weights": [0.5, 0.5],
            "length": 6,
            "seed": 4,
        }
    )
    assert isinstance(mix, MixtureDataset) and len(mix) == 6
    assert all(isinstance(d, DeadLeavesDataset) for d in mix.datasets)
    assert mix.labels == ["dead_leaves", "dead_leaves#1"] and mix.crop_size == 16
    item = mix[3]
    which, inner = mix.source(3)
    direct = mix.datasets[which][inner]
    assert torch.equal(item["blurry"], direct["blurry"]) and item["name"] == direct["name"]
    loader = torch.utils.data.DataLoader(
        mix, batch_size=3, num_workers=2, multiprocessing_context="fork"
    )
    batches = list(loader)
    assert torch.equal(
        torch.cat([b["blurry"] for b in batches]), torch.stack([mix[i]["blurry"] for i in range(6)])
    )
    assert [s for b in batches for s in b["source"]] == [mix[i]["source"] for i in range(6)]


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    y, x = np.mgrid[0:64, 0:72]
    image = np.stack([(x * 7 + y * 3) % 256, (x * y) % 251, (x * 4) % 256], -1).astype(np.uint8)
    Image.fromarray(image).save(folder / "pattern.png")
    return folder


def test_mismatched_crop_sizes_are_an_error_naming_both(photo_dir: Path) -> None:
    photos = {"name": "synthetic", "root": str(photo_dir), "crop_size": 24, "sampler": SMALL}
    with pytest.raises(ValueError, match=r"synthetic gives 24x24.*dead_leaves gives 16x16"):
        MixtureDataset([photos, LEAVES], length=4)
    with pytest.raises(ValueError, match=r"Constant gives 8x8.*Constant#1 gives 6x6"):
        MixtureDataset([Constant("a", 2), Constant("b", 2, crop_size=6)], length=4)
    with pytest.raises(ValueError, match="fixed crop size"):
        MixtureDataset([Constant("a", 2), Constant("b", 2, crop_size=None)], length=4)
    with pytest.raises(ValueError, match="return_kernel"):
        MixtureDataset([LEAVES, {**LEAVES, "return_kernel": True}], length=4)
    # Equal crops mix photos and dead leaves.
    mix = MixtureDataset([{**photos, "crop_size": 16}, LEAVES], weights=[1, 1], length=4)
    assert isinstance(mix.datasets[0], SyntheticBlurDataset)
    assert {mix[i]["sharp"].shape for i in range(4)} == {torch.Size([3, 16, 16])}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"datasets": []}, ValueError),
        ({"datasets": LEAVES}, TypeError),
        ({"datasets": [42]}, TypeError),
        ({"datasets": [{"name": "nope"}]}, ValueError),
        ({"weights": [1.0]}, ValueError),
        ({"weights": [1.0, -1.0]}, ValueError),
        ({"weights": [0.0, 0.0]}, ValueError),
        ({"weights": [1.0, float("inf")]}, ValueError),
        ({"length": 0}, ValueError),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, Any], error: type[Exception]) -> None:
    arguments: dict[str, Any] = {"datasets": [Constant("a", 2), Constant("b", 2)], "length": 4}
    with pytest.raises(error):
        MixtureDataset(**{**arguments, **kwargs})


CONFIG_DIR = Path(deblurgan.__file__).parent / "configs"


def _compose(overrides: list[str]) -> dict[str, Any]:
    hydra = pytest.importorskip("hydra")
    from omegaconf import OmegaConf

    with hydra.initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = hydra.compose(config_name="train", overrides=overrides)
    data = OmegaConf.to_container(cfg.data, resolve=True)
    assert isinstance(data, dict)
    return data


# Small crops and kernels keep the shipped configs fast to build here.
FAST = ["data.crop_size=24", "data.sampler.kernel_size=9", "data.num_workers=0"]


def test_dead_leaves_config_builds_its_datasets() -> None:
    data = _compose(["data=dead_leaves", *FAST])
    assert "root" not in data["train"]
    train, val = (DATASETS.from_spec(data[key]) for key in ("train", "val"))
    assert isinstance(train, DeadLeavesDataset) and isinstance(val, DeadLeavesDataset)
    assert train.leaf_options["shapes"] == ("disc", "ellipse", "rectangle")
    assert len(val) == 64 and val.seed != train.seed
    for dataset in (train, val):
        item = dataset[0]
        assert item["blurry"].shape == item["sharp"].shape == (3, 24, 24)


def test_photos_and_dead_leaves_config_builds_its_datasets(photo_dir: Path) -> None:
    data = _compose(["data=photos_and_dead_leaves", f"data.root={photo_dir}", *FAST])
    train, val = (DATASETS.from_spec(data[key]) for key in ("train", "val"))
    assert isinstance(train, MixtureDataset) and isinstance(val, SyntheticBlurDataset)
    assert train.labels == ["synthetic", "dead_leaves"] and train.weights == [0.5, 0.5]
    assert isinstance(train.datasets[0], SyntheticBlurDataset)
    assert train.datasets[0].files == [photo_dir / "pattern.png"]
    assert val.files == [photo_dir / "pattern.png"]
    sources = {train[i]["source"] for i in range(8)}
    assert sources == {"synthetic", "dead_leaves"}
    assert train[0]["blurry"].shape == val[0]["blurry"].shape == (3, 24, 24)
