"""VIFp against a numpy/scipy port of LIVE's vifp_mscale.m, and its basic properties."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from scipy.signal import correlate2d

from deblurgan.metrics import VIF_MIN_SIZE, vif


def _fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    """MATLAB fspecial('gaussian', size, sigma)."""
    half = (size - 1) / 2
    x, y = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1))
    h = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def _vifp_mscale(ref: np.ndarray, dist: np.ndarray) -> float:
    """vifp_mscale.m, statement for statement; images on the [0, 255] scale."""
    sigma_nsq = 2.0
    num = den = 0.0
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        win = _fspecial_gaussian(n, n / 5)

        def filt(v: np.ndarray, win: np.ndarray = win) -> np.ndarray:
            return correlate2d(v, win, mode="valid")

        if scale > 1:
            ref = filt(ref)[::2, ::2]
            dist = filt(dist)[::2, ::2]
        mu1, mu2 = filt(ref), filt(dist)
        sigma1_sq = filt(ref * ref) - mu1 * mu1
        sigma2_sq = filt(dist * dist) - mu2 * mu2
        sigma12 = filt(ref * dist) - mu1 * mu2
        sigma1_sq[sigma1_sq < 0] = 0
        sigma2_sq[sigma2_sq < 0] = 0
        g = sigma12 / (sigma1_sq + 1e-10)
        sv_sq = sigma2_sq - g * sigma12
        m = sigma1_sq < 1e-10
        g[m] = 0
        sv_sq[m] = sigma2_sq[m]
        sigma1_sq[m] = 0
        m = sigma2_sq < 1e-10
        g[m] = 0
        sv_sq[m] = 0
        m = g < 0
        sv_sq[m] = sigma2_sq[m]
        g[m] = 0
        sv_sq[sv_sq <= 1e-10] = 1e-10
        num += np.sum(np.log10(1 + g**2 * sigma1_sq / (sv_sq + sigma_nsq)))
        den += np.sum(np.log10(1 + sigma1_sq / sigma_nsq))
    return float(num / den)


def _luma(image: np.ndarray) -> np.ndarray:
    return image @ np.array([0.299, 0.587, 0.114])


def _batch(images: list[np.ndarray], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in images]).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_vif_matches_vifp_mscale(photos: list[np.ndarray], dtype: torch.dtype) -> None:
    rng = np.random.default_rng(0)
    restored, sharp = [], []
    for photo in photos:
        s = photo[50:147, 80:190].astype(np.float64) / 255.0  # 97x110: odd subsampling
        restored += [
            gaussian_filter(s, sigma=(1.5, 1.5, 0)),
            np.clip(s + rng.normal(0, 0.05, s.shape), 0, 1),
            np.clip(1.2 * (s - 0.5) + 0.5, 0, 1),  # contrast stretch: VIF may exceed 1
        ]
        sharp += [s] * 3
    expected = [
        _vifp_mscale(_luma(s) * 255, _luma(r) * 255) for r, s in zip(restored, sharp, strict=True)
    ]
    got = vif(_batch(restored, dtype), _batch(sharp, dtype))
    assert got.shape == (len(restored),) and got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5 if dtype == torch.float32 else 1e-9)


def test_vif_scales_inputs_to_255(photo: np.ndarray) -> None:
    sharp = photo[:64, :64].astype(np.float64) / 255.0
    restored = gaussian_filter(sharp, sigma=(1.0, 1.0, 0))
    on_255 = _vifp_mscale(_luma(sharp) * 255, _luma(restored) * 255)
    on_unit = _vifp_mscale(_luma(sharp), _luma(restored))
    assert abs(on_255 - on_unit) > 0.05  # why the scaling matters
    got = vif(_batch([restored]), _batch([sharp]))
    assert got.item() == pytest.approx(on_255, rel=1e-9)
    got_255 = vif(_batch([restored * 255]), _batch([sharp * 255]), data_range=255.0)
    assert got_255.item() == pytest.approx(on_255, rel=1e-9)


def test_vif_grey_identity_order_and_asymmetry(photo: np.ndarray) -> None:
    sharp = _luma(photo[100:196, 100:196].astype(np.float64) / 255.0)[..., None]  # grey 96x96
    batch_s = _batch([sharp] * 4)
    torch.testing.assert_close(vif(batch_s, batch_s), torch.ones(4, dtype=torch.float64))
    blurred = _batch([gaussian_filter(sharp, sigma=(s, s, 0)) for s in (0.5, 1.0, 2.0, 4.0)])
    scores = vif(blurred, batch_s)
    assert (scores.diff() < 0).all() and (scores > 0).all() and (scores < 1).all()
    assert (vif(batch_s, blurred) - scores).abs().min() > 1e-3  # reference matters


def test_vif_minimum_size_and_bad_input() -> None:
    assert VIF_MIN_SIZE == 41
    fits = torch.rand(1, 1, 41, 41)
    assert torch.isfinite(vif(fits * 0.5, fits)).all()
    small = torch.rand(1, 3, 40, 64)
    with pytest.raises(ValueError, match=r"at least 41x41 pixels, got 40x64"):
        vif(small, small)
    image = torch.rand(1, 3, 48, 48)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        vif(image[:, :2], image[:, :2])
    with pytest.raises(ValueError, match="sigma_n_sq"):
        vif(image, image, sigma_n_sq=0.0)
    with pytest.raises(ValueError, match="same shape"):
        vif(image, image[..., 1:])


def test_vif_is_differentiable() -> None:
    g = torch.Generator().manual_seed(0)
    sharp = torch.rand(1, 3, 48, 48, generator=g, dtype=torch.float64)
    restored = (0.8 * sharp + 0.1).requires_grad_(True)
    vif(restored, sharp).sum().backward()
    assert restored.grad is not None and torch.isfinite(restored.grad).all()
