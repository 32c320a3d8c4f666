"""Synthetic pairs: shapes, ranges, determinism by (seed, index), alignment, broken inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.blur import BlurSample, blur_image
from deblurgan.data import DATASETS, SyntheticBlurDataset

SMALL = {"name": "trajectory", "kernel_size": 9, "num_samples": 200}


class DeltaSampler:
    """Blur disabled: every kernel is a centred delta (tests pair alignment)."""

    kernel_size = 9

    def sample(self, batch: int, *, generator: torch.Generator) -> BlurSample:
        kernels = torch.zeros(batch, 9, 9)
        kernels[:, 4, 4] = 1.0
        torch.rand(batch, generator=generator)  # consume randomness like a real sampler
        return BlurSample(kernels, {})


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    # Small versions of real photos keep the suite fast.
    for name, array in [("astronaut", data.astronaut()), ("coffee", data.coffee())]:
        Image.fromarray(array).resize((160, 128), Image.BICUBIC).save(folder / f"{name}.png")
    return folder


def _photo(photo_dir: Path, stem: str) -> np.ndarray:
    return np.asarray(Image.open(photo_dir / f"{stem}.png").convert("RGB"))


def test_items_have_the_contract_shape_and_range(photo_dir: Path) -> None:
    data = SyntheticBlurDataset(photo_dir, crop_size=48, length=5, sampler=SMALL)
    assert len(data) == 5
    for i in range(5):
        item = data[i]
        assert set(item) == {"blurry", "sharp", "name"}
        for key in ("blurry", "sharp"):
            assert item[key].shape == (3, 48, 48) and item[key].dtype == torch.float32
            assert 0 <= item[key].min() and item[key].max() <= 1
        assert item["name"] == f"{['astronaut', 'coffee'][i % 2]}_{i}"
    assert len(SyntheticBlurDataset(photo_dir, crop_size=48, sampler=SMALL)) == 2


def test_items_are_deterministic_by_seed_and_index(photo_dir: Path) -> None:
    data = SyntheticBlurDataset(photo_dir, crop_size=32, length=4, sampler=SMALL, seed=3)
    again = SyntheticBlurDataset(photo_dir, crop_size=32, length=4, sampler=SMALL, seed=3)
    other = SyntheticBlurDataset(photo_dir, crop_size=32, length=4, sampler=SMALL, seed=4)
    first = data[1]
    assert torch.equal(first["blurry"], data[1]["blurry"])
    assert torch.equal(first["blurry"], again[1]["blurry"])
    assert torch.equal(first["sharp"], again[1]["sharp"])
    assert not torch.equal(first["sharp"], other[1]["sharp"])
    assert not torch.equal(first["sharp"], data[3]["sharp"])  # same photo, another item
    uncached = SyntheticBlurDataset(
        photo_dir, crop_size=32, length=4, sampler=SMALL, seed=3, cache=False
    )
    assert torch.equal(first["blurry"], uncached[1]["blurry"])


def test_dataloader_workers_reproduce_items(photo_dir: Path) -> None:
    data = SyntheticBlurDataset(photo_dir, crop_size=24, length=4, sampler=SMALL, seed=1)
    loader = torch.utils.data.DataLoader(
        data, batch_size=2, num_workers=2, multiprocessing_context="fork"
    )
    batches = list(loader)
    blurry = torch.cat([b["blurry"] for b in batches])
    expected = torch.stack([data[i]["blurry"] for i in range(4)])
    assert torch.equal(blurry, expected)


def test_blurry_is_blurred_and_noisy(photo_dir: Path) -> None:
    data = SyntheticBlurDataset(
        photo_dir, crop_size=48, length=6, sampler={**SMALL, "max_length": 8.0, "exposure": 1.0}
    )
    sharper = 0
    for i in range(6):
        item = data[i]
        assert not torch.allclose(item["blurry"], item["sharp"], atol=1e-3)
        grad = lambda x: (x[..., 1:] - x[..., :-1]).abs().mean()  # noqa: E731
        sharper += int(grad(item["sharp"]) > grad(item["blurry"]))
    assert sharper == 6


def test_delta_kernel_gives_identical_aligned_pairs(photo_dir: Path) -> None:
    for linear_light in (False, True):
        data = SyntheticBlurDataset(
            photo_dir,
            crop_size=32,
            length=8,
            sampler=DeltaSampler(),
            noise_std=0.0,
            linear_light=linear_light,
        )
        for i in range(8):
            item = data[i]
            torch.testing.assert_close(item["blurry"], item["sharp"], atol=1e-5, rtol=0)


def test_sharp_is_an_exact_crop_of_the_photo(photo_dir: Path) -> None:
    data = SyntheticBlurDataset(
        photo_dir, crop_size=24, length=4, sampler=SMALL, scale=1.0, flip=False
    )
    for i in range(4):
        item = data[i]
        photo = _photo(photo_dir, item["name"].rsplit("_", 1)[0]).astype(np.float32)
        sharp = (item["sharp"].permute(1, 2, 0).numpy() * 255).round()
        ys, xs = np.nonzero((photo[:-23, :-23] == sharp[0, 0]).all(axis=-1))
        assert any(
            np.array_equal(photo[y : y + 24, x : x + 24], sharp)
            for y, x in zip(ys, xs, strict=True)
        )


def test_returned_kernel_explains_the_blurry_image(photo_dir: Path) -> None:
    # Without noise and gamma, blurry == kernel * sharp away from the crop border, flips included,
    # and the blur does not shift the image.
    data = SyntheticBlurDataset(
        photo_dir,
        crop_size=40,
        length=4,
        sampler={"name": "trajectory", "kernel_size": 9, "max_length": 12.0, "num_samples": 300},
        noise_std=0.0,
        linear_light=False,
        return_kernel=True,
    )
    for i in range(4):
        item = data[i]
        kernel = item["kernel"]
        assert kernel.shape == (9, 9) and abs(float(kernel.sum()) - 1) < 1e-5
        reblurred = blur_image(item["sharp"], kernel)
        torch.testing.assert_close(
            item["blurry"][:, 4:-4, 4:-4], reblurred[:, 4:-4, 4:-4], atol=1e-5, rtol=0
        )


def test_registry_builds_the_dataset(photo_dir: Path) -> None:
    data = DATASETS.build("synthetic", root=str(photo_dir), crop_size=16, sampler=SMALL)
    assert isinstance(data, SyntheticBlurDataset) and data[0]["sharp"].shape == (3, 16, 16)
    files = sorted(photo_dir.iterdir())
    assert len(SyntheticBlurDataset(files[:1], crop_size=16, sampler=SMALL)) == 1


def test_broken_inputs_list_every_offending_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no photos"):
        SyntheticBlurDataset(tmp_path, crop_size=16)
    Image.new("RGB", (64, 64), (1, 2, 3)).save(tmp_path / "good.png")
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    Image.new("RGB", (40, 20), (1, 2, 3)).save(tmp_path / "tiny.jpg")
    with pytest.raises(ValueError) as info:
        SyntheticBlurDataset(tmp_path, crop_size=16, sampler=SMALL, scale=(0.5, 1.0))
    message = str(info.value)
    assert "broken.png" in message and "tiny.jpg" in message and "good.png" not in message
    with pytest.raises(ValueError, match=r"tiny\.jpg"):
        SyntheticBlurDataset(tmp_path / "tiny.jpg", crop_size=16, sampler=SMALL, cache=False)
    with pytest.raises(ValueError, match="no such file"):
        SyntheticBlurDataset(tmp_path / "missing", crop_size=16)


@pytest.mark.parametrize(
    "kwargs",
    [{"crop_size": 0}, {"length": 0}, {"scale": (0.0, 1.0)}, {"noise_std": (0.1, 0.0)}],
)
def test_bad_arguments_are_rejected(photo_dir: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SyntheticBlurDataset(photo_dir, **{"sampler": SMALL, **kwargs})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sampler"):
        SyntheticBlurDataset(photo_dir, sampler=42)
