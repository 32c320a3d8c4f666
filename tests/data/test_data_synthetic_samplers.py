"""Synthetic pairs with every registered blur sampler, GoPro-style synthesis and new augments."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from deblurgan.blur import BLUR_SAMPLERS, BlurSample, srgb_to_linear
from deblurgan.data import SyntheticBlurDataset


class DeltaSampler:
    """No blur: a centred delta (pair alignment shows exactly)."""

    kernel_size = 5

    def sample(self, batch: int, *, generator: torch.Generator) -> BlurSample:
        kernels = torch.zeros(batch, 5, 5)
        kernels[:, 2, 2] = 1.0
        return BlurSample(kernels, {})


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(data.astronaut()).resize((128, 112), Image.BICUBIC).save(folder / "a.png")
    return folder


@pytest.mark.parametrize("name", [*sorted(BLUR_SAMPLERS), "gopro"])
def test_every_sampler_name_makes_blurred_pairs(photo_dir: Path, name: str) -> None:
    spec = {"name": name, "num_frames": 5, "translation": (3.0, 6.0)} if name == "gopro" else name
    data = SyntheticBlurDataset(photo_dir, crop_size=32, length=2, sampler=spec, noise_std=0.0)
    for i in range(2):
        item = data[i]
        assert item["blurry"].shape == item["sharp"].shape == (3, 32, 32)
        assert 0 <= item["blurry"].min() and item["blurry"].max() <= 1
        # Blur (in linear light) keeps the mean light and removes detail.
        light = [srgb_to_linear(item[key]).mean() for key in ("blurry", "sharp")]
        assert abs(light[0] - light[1]) < 0.02
    blurred = [data[i]["blurry"].diff(dim=-1).abs().mean() for i in range(2)]
    sharp = [data[i]["sharp"].diff(dim=-1).abs().mean() for i in range(2)]
    assert sum(blurred) < sum(sharp)


def test_gopro_synthesis_margin_and_kernel(photo_dir: Path) -> None:
    spec = {"name": "gopro", "num_frames": 3, "translation": 8.0, "rotation": 2.0, "zoom": 0.0}
    data = SyntheticBlurDataset(photo_dir, crop_size=48, sampler=spec)
    # The margin holds the largest motion of the window it is cut from.
    window = 48 + 2 * data.margin
    assert data.sampler.margin_for(window, window) <= data.margin
    assert data[0]["blurry"].shape == (3, 48, 48)
    with pytest.raises(ValueError, match="return_kernel"):
        SyntheticBlurDataset(photo_dir, crop_size=48, sampler="gopro", return_kernel=True)
    with pytest.raises(ValueError, match="smaller than"):
        SyntheticBlurDataset(photo_dir, crop_size=100, sampler=spec)
    with pytest.raises(TypeError, match="gopro"):
        SyntheticBlurDataset(photo_dir, crop_size=16, sampler={"name": "gopro", "speed": 1})


def test_quarter_turns_and_jitter_keep_pairs_aligned(photo_dir: Path) -> None:
    data = SyntheticBlurDataset(
        photo_dir,
        crop_size=24,
        length=8,
        sampler=DeltaSampler(),
        noise_std=0.0,
        linear_light=False,
        rot90=True,
        jitter={"brightness": 0.3, "contrast": 0.3, "saturation": 0.3},
    )
    plain = SyntheticBlurDataset(
        photo_dir, crop_size=24, length=8, sampler=DeltaSampler(), noise_std=0.0, linear_light=False
    )
    for i in range(8):
        item = data[i]
        torch.testing.assert_close(item["blurry"], item["sharp"])
        assert torch.equal(item["sharp"], data[i]["sharp"])
    assert any(not torch.equal(data[i]["sharp"], plain[i]["sharp"]) for i in range(8))
    with pytest.raises(ValueError, match="unknown jitter"):
        SyntheticBlurDataset(photo_dir, crop_size=24, sampler=DeltaSampler(), jitter={"gamma": 1})
