"""The camera model: gamma paths against hand computation, noise statistics, JPEG, highlights."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from deblurgan.blur import (
    Degradation,
    add_poisson_gaussian_noise,
    degrade,
    jpeg_compress,
    linear_motion_kernels,
    parse_gamma,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _box(k: int) -> torch.Tensor:
    return torch.full((k, k), 1.0 / k**2, dtype=torch.float64)


def _srgb_decode(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _srgb_encode(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


@pytest.mark.parametrize("gamma", [None, 2.2, "srgb"])
def test_gamma_paths_match_a_manual_computation(make_image, gamma) -> None:
    sharp = make_image(1, 24, 28, seed=2).double()
    kernel = torch.rand(5, 5, generator=_gen(0), dtype=torch.float64)
    kernel /= kernel.sum()
    blurry = degrade(sharp, kernel, gamma=gamma, noise=None, generator=_gen(0))
    x = sharp[0].numpy()
    if gamma is None:
        light = x
    elif gamma == "srgb":
        light = _srgb_decode(x)
    else:
        light = x**2.2
    conv = np.stack(
        [ndimage.convolve(c, kernel.numpy(), mode="mirror") for c in light]
    )  # true convolution, reflect padding
    if gamma is None:
        expected = conv
    elif gamma == "srgb":
        expected = _srgb_encode(conv)
    else:
        expected = conv ** (1 / 2.2)
    np.testing.assert_allclose(blurry[0].numpy(), expected, atol=1e-9)


def test_linear_light_blur_brightens_edges_compared_to_encoded() -> None:
    # Averaging black and white in linear light gives a brighter grey than averaging codes.
    sharp = torch.zeros(1, 3, 8, 8, dtype=torch.float64)
    sharp[..., 4:] = 1.0
    kernel = torch.tensor([[0.0, 0.0, 0.0], [0.5, 0.0, 0.5], [0.0, 0.0, 0.0]], dtype=torch.float64)
    linear = degrade(sharp, kernel, noise=None, generator=_gen(0))
    encoded = degrade(sharp, kernel, gamma=None, noise=None, generator=_gen(0))
    assert float(encoded[0, 0, 0, 4]) == pytest.approx(0.5)
    assert float(linear[0, 0, 0, 4]) == pytest.approx(float(_srgb_encode(np.array(0.5))))


def test_poisson_variance_grows_with_the_signal() -> None:
    levels = torch.tensor([0.05, 0.2, 0.6], dtype=torch.float64)
    flat = levels.view(3, 1, 1, 1).expand(3, 1, 128, 128).clone()
    photons = 200.0
    noisy = add_poisson_gaussian_noise(flat, photons, 0.0, generator=_gen(1))
    var = noisy.var(dim=(1, 2, 3))
    torch.testing.assert_close(noisy.mean(dim=(1, 2, 3)), levels, atol=3e-3, rtol=0)
    torch.testing.assert_close(var, levels / photons, rtol=0.08, atol=0)
    # With read noise the variance is x / photons + std^2 (Foi et al. 2008).
    noisy = add_poisson_gaussian_noise(flat, photons, 0.03, generator=_gen(2))
    torch.testing.assert_close(
        noisy.var(dim=(1, 2, 3)), levels / photons + 0.03**2, rtol=0.08, atol=0
    )


def test_degrade_noise_statistics_and_params() -> None:
    flat = torch.full((2, 3, 96, 96), 0.5, dtype=torch.float64)
    blurry, params = Degradation(gamma=None, noise_std=(0.02, 0.05))(flat, None, generator=_gen(4))
    std = params["noise_std"].double()
    assert ((std >= 0.02) & (std <= 0.05)).all() and std[0] != std[1]
    torch.testing.assert_close((blurry - flat).std(dim=(1, 2, 3)), std, rtol=0.05, atol=0)
    camera = Degradation(gamma=None, noise="poisson_gaussian", photons=(50.0, 60.0))
    blurry, params = camera(flat, None, generator=_gen(5))
    assert set(params) == {"noise_std", "photons"}
    expected = 0.5 / params["photons"].double()
    torch.testing.assert_close(blurry.var(dim=(1, 2, 3)), expected, rtol=0.08, atol=0)


def test_linear_domain_noise_is_stronger_in_the_shadows() -> None:
    # Read noise added in linear light is stretched by the steep sRGB curve near black.
    image = torch.cat([torch.full((1, 3, 64, 32), 0.1), torch.full((1, 3, 64, 32), 0.8)], dim=-1)
    camera = Degradation(noise_std=0.002, noise_domain="linear")
    blurry, _ = camera(image.double(), None, generator=_gen(0))
    dark, bright = (blurry - image)[..., :32].std(), (blurry - image)[..., 32:].std()
    assert dark > 2.5 * bright


def test_jpeg_changes_pixels_but_stays_close(photo) -> None:
    crop = torch.from_numpy(photo[100:164, 180:244].copy()).permute(2, 0, 1).float() / 255
    sharp = torch.stack([crop, crop])
    out = jpeg_compress(sharp, torch.tensor([60, 95]))
    assert out.shape == sharp.shape and out.dtype == sharp.dtype
    assert not torch.equal(out, sharp)
    mse = ((out - sharp) ** 2).mean(dim=(1, 2, 3))
    psnr = -10 * torch.log10(mse)
    assert (psnr > 28).all() and psnr[1] > psnr[0] + 3
    # The same bytes as Pillow's encoder on the 8-bit image (the reference).
    pixels = (sharp[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=60)
    reference = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    np.testing.assert_array_equal((out[0] * 255).round().byte().permute(1, 2, 0).numpy(), reference)


def test_jpeg_quality_range_is_drawn_per_image(make_image) -> None:
    camera = Degradation(noise=None, jpeg_quality=(30, 40))
    blurry, params = camera(make_image(4, 32, 32), _box(3).float(), generator=_gen(0))
    quality = params["jpeg_quality"]
    assert quality.dtype == torch.int64 and ((quality >= 30) & (quality <= 40)).all()
    assert torch.equal((blurry * 255).round() / 255, blurry)


def test_clipped_highlights_saturate_along_the_streak() -> None:
    sharp = torch.full((1, 3, 32, 32), 0.2)
    sharp[..., 14:18, 14:18] = 1.0  # a light source
    kernel = linear_motion_kernels(12.0, 0.0, 15)[0]
    plain = degrade(sharp, kernel, noise=None, generator=_gen(0))
    boosted, params = Degradation(noise=None, clip_highlights=True, highlight_gain=8.0)(
        sharp, kernel, generator=_gen(0)
    )
    assert float(params["highlight_gain"][0]) == 8.0
    saturated_plain = int((plain[0, 0] > 0.999).sum())
    saturated_boosted = int((boosted[0, 0] > 0.999).sum())
    assert saturated_plain == 0 and saturated_boosted >= 4 * 8
    assert (boosted >= plain - 1e-5).all() and boosted.max() <= 1.0
    # Away from the light nothing changes.
    torch.testing.assert_close(boosted[..., :8, :], plain[..., :8, :])


def test_same_seed_same_output(make_image) -> None:
    camera = Degradation(noise="poisson_gaussian", noise_std=(0.0, 0.02), jpeg_quality=(50, 90))
    sharp, kernel = make_image(2, 32, 32), _box(5).float()
    first, p1 = camera(sharp, kernel, generator=_gen(9))
    again, p2 = camera(sharp, kernel, generator=_gen(9))
    other, _ = camera(sharp, kernel, generator=_gen(10))
    assert torch.equal(first, again) and all(torch.equal(p1[k], p2[k]) for k in p1)
    assert not torch.equal(first, other)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gamma": "rec709"},
        {"gamma": -1.0},
        {"noise": "salt"},
        {"noise_std": (0.2, 0.1)},
        {"photons": 0.0},
        {"noise_domain": "raw"},
        {"jpeg_quality": 0},
        {"jpeg_quality": (90, 50)},
        {"highlight_gain": 0.5},
        {"highlight_threshold": 1.0},
    ],
)
def test_bad_settings_are_rejected(kwargs) -> None:
    with pytest.raises(ValueError):
        Degradation(**kwargs)


def test_parse_gamma_and_generator_checks() -> None:
    assert parse_gamma("2.2") == 2.2 and parse_gamma("SRGB") == "srgb" and parse_gamma(None) is None
    with pytest.raises(TypeError, match="Generator"):
        Degradation()(torch.rand(3, 8, 8), None, generator=None)  # type: ignore[arg-type]
