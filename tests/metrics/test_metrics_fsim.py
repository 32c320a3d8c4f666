"""FSIM/FSIMc against a numpy/scipy port of FeatureSIM.m (with phasecong2), on real photos."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from scipy.signal import convolve2d

from deblurgan.metrics import fsim, phase_congruency


def _conv2_same(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """MATLAB conv2(A, K, 'same'): the full convolution from index floor(size(K) / 2)."""
    full = convolve2d(a, k, mode="full")
    r0, c0 = k.shape[0] // 2, k.shape[1] // 2
    return full[r0 : r0 + a.shape[0], c0 : c0 + a.shape[1]]


def _centred_range(n: int) -> np.ndarray:
    if n % 2:
        return np.arange(-(n - 1) / 2, (n - 1) / 2 + 1) / (n - 1)
    return np.arange(-n / 2, n / 2) / n


def _phasecong2(im: np.ndarray) -> np.ndarray:
    """phasecong2 of FeatureSIM.m, loop for loop."""
    nscale, norient, min_wavelength, mult = 4, 4, 6, 2
    sigma_onf, d_theta_on_sigma, k, epsilon = 0.55, 1.2, 2.0, 1e-4
    theta_sigma = np.pi / norient / d_theta_on_sigma
    rows, cols = im.shape
    imagefft = np.fft.fft2(im)
    x, y = np.meshgrid(_centred_range(cols), _centred_range(rows))
    radius = np.sqrt(x**2 + y**2)
    lp = np.fft.ifftshift(1.0 / (1.0 + (radius / 0.45) ** (2 * 15)))
    theta = np.fft.ifftshift(np.arctan2(-y, x))
    radius = np.fft.ifftshift(radius)
    radius[0, 0] = 1
    sintheta, costheta = np.sin(theta), np.cos(theta)
    log_gabor = []
    for s in range(nscale):
        fo = 1.0 / (min_wavelength * mult**s)
        lg = np.exp(-(np.log(radius / fo) ** 2) / (2 * np.log(sigma_onf) ** 2)) * lp
        lg[0, 0] = 0
        log_gabor.append(lg)
    spread = []
    for o in range(norient):
        angl = o * np.pi / norient
        ds = sintheta * np.cos(angl) - costheta * np.sin(angl)
        dc = costheta * np.cos(angl) + sintheta * np.sin(angl)
        spread.append(np.exp(-(np.abs(np.arctan2(ds, dc)) ** 2) / (2 * theta_sigma**2)))
    energy_all = np.zeros((rows, cols))
    an_all = np.zeros((rows, cols))
    for o in range(norient):
        sum_e = np.zeros((rows, cols))
        sum_o = np.zeros((rows, cols))
        sum_an = np.zeros((rows, cols))
        energy = np.zeros((rows, cols))
        eo, ifft_filters = [], []
        em_n = 0.0
        for s in range(nscale):
            filt = log_gabor[s] * spread[o]
            ifft_filters.append(np.real(np.fft.ifft2(filt)) * np.sqrt(rows * cols))
            eo.append(np.fft.ifft2(imagefft * filt))
            sum_an += np.abs(eo[s])
            sum_e += eo[s].real
            sum_o += eo[s].imag
            if s == 0:
                em_n = np.sum(filt**2)
        x_energy = np.sqrt(sum_e**2 + sum_o**2) + epsilon
        mean_e, mean_o = sum_e / x_energy, sum_o / x_energy
        for s in range(nscale):
            e, od = eo[s].real, eo[s].imag
            energy += e * mean_e + od * mean_o - np.abs(e * mean_o - od * mean_e)
        median_e2n = np.median(np.abs(eo[0]) ** 2)
        noise_power = (-median_e2n / np.log(0.5)) / em_n
        est_sum_an2 = sum(f**2 for f in ifft_filters).sum()
        est_sum_aiaj = sum(
            ifft_filters[i] * ifft_filters[j] for i in range(nscale) for j in range(i + 1, nscale)
        ).sum()
        tau = np.sqrt((2 * noise_power * est_sum_an2 + 4 * noise_power * est_sum_aiaj) / 2)
        t = (tau * np.sqrt(np.pi / 2) + k * np.sqrt((2 - np.pi / 2) * tau**2)) / 1.7
        energy_all += np.maximum(energy - t, 0)
        an_all += sum_an
    return energy_all / an_all


def _feature_sim(ref: np.ndarray, dis: np.ndarray) -> tuple[float, float]:
    """FeatureSIM(imageRef, imageDis) on H x W x 3 arrays on the [0, 255] scale."""
    rows, cols = ref.shape[:2]

    def planes(img: np.ndarray) -> tuple[np.ndarray, ...]:
        r, g, b = img[..., 0], img[..., 1], img[..., 2]
        return (
            0.299 * r + 0.587 * g + 0.114 * b,
            0.596 * r - 0.274 * g - 0.322 * b,
            0.211 * r - 0.523 * g + 0.312 * b,
        )

    f = max(1, math.floor(min(rows, cols) / 256 + 0.5))  # MATLAB round: halves away from 0
    kernel = np.ones((f, f)) / f**2
    (y1, i1, q1), (y2, i2, q2) = (
        tuple(_conv2_same(p, kernel)[::f, ::f] for p in planes(img)) for img in (ref, dis)
    )
    pc1, pc2 = _phasecong2(y1), _phasecong2(y2)
    dx = np.array([[3, 0, -3], [10, 0, -10], [3, 0, -3]]) / 16
    dy = np.array([[3, 10, 3], [0, 0, 0], [-3, -10, -3]]) / 16
    g1 = np.sqrt(_conv2_same(y1, dx) ** 2 + _conv2_same(y1, dy) ** 2)
    g2 = np.sqrt(_conv2_same(y2, dx) ** 2 + _conv2_same(y2, dy) ** 2)
    pc_sim = (2 * pc1 * pc2 + 0.85) / (pc1**2 + pc2**2 + 0.85)
    g_sim = (2 * g1 * g2 + 160) / (g1**2 + g2**2 + 160)
    pcm = np.maximum(pc1, pc2)
    fsim_value = np.sum(g_sim * pc_sim * pcm) / np.sum(pcm)
    i_sim = (2 * i1 * i2 + 200) / (i1**2 + i2**2 + 200)
    q_sim = (2 * q1 * q2 + 200) / (q1**2 + q2**2 + 200)
    chroma = np.real(np.power((i_sim * q_sim).astype(complex), 0.03))
    fsimc_value = np.sum(g_sim * pc_sim * chroma * pcm) / np.sum(pcm)
    return float(fsim_value), float(fsimc_value)


def _degrade(sharp: np.ndarray, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        gaussian_filter(sharp, sigma=(1.5, 1.5, 0)),
        np.clip(sharp + rng.normal(0, 0.05, sharp.shape), 0, 1),
        # A colour shift, so that FSIMc's chroma term matters.
        np.clip(sharp * np.array([1.1, 0.9, 1.0]), 0, 1),
    ]


def _batch(images: list[np.ndarray], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in images]).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fsim_matches_feature_sim_m(photos: list[np.ndarray], dtype: torch.dtype) -> None:
    sharp = photos[1][20:116, 30:150].astype(np.float64) / 255.0  # 96x120: F = 1
    restored = _degrade(sharp, seed=0)
    ref = [_feature_sim(sharp * 255, r * 255) for r in restored]
    batch_r, batch_s = _batch(restored, dtype), _batch([sharp] * len(restored), dtype)
    tol = 2e-4 if dtype == torch.float32 else 1e-9
    got = fsim(batch_r, batch_s)
    assert got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), [f for f, _ in ref], atol=tol)
    np.testing.assert_allclose(
        fsim(batch_r, batch_s, chromatic=True).numpy(), [c for _, c in ref], atol=tol
    )


def test_phase_congruency_matches_phasecong2_on_odd_sizes(photo: np.ndarray) -> None:
    grey = photo[100:163, 200:251].astype(np.float64) @ np.array([0.299, 0.587, 0.114])  # 63x51
    expected = _phasecong2(grey)
    got = phase_congruency(torch.from_numpy(grey)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(got, expected, atol=1e-10)
    assert 0 <= got.min() and got.max() <= 1


@pytest.mark.parametrize(
    ("rows", "cols", "factor"),
    [(400, 420, 2), pytest.param(641, 650, 3, marks=pytest.mark.slow)],  # round(1.56), round(2.5)
)
def test_fsim_downsampling_matches_feature_sim_m(
    photo: np.ndarray, rows: int, cols: int, factor: int
) -> None:
    tiled = np.pad(photo.astype(np.float64) / 255.0, ((0, 200), (0, 200), (0, 0)), mode="reflect")
    sharp = tiled[:rows, :cols]
    assert max(1, math.floor(min(rows, cols) / 256 + 0.5)) == factor
    restored = _degrade(sharp, seed=1)[:2]
    ref = [_feature_sim(sharp * 255, r * 255) for r in restored]
    got = fsim(_batch(restored), _batch([sharp] * 2), chromatic=True)
    np.testing.assert_allclose(got.numpy(), [c for _, c in ref], atol=1e-9)


def test_fsim_matlab_rounds_halves_up(photo: np.ndarray) -> None:
    # min side 640: MATLAB round(2.5) = 3, Python round(2.5) = 2; the port must take 3.
    sharp = np.pad(photo / 255.0, ((0, 128), (0, 128), (0, 0)), mode="reflect")[:640, :640]
    restored = gaussian_filter(sharp, sigma=(1.0, 1.0, 0))
    expected, _ = _feature_sim(sharp * 255, restored * 255)
    got = fsim(_batch([restored]), _batch([sharp])).item()
    assert got == pytest.approx(expected, abs=1e-9)


def test_fsim_identity_range_symmetry_and_order(photo: np.ndarray) -> None:
    sharp = photo[96:224, 160:288].astype(np.float64) / 255.0  # 128x128
    batch_s = _batch([sharp] * 4)
    torch.testing.assert_close(fsim(batch_s, batch_s), torch.ones(4, dtype=torch.float64))
    torch.testing.assert_close(
        fsim(batch_s, batch_s, chromatic=True), torch.ones(4, dtype=torch.float64)
    )
    blurred = _batch([gaussian_filter(sharp, sigma=(s, s, 0)) for s in (0.5, 1.0, 2.0, 4.0)])
    rng = np.random.default_rng(3)
    noisy = _batch(
        [np.clip(sharp + rng.normal(0, s, sharp.shape), 0, 1) for s in (0.02, 0.05, 0.1, 0.2)]
    )
    for degraded in (blurred, noisy):
        for chromatic in (False, True):
            scores = fsim(degraded, batch_s, chromatic=chromatic)
            assert (scores.diff() < 0).all(), scores
            assert (scores > 0).all() and (scores < 1).all()
            torch.testing.assert_close(scores, fsim(batch_s, degraded, chromatic=chromatic))


def test_fsim_grey_images_and_scale(make_image) -> None:
    restored, sharp = make_image(2, 40, 48, seed=1), make_image(2, 40, 48, seed=2)
    grey_r, grey_s = restored[:, :1], sharp[:, :1]
    # For grey images FSIMc equals FSIM, as in FeatureSIM.m.
    torch.testing.assert_close(fsim(grey_r, grey_s), fsim(grey_r, grey_s, chromatic=True))
    torch.testing.assert_close(
        fsim(restored * 255, sharp * 255, data_range=255.0), fsim(restored, sharp)
    )


def test_fsim_flat_images_score_one() -> None:
    flat = torch.full((2, 3, 16, 16), 0.5)
    torch.testing.assert_close(fsim(flat, flat * 0.5, chromatic=True), torch.ones(2))


def test_fsim_rejects_bad_input() -> None:
    image = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        fsim(image[:, :2], image[:, :2])
    with pytest.raises(ValueError, match="at least 2x2"):
        fsim(image[..., :1, :], image[..., :1, :])
    with pytest.raises(ValueError, match="data_range"):
        fsim(image, image, data_range=0.0)
    with pytest.raises(TypeError, match="chromatic"):
        fsim(image, image, chromatic="yes")  # type: ignore[arg-type]


def test_fsim_is_differentiable(make_image) -> None:
    restored = make_image(1, 32, 32, seed=1).double().requires_grad_(True)
    fsim(restored, make_image(1, 32, 32, seed=2).double(), chromatic=True).sum().backward()
    assert restored.grad is not None and torch.isfinite(restored.grad).all()
