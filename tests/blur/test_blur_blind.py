"""Blind kernel estimation and deconvolution (deblurgan.blur.blind) on a really blurred photo."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from deblurgan.blur.blind import (
    BlindSettings,
    _components,
    blind_deconvolve,
    estimate_kernel,
)
from deblurgan.blur.deconv import wiener_deconvolve
from deblurgan.inference.evaluation.alignment import align_by_shift
from deblurgan.metrics import psnr


def test_the_kernel_of_a_blurred_photo_is_found(
    shaken_photo: dict[str, torch.Tensor], kernel_correlation: Callable[..., float]
) -> None:
    estimate = estimate_kernel(shaken_photo["blurry"][0], 25)
    assert estimate.shape == (25, 25)
    assert estimate.min() >= 0
    assert float(estimate.sum()) == pytest.approx(1.0, abs=1e-5)
    # A kernel of the wrong shape (a centred delta, a disc of the same extent) scores far lower.
    assert kernel_correlation(estimate, shaken_photo["kernel"]) > 0.7


def test_blind_deconvolution_sharpens_the_photo(shaken_photo: dict[str, torch.Tensor]) -> None:
    sharp, blurry = shaken_photo["sharp"], shaken_photo["blurry"]
    restored, kernel = blind_deconvolve(blurry, 25, nsr=1e-2)
    assert kernel.shape == (25, 25)
    assert restored.shape == blurry.shape and restored.dtype == blurry.dtype
    # The estimate is centred on its centre of mass, so the result may be shifted by a pixel or
    # two: scored shift-tolerant, as Lai et al.'s benchmark does.
    before = psnr(*align_by_shift(blurry, sharp, 4)[:2]).item()
    after = psnr(*align_by_shift(restored, sharp, 4)[:2]).item()
    oracle = wiener_deconvolve(blurry, shaken_photo["kernel"], nsr=1e-2)
    known = psnr(*align_by_shift(oracle, sharp, 4)[:2]).item()
    # Measured: input 19.1 dB, blind 28.2 dB, Wiener with the true kernel 29.0 dB.
    assert after > before + 6.0, (before, after)
    assert after > known - 2.0, (after, known)


def test_a_sharp_photo_gives_a_compact_kernel(shaken_photo: dict[str, torch.Tensor]) -> None:
    kernel = estimate_kernel(shaken_photo["sharp"], 15)
    centre = kernel[5:10, 5:10].sum()
    assert float(centre) > 0.8


def test_components_are_eight_connected() -> None:
    mask = torch.tensor(
        [
            [1, 0, 0, 1],
            [0, 1, 0, 0],
            [0, 0, 0, 1],
            [1, 1, 0, 1],
        ],
        dtype=torch.bool,
    )
    labels = _components(mask)
    assert labels[0, 0] == labels[1, 1] != 0  # diagonal neighbours join
    assert labels[0, 3] != labels[2, 3] == labels[3, 3]
    assert labels[3, 0] == labels[3, 1] != labels[0, 0]
    assert int(labels.max()) == 4
    assert (labels[~mask] == 0).all()


def test_bad_arguments_are_named() -> None:
    image = torch.rand(3, 64, 64)
    with pytest.raises(ValueError, match="odd"):
        estimate_kernel(image, 10)
    with pytest.raises(ValueError, match="at least twice the kernel size"):
        estimate_kernel(image, 41)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        estimate_kernel(torch.rand(2, 64, 64), 9)
    with pytest.raises(ValueError, match="one image"):
        estimate_kernel(torch.rand(2, 3, 64, 64), 9)
    with pytest.raises(ValueError, match="iterations"):
        BlindSettings(iterations=0)
