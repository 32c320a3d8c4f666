"""MS-SSIM against a numpy/scipy port of Wang's msssim.m, and its basic properties."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from scipy.signal import correlate2d

from deblurgan.metrics import MS_SSIM_WEIGHTS, ms_ssim, ms_ssim_min_size, ssim


def _fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    """MATLAB fspecial('gaussian', size, sigma)."""
    half = (size - 1) / 2
    x, y = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1))
    h = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def _ssim_index_new(img1: np.ndarray, img2: np.ndarray, data_range: float) -> tuple[float, float]:
    """ssim_index_new.m: (mean SSIM, mean cs) with filter2(win, ., 'valid')."""
    win = _fspecial_gaussian(11, 1.5)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def f(v: np.ndarray) -> np.ndarray:
        return correlate2d(v, win, mode="valid")

    mu1, mu2 = f(img1), f(img2)
    s1 = f(img1 * img1) - mu1**2
    s2 = f(img2 * img2) - mu2**2
    s12 = f(img1 * img2) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s1 + s2 + c2))
    cs_map = (2 * s12 + c2) / (s1 + s2 + c2)
    return float(ssim_map.mean()), float(cs_map.mean())


def _msssim(img1: np.ndarray, img2: np.ndarray, data_range: float = 1.0) -> float:
    """msssim.m, 'product' method; negative terms clamped to 0 (see ms_ssim's docstring)."""
    mssim, mcs = [], []
    for _ in range(5):
        s, cs = _ssim_index_new(img1, img2, data_range)
        mssim.append(s)
        mcs.append(cs)
        # imfilter(im, ones(2)/4, 'symmetric', 'same') then im(1:2:end, 1:2:end)
        downs = []
        for im in (img1, img2):
            padded = np.pad(im, ((0, 1), (0, 1)), mode="symmetric")
            filtered = (padded[:-1, :-1] + padded[1:, :-1] + padded[:-1, 1:] + padded[1:, 1:]) / 4
            downs.append(filtered[::2, ::2])
        img1, img2 = downs
    terms = [max(v, 0.0) for v in mcs[:4]] + [max(mssim[4], 0.0)]
    return float(np.prod([t**w for t, w in zip(terms, MS_SSIM_WEIGHTS, strict=True)]))


def _pairs(photos: list[np.ndarray], height: int, width: int) -> list[tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(2)
    out = []
    for photo in photos:
        sharp = photo[40 : 40 + height, 50 : 50 + width].astype(np.float64) / 255.0
        blurred = gaussian_filter(sharp, sigma=(2.0, 2.0, 0))
        noisy = np.clip(sharp + rng.normal(0, 0.08, sharp.shape), 0, 1)
        out += [(blurred, sharp), (noisy, sharp)]
    return out


def _batch(images: list[np.ndarray], dtype: torch.dtype) -> torch.Tensor:
    return torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in images]).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("size", [(176, 192), (161, 175)])  # even sides, then odd (ceil halving)
def test_ms_ssim_matches_msssim_m(
    photos: list[np.ndarray], dtype: torch.dtype, size: tuple[int, int]
) -> None:
    pairs = _pairs(photos[:2], *size)
    restored, sharp = _batch([r for r, _ in pairs], dtype), _batch([s for _, s in pairs], dtype)
    expected = [np.mean([_msssim(r[..., c], s[..., c]) for c in range(3)]) for r, s in pairs]
    got = ms_ssim(restored, sharp)
    assert got.shape == (len(pairs),) and got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-4 if dtype == torch.float32 else 1e-9)


def test_ms_ssim_identity_symmetry_and_order(photo: np.ndarray) -> None:
    sharp = torch.from_numpy(photo[:200, :220] / 255.0).permute(2, 0, 1)[None].float()
    torch.testing.assert_close(ms_ssim(sharp, sharp), torch.ones(1))
    blurred = [
        torch.from_numpy(gaussian_filter(photo[:200, :220] / 255.0, (s, s, 0)))
        .permute(2, 0, 1)[None]
        .float()
        for s in (0.5, 1.0, 2.0, 4.0)
    ]
    scores = torch.cat([ms_ssim(b, sharp) for b in blurred])
    assert (scores.diff() < 0).all() and (scores > 0).all() and (scores < 1).all()
    torch.testing.assert_close(ms_ssim(blurred[1], sharp), ms_ssim(sharp, blurred[1]))
    # Coarse scales forgive blur that single-scale SSIM punishes.
    assert ms_ssim(blurred[2], sharp).item() > ssim(blurred[2], sharp).item()


def test_ms_ssim_clamps_anticorrelated_structure_to_zero() -> None:
    g = torch.Generator().manual_seed(0)
    sharp = torch.rand(1, 1, 161, 161, generator=g)
    score = ms_ssim(1 - sharp, sharp)  # cs < 0 at the finest scale
    assert score.item() == 0.0


def test_ms_ssim_minimum_size() -> None:
    assert ms_ssim_min_size() == 161
    assert ms_ssim_min_size(7, 3) == 25
    fits = torch.rand(1, 1, 161, 161)
    assert ms_ssim(fits, fits).shape == (1,)
    small = torch.rand(1, 3, 160, 300)
    with pytest.raises(ValueError, match=r"at least 161x161 pixels, got 160x300"):
        ms_ssim(small, small)
    # Three scales with a 7-tap window need 25 pixels.
    tiny = torch.rand(1, 3, 25, 25)
    ms_ssim(tiny, tiny, window=7, weights=(0.2, 0.3, 0.5))
    with pytest.raises(ValueError, match="at least 25x25"):
        ms_ssim(tiny[..., 1:, :], tiny[..., 1:, :], window=7, weights=(0.2, 0.3, 0.5))


def test_ms_ssim_rejects_bad_input() -> None:
    image = torch.rand(1, 3, 161, 161)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        ms_ssim(image[:, :2], image[:, :2])
    with pytest.raises(ValueError, match="same shape"):
        ms_ssim(image, image[..., 1:])
    with pytest.raises(ValueError, match="data_range"):
        ms_ssim(image, image, data_range=-1.0)
    with pytest.raises(ValueError, match="weights"):
        ms_ssim(image, image, weights=())
    with pytest.raises(ValueError, match="odd positive integer"):
        ms_ssim(image, image, window=10)


def test_ms_ssim_is_differentiable() -> None:
    g = torch.Generator().manual_seed(1)
    sharp = torch.rand(1, 1, 161, 161, generator=g, dtype=torch.float64)
    restored = sharp + 0.05 * torch.rand(1, 1, 161, 161, generator=g, dtype=torch.float64)
    restored.requires_grad_(True)
    ms_ssim(restored, sharp).sum().backward()
    assert restored.grad is not None and torch.isfinite(restored.grad).all()
