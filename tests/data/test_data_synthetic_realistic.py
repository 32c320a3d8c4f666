"""SyntheticBlurDataset with the realistic pipeline: the default, seeded, aligned, configured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from scipy import signal

from deblurgan.blur import RealisticDegradation
from deblurgan.data import DATASETS, SyntheticBlurDataset, item_generator
from deblurgan.data.synthetic import degrade_photo, to_uint8
from deblurgan.io import read_image
from deblurgan.training import CONFIG_DIR

QUIET = {"shot_noise": (0.0, 0.0), "jpeg_prob": 0.0, "highlight_gain": (1.0, 1.0)}


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    for name, array in [("astronaut", data.astronaut()), ("coffee", data.coffee())]:
        Image.fromarray(array).resize((160, 128), Image.BICUBIC).save(folder / f"{name}.png")
    return folder


def test_the_realistic_pipeline_is_the_default(photo_dir: Path) -> None:
    data = SyntheticBlurDataset(photo_dir, crop_size=48, length=4, degradation={"frame_width": 256})
    assert (
        isinstance(data.degradation, RealisticDegradation) and data.degradation.frame_width == 256
    )
    assert isinstance(
        SyntheticBlurDataset(photo_dir, crop_size=48).degradation, RealisticDegradation
    )
    for i in range(4):
        item = data[i]
        assert set(item) == {"blurry", "sharp", "name"}
        for key in ("blurry", "sharp"):
            assert item[key].shape == (3, 48, 48) and item[key].dtype == torch.float32
            assert 0 <= item[key].min() and item[key].max() <= 1
        assert item["name"] == f"{['astronaut', 'coffee'][i % 2]}_{i}"
        assert not torch.equal(item["blurry"], item["sharp"])


def test_items_are_a_function_of_seed_and_index(photo_dir: Path) -> None:
    def make(seed: int, **kw: object) -> SyntheticBlurDataset:
        return SyntheticBlurDataset(photo_dir, crop_size=32, length=6, seed=seed, **kw)  # type: ignore[arg-type]

    data, again, other = make(3), make(3, cache=False), make(4)
    for i in range(6):
        assert torch.equal(data[i]["blurry"], again[i]["blurry"])
        assert torch.equal(data[i]["sharp"], again[i]["sharp"])
    assert not torch.equal(data[1]["blurry"], other[1]["blurry"])
    assert not torch.equal(data[1]["sharp"], data[3]["sharp"])  # same photo, another item
    loader = torch.utils.data.DataLoader(
        data, batch_size=3, num_workers=2, multiprocessing_context="fork"
    )
    blurry = torch.cat([batch["blurry"] for batch in loader])
    assert torch.equal(blurry, torch.stack([data[i]["blurry"] for i in range(6)]))


def test_the_sharp_crop_is_the_photo_and_the_blur_its_convolution(photo_dir: Path) -> None:
    # Camera shake without noise, JPEG or boost, averaged in gamma space (on the stored values):
    # the blurry crop is the window convolved with the returned kernel, rounded to 8 bits.
    camera = RealisticDegradation(frame_width=256, camera_path_prob=0.0, linear_prob=0.0, **QUIET)
    photo = to_uint8(read_image(photo_dir / "coffee.png").rgb)
    for index in range(4):
        pair = degrade_photo(photo, camera, generator=item_generator(0, index), crop_size=40)
        p = pair.params
        top, left, m = p["window_top"], p["window_left"], p["margin"]
        assert p["scale"] == 1.0 and p["kernel_size"] == 2 * m + 1
        pixels = photo[:, top : top + 40 + 2 * m, left : left + 40 + 2 * m]
        assert torch.equal(to_uint8(pair.sharp), pixels[:, m:-m, m:-m])
        window = pixels.double() / 255
        kernel = pair.kernel.double().numpy()
        blurred = np.stack([signal.convolve2d(c, kernel, mode="valid") for c in window.numpy()])
        np.testing.assert_allclose(
            pair.blurry.numpy(), np.round(blurred * 255) / 255, atol=1.01 / 255
        )


def test_whole_photos_keep_their_size_and_small_ones_are_mirrored(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (30, 44, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 256, (52, 20, 3), dtype=np.uint8)).save(tmp_path / "b.png")
    whole = SyntheticBlurDataset(
        tmp_path, crop_size=None, scale=1.0, flip=False, return_params=True
    )
    assert [tuple(whole[i]["blurry"].shape) for i in range(2)] == [(3, 30, 44), (3, 52, 20)]
    assert 2 * whole[0]["params"]["margin"] >= 0 and whole[0]["params"]["frame_width"] == 1280
    crops = SyntheticBlurDataset(tmp_path, crop_size=20, length=8)  # windows larger than photos
    assert all(crops[i]["blurry"].shape == (3, 20, 20) for i in range(8))
    with pytest.raises(ValueError, match="smaller than the crop 24"):
        SyntheticBlurDataset(tmp_path, crop_size=24)


def test_the_old_chain_and_the_pipeline_are_not_mixed(photo_dir: Path) -> None:
    small = {"name": "trajectory", "kernel_size": 7}
    with pytest.raises(ValueError, match="not both"):
        SyntheticBlurDataset(photo_dir, crop_size=16, degradation={}, sampler=small)
    with pytest.raises(ValueError, match="whole photos"):
        SyntheticBlurDataset(photo_dir, crop_size=None, sampler=small)
    with pytest.raises(ValueError, match="return_params"):
        SyntheticBlurDataset(photo_dir, crop_size=16, sampler=small, return_params=True)
    old = SyntheticBlurDataset(photo_dir, crop_size=16, noise_std=0.0)
    assert old.degradation is None and old.sampler.kernel_size == 31
    with pytest.raises(AttributeError, match="realistic"):
        SyntheticBlurDataset(photo_dir, crop_size=16).noise_std  # noqa: B018


def test_the_synthetic_config_holds_the_pipeline_defaults(photo_dir: Path) -> None:
    config = yaml.safe_load((CONFIG_DIR / "data" / "synthetic.yaml").read_text())
    assert config["degradation"] == RealisticDegradation().as_dict()
    assert config["sampler"] is None
    spec = {**config["train"], "root": str(photo_dir), "crop_size": 24, "seed": 0}
    spec.update(degradation=config["degradation"], sampler=None, scale=config["scale"])
    train = DATASETS.from_spec(spec)
    assert isinstance(train, SyntheticBlurDataset) and train.degradation == RealisticDegradation()
    assert train[0]["blurry"].shape == (3, 24, 24)
