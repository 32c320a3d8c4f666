"""Colour shift (deblurgan.metrics.colour): CIELAB chroma of block means, against a reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deblurgan.blur import linear_to_srgb, srgb_to_linear
from deblurgan.metrics import METRICS, colour_shift, lab_chroma
from deblurgan.metrics.ssim import gaussian_filter, gaussian_window


def _image(photo: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(photo).permute(2, 0, 1)[None].double() / 255


def test_lab_chroma_matches_scikit_image() -> None:
    from skimage.color import rgb2lab

    g = torch.Generator().manual_seed(0)
    srgb = torch.rand(1, 3, 8, 8, generator=g, dtype=torch.float64)
    ours = lab_chroma(srgb_to_linear(srgb))[0].permute(1, 2, 0).numpy()
    theirs = rgb2lab(srgb[0].permute(1, 2, 0).numpy(), illuminant="D65")[..., 1:]
    np.testing.assert_allclose(ours, theirs, atol=0.02)  # their matrix has fewer digits


def test_sharpness_is_not_colour_but_a_cast_is(photo: np.ndarray) -> None:
    sharp = _image(photo)
    window = gaussian_window(13, 2.0, dtype=sharp.dtype, device=sharp.device)
    blurred = linear_to_srgb(gaussian_filter(srgb_to_linear(sharp), window, border="replicate"))
    assert colour_shift(sharp, sharp).item() == 0.0
    assert colour_shift(blurred, sharp).item() < 0.3  # light moved, not changed
    warmer = linear_to_srgb(srgb_to_linear(sharp) * torch.tensor([1.08, 1.0, 0.92]).view(3, 1, 1))
    whole = colour_shift(warmer, sharp).item()
    assert whole > 2.3  # a visible cast
    quarter = sharp.clone()
    quarter[..., :256, :256] = warmer[..., :256, :256]
    assert colour_shift(quarter, sharp).item() == pytest.approx(whole / 4, rel=0.1)  # local


def test_a_grey_output_of_a_colour_photo_is_a_large_shift(photo: np.ndarray) -> None:
    sharp = _image(photo)
    grey = sharp.mean(dim=1, keepdim=True).expand_as(sharp)
    assert colour_shift(grey, sharp).item() > 10.0
    assert colour_shift(sharp, grey).item() == pytest.approx(colour_shift(grey, sharp).item())


def test_table_entry_and_bad_inputs() -> None:
    spec = METRICS["colour_shift"]
    assert not spec.higher_is_better and spec.min_size == 32 and spec.channels == (3,)
    image = torch.rand(2, 3, 32, 40)
    assert spec(image, image).shape == (2,)
    with pytest.raises(ValueError):
        colour_shift(torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError):
        colour_shift(torch.rand(1, 3, 31, 64), torch.rand(1, 3, 31, 64))
    with pytest.raises(ValueError, match="block must be a positive int"):
        colour_shift(image, image, block=0)
