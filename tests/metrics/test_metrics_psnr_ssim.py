"""PSNR and SSIM against scikit-image on real photos with noise and blur."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from deblurgan.metrics import psnr, ssim


def _degraded_pairs(photos: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(restored, sharp) float64 HxWx3 pairs in [0, 1]: noisy, blurred, and both, on 96x80 crops."""
    rng = np.random.default_rng(0)
    pairs = []
    for photo in photos:
        sharp = photo[100:196, 120:200].astype(np.float64) / 255.0
        noisy = np.clip(sharp + rng.normal(0.0, 0.05, sharp.shape), 0.0, 1.0)
        blurred = gaussian_filter(sharp, sigma=(1.5, 1.5, 0))
        both = np.clip(blurred + rng.normal(0.0, 0.02, sharp.shape), 0.0, 1.0)
        pairs += [(noisy, sharp), (blurred, sharp), (both, sharp)]
    return pairs


def _to_tensor(image: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_psnr_matches_skimage(photos: list[np.ndarray], dtype: torch.dtype) -> None:
    pairs = _degraded_pairs(photos)
    restored = torch.cat([_to_tensor(r, dtype) for r, _ in pairs])
    sharp = torch.cat([_to_tensor(s, dtype) for _, s in pairs])
    expected = [peak_signal_noise_ratio(s, r, data_range=1.0) for r, s in pairs]
    got = psnr(restored, sharp)
    assert got.shape == (len(pairs),) and got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-4, rtol=0)


def test_psnr_data_range_and_cap() -> None:
    sharp = torch.full((1, 3, 8, 8), 100.0)
    assert psnr(sharp + 25.5, sharp, data_range=255.0).item() == pytest.approx(20.0, abs=1e-4)
    assert psnr(sharp, sharp, data_range=255.0).item() == 100.0
    assert psnr(sharp, sharp, data_range=255.0, max_db=60.0).item() == 60.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ssim_matches_skimage(photos: list[np.ndarray], dtype: torch.dtype) -> None:
    pairs = _degraded_pairs(photos)
    restored = torch.cat([_to_tensor(r, dtype) for r, _ in pairs])
    sharp = torch.cat([_to_tensor(s, dtype) for _, s in pairs])
    expected = [
        structural_similarity(
            r,
            s,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            channel_axis=2,
            data_range=1.0,
        )
        for r, s in pairs
    ]
    got = ssim(restored, sharp)
    assert got.shape == (len(pairs),) and got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-3 if dtype == torch.float32 else 1e-8)


def test_ssim_other_window_and_range_match_skimage(photo: np.ndarray) -> None:
    sharp = photo[:64, :72].astype(np.float64)
    restored = gaussian_filter(sharp, sigma=(1.0, 1.0, 0))
    # skimage's window side is 2 * int(3.5 * sigma + 0.5) + 1: 7 taps for sigma = 0.8.
    expected = structural_similarity(
        restored,
        sharp,
        gaussian_weights=True,
        sigma=0.8,
        use_sample_covariance=False,
        channel_axis=2,
        data_range=255.0,
    )
    got = ssim(
        _to_tensor(restored, torch.float64),
        _to_tensor(sharp, torch.float64),
        data_range=255.0,
        window=7,
        sigma=0.8,
    )
    assert got.item() == pytest.approx(expected, abs=1e-8)


def test_ssim_identical_is_one_and_is_symmetric(make_image) -> None:
    sharp = make_image(2, 32, 32)
    restored = make_image(2, 32, 32, seed=1)
    torch.testing.assert_close(ssim(sharp, sharp), torch.ones(2))
    torch.testing.assert_close(ssim(restored, sharp), ssim(sharp, restored))


def test_metrics_are_differentiable(make_image) -> None:
    restored = make_image(1, 32, 32).requires_grad_(True)
    sharp = make_image(1, 32, 32, seed=3)
    (ssim(restored, sharp).sum() + psnr(restored, sharp).sum()).backward()
    assert restored.grad is not None and torch.isfinite(restored.grad).all()


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_metrics_reject_bad_input(metric) -> None:
    good = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="same shape"):
        metric(good, torch.rand(1, 3, 16, 15))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        metric(good[0], good[0])
    with pytest.raises(TypeError, match="floating-point"):
        metric(good.to(torch.uint8), good.to(torch.uint8))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        metric(good.numpy(), good)
    with pytest.raises(ValueError, match="data_range"):
        metric(good, good, data_range=0)


def test_ssim_rejects_bad_window() -> None:
    image = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match="smaller than the 11x11 window"):
        ssim(image, image)
    with pytest.raises(ValueError, match="odd positive integer"):
        ssim(image, image, window=4)
    with pytest.raises(ValueError, match="sigma"):
        ssim(image, image, window=3, sigma=-1.0)
