"""SSIM's MATLAB conventions and PSNR on luma, against numpy/scipy re-implementations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import correlate1d, gaussian_filter
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from deblurgan.metrics import psnr, ssim


def _gauss(taps: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(taps) - (taps - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _matlab_ssim(a: np.ndarray, ref: np.ndarray, data_range: float) -> float:
    """MATLAB's ssim(A, REF): Gaussian 11/1.5 over every axis of A, 'replicate', mean map."""
    g = _gauss()

    def blur(v: np.ndarray) -> np.ndarray:
        for axis in range(v.ndim):
            v = correlate1d(v, g, axis=axis, mode="nearest")
        return v

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mux, muy = blur(a), blur(ref)
    sx = blur(a * a) - mux**2
    sy = blur(ref * ref) - muy**2
    sxy = blur(a * ref) - mux * muy
    num = (2 * mux * muy + c1) * (2 * sxy + c2)
    den = (mux**2 + muy**2 + c1) * (sx + sy + c2)
    return float(np.mean(num / den))


def _y(image: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr luma of double RGB in [0, 1], on the [16, 235] scale."""
    return 16 + 65.481 * image[..., 0] + 128.553 * image[..., 1] + 24.966 * image[..., 2]


def _pairs(photos: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    out = []
    for photo in photos:
        sharp = photo[60:124, 90:162].astype(np.float64) / 255.0  # 64x72
        blurred = gaussian_filter(sharp, sigma=(1.2, 1.2, 0))
        noisy = np.clip(sharp + rng.normal(0, 0.04, sharp.shape), 0, 1)
        out += [(blurred, sharp), (noisy, sharp)]
    return out


def _batch(images: list[np.ndarray], dtype: torch.dtype) -> torch.Tensor:
    return torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in images]).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matlab_rgb_volume_matches_numpy(photos: list[np.ndarray], dtype: torch.dtype) -> None:
    pairs = _pairs(photos)
    restored, sharp = _batch([r for r, _ in pairs], dtype), _batch([s for _, s in pairs], dtype)
    # MATLAB's ssim(uint8 RGB) works on values 0..255 with DataRange 255.
    expected = [_matlab_ssim(r * 255, s * 255, 255.0) for r, s in pairs]
    got = ssim(restored, sharp, channel="volume", border="replicate")
    assert got.dtype == dtype
    np.testing.assert_allclose(
        got.numpy(), expected, atol=2e-5 if dtype == torch.float32 else 1e-10
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matlab_y_matches_numpy(photos: list[np.ndarray], dtype: torch.dtype) -> None:
    pairs = _pairs(photos)
    restored, sharp = _batch([r for r, _ in pairs], dtype), _batch([s for _, s in pairs], dtype)
    expected = [_matlab_ssim(_y(r), _y(s), 255.0) for r, s in pairs]
    got = ssim(restored, sharp, channel="y", border="replicate")
    np.testing.assert_allclose(
        got.numpy(), expected, atol=2e-5 if dtype == torch.float32 else 1e-10
    )


def test_replicate_border_per_channel_matches_numpy(photos: list[np.ndarray]) -> None:
    pairs = _pairs(photos)
    restored = _batch([r for r, _ in pairs], torch.float64)
    sharp = _batch([s for _, s in pairs], torch.float64)
    expected = [
        np.mean([_matlab_ssim(r[..., c], s[..., c], 1.0) for c in range(3)]) for r, s in pairs
    ]
    got = ssim(restored, sharp, border="replicate")
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)


def test_y_valid_matches_skimage_on_luma(photos: list[np.ndarray]) -> None:
    pairs = _pairs(photos)
    restored = _batch([r for r, _ in pairs], torch.float64)
    sharp = _batch([s for _, s in pairs], torch.float64)
    # scikit-image's own rgb2ycbcr gives the same Y, an independent check of the conversion.
    expected = [
        structural_similarity(
            rgb2ycbcr(r)[..., 0],
            rgb2ycbcr(s)[..., 0],
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255.0,
        )
        for r, s in pairs
    ]
    np.testing.assert_allclose(ssim(restored, sharp, channel="y").numpy(), expected, atol=1e-10)


def test_y_mode_ignores_the_input_scale(make_image) -> None:
    restored, sharp = make_image(2, 24, 24, seed=4), make_image(2, 24, 24, seed=5)
    a = ssim(restored, sharp, channel="y", border="replicate")
    b = ssim(restored * 255, sharp * 255, channel="y", border="replicate", data_range=255.0)
    torch.testing.assert_close(a, b)


def test_conventions_differ_and_agree_on_identity(make_image) -> None:
    restored, sharp = make_image(2, 32, 32, seed=1), make_image(2, 32, 32, seed=2)
    variants = [
        ssim(restored, sharp),
        ssim(restored, sharp, border="replicate"),
        ssim(restored, sharp, channel="volume", border="replicate"),
        ssim(restored, sharp, channel="y", border="replicate"),
    ]
    for i, a in enumerate(variants):
        for b in variants[i + 1 :]:
            assert (a - b).abs().max() > 1e-4
    for kwargs in [{"channel": "volume", "border": "replicate"}, {"channel": "y"}]:
        torch.testing.assert_close(ssim(sharp, sharp, **kwargs), torch.ones(2))


def test_replicate_border_takes_images_smaller_than_the_window() -> None:
    image = torch.rand(1, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    score = ssim(image * 0.9, image, border="replicate")
    assert score.shape == (1,) and 0 < score.item() < 1


def test_ssim_rejects_bad_conventions() -> None:
    image = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="channel must be one of"):
        ssim(image, image, channel="lab")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="border must be one of"):
        ssim(image, image, border="reflect")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs border='replicate'"):
        ssim(image, image, channel="volume")
    with pytest.raises(ValueError, match="3 channels"):
        ssim(image[:, :1], image[:, :1], channel="y")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_psnr_y_matches_skimage(photos: list[np.ndarray], dtype: torch.dtype) -> None:
    pairs = _pairs(photos)
    restored, sharp = _batch([r for r, _ in pairs], dtype), _batch([s for _, s in pairs], dtype)
    expected = [
        peak_signal_noise_ratio(rgb2ycbcr(s)[..., 0], rgb2ycbcr(r)[..., 0], data_range=255.0)
        for r, s in pairs
    ]
    got = psnr(restored, sharp, channel="y")
    assert got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-4)
    # The same on the 0..255 scale.
    scaled = psnr(restored * 255, sharp * 255, channel="y", data_range=255.0)
    np.testing.assert_allclose(scaled.numpy(), expected, atol=1e-3)


def test_psnr_rejects_bad_channel() -> None:
    image = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match="channel must be one of"):
        psnr(image, image, channel="ycbcr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="3 channels"):
        psnr(image[:, :1], image[:, :1], channel="y")


def test_round_y_matches_matlab_on_8bit_images(photos: list[np.ndarray]) -> None:
    # rgb2ycbcr(uint8) rounds Y (halves away from zero); ssim() then sees integers 16..235.
    pairs = [(np.round(r * 255) / 255, s) for r, s in _pairs(photos)]
    restored = _batch([r for r, _ in pairs], torch.float64)
    sharp = _batch([s for _, s in pairs], torch.float64)
    rounded = [(np.floor(_y(r) + 0.5), np.floor(_y(s) + 0.5)) for r, s in pairs]
    expected = [_matlab_ssim(yr, ys, 255.0) for yr, ys in rounded]
    got = ssim(restored, sharp, channel="y", border="replicate", round_y=True)
    # 8-bit RGB can put Y exactly on k + 1/2; floating-point order then decides the rounding
    # (in MATLAB too), which moves a score by a few 1e-6.
    np.testing.assert_allclose(got.numpy(), expected, atol=2e-5)
    unrounded = ssim(restored, sharp, channel="y", border="replicate")
    assert (got - unrounded).abs().max() > 1e-4  # the rounding is not negligible
    expected_psnr = [peak_signal_noise_ratio(ys, yr, data_range=255.0) for yr, ys in rounded]
    got_psnr = psnr(restored, sharp, channel="y", round_y=True)
    np.testing.assert_allclose(got_psnr.numpy(), expected_psnr, atol=1e-3)


def test_round_y_needs_the_y_channel() -> None:
    image = torch.rand(1, 3, 16, 16)
    for metric in (ssim, psnr):
        with pytest.raises(ValueError, match="round_y=True needs channel='y'"):
            metric(image, image, round_y=True)
        with pytest.raises(TypeError, match="round_y must be a bool"):
            metric(image, image, channel="y", round_y=1)  # type: ignore[arg-type]


def test_volume_of_one_channel_is_the_2d_matlab_ssim(make_image) -> None:
    restored, sharp = make_image(2, 20, 24, seed=6)[:, :1], make_image(2, 20, 24, seed=7)[:, :1]
    torch.testing.assert_close(
        ssim(restored, sharp, channel="volume", border="replicate"),
        ssim(restored, sharp, border="replicate"),
    )
