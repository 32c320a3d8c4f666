"""Applying blur: true convolution checked against scipy, alignment, noise level, sRGB gamma."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage, signal

from deblurgan.blur import (
    TrajectoryKernelSampler,
    add_gaussian_noise,
    blur_image,
    linear_to_srgb,
    srgb_to_linear,
)

# torch padding mode -> scipy.ndimage boundary mode with the same meaning.
SCIPY_MODES = {"reflect": "mirror", "replicate": "nearest", "circular": "wrap", "zeros": "constant"}


def _random_kernels(batch: int, k: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    kernels = torch.rand(batch, k, k, generator=g, dtype=torch.float64) ** 3  # asymmetric
    return kernels / kernels.sum((1, 2), keepdim=True)


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("padding", sorted(SCIPY_MODES))
@pytest.mark.parametrize("k", [5, 17])
def test_blur_matches_scipy_convolve(make_image, method: str, padding: str, k: int) -> None:
    sharp = make_image(2, 40, 48, seed=k).double()
    kernels = _random_kernels(2, k, seed=k)
    blurry = blur_image(sharp, kernels, padding=padding, method=method)
    assert blurry.shape == sharp.shape and blurry.dtype == sharp.dtype
    for b in range(2):
        for c in range(3):
            expected = ndimage.convolve(
                sharp[b, c].numpy(), kernels[b].numpy(), mode=SCIPY_MODES[padding]
            )
            np.testing.assert_allclose(blurry[b, c].numpy(), expected, atol=1e-10)


def test_interior_matches_scipy_signal_in_float32(make_image) -> None:
    sharp = make_image(1, 64, 64, seed=3)
    kernel = _random_kernels(1, 15, seed=1)[0].float()
    reference = signal.convolve2d(sharp[0, 1].numpy(), kernel.numpy(), mode="valid")
    for method in ("direct", "fft"):
        blurry = blur_image(sharp, kernel, method=method)
        assert blurry.dtype == torch.float32
        np.testing.assert_allclose(blurry[0, 1, 7:-7, 7:-7].numpy(), reference, atol=2e-6)


def test_delta_kernel_is_identity_and_constant_stays_constant(make_image) -> None:
    sharp = make_image(2, 32, 32)
    delta = torch.zeros(9, 9)
    delta[4, 4] = 1.0
    for method in ("direct", "fft"):
        torch.testing.assert_close(
            blur_image(sharp, delta, method=method), sharp, atol=1e-6, rtol=0
        )
    kernels = (
        TrajectoryKernelSampler(9, num_samples=200)
        .sample(2, generator=torch.Generator().manual_seed(0))
        .kernels
    )
    constant = torch.full((2, 3, 24, 24), 0.37)
    for method in ("direct", "fft"):
        out = blur_image(constant, kernels, method=method)
        torch.testing.assert_close(out, constant, atol=1e-6, rtol=0)


def test_centred_kernel_keeps_alignment() -> None:
    # Convolution adds first moments: a symmetric blob blurred by a kernel whose centre of mass is
    # the kernel centre keeps its centroid (zero padding, blob far from the border).
    ys, xs = torch.meshgrid(torch.arange(96.0), torch.arange(96.0), indexing="ij")
    blob = torch.exp(-((ys - 47.5) ** 2 + (xs - 47.5) ** 2) / (2 * 5.0**2))
    sharp = blob.expand(4, 3, 96, 96).contiguous()
    kernels = (
        TrajectoryKernelSampler(21, max_length=40.0)
        .sample(4, generator=torch.Generator().manual_seed(2))
        .kernels
    )
    blurry = blur_image(sharp, kernels, padding="zeros")
    mass = blurry[:, 0].double().sum((1, 2))
    cy = (blurry[:, 0].double() * ys.double()).sum((1, 2)) / mass
    cx = (blurry[:, 0].double() * xs.double()).sum((1, 2)) / mass
    assert (cy - 47.5).abs().max() < 0.05 and (cx - 47.5).abs().max() < 0.05
    assert not torch.allclose(blurry, sharp, atol=1e-3)  # it did blur


def test_single_image_and_broadcast_kernel(make_image) -> None:
    sharp = make_image(1, 20, 20)[0]
    kernel = _random_kernels(1, 3, seed=0).float()
    out = blur_image(sharp, kernel)
    assert out.shape == (3, 20, 20)
    torch.testing.assert_close(out, blur_image(sharp[None], kernel[0])[0])


@pytest.mark.parametrize(
    ("kernels", "match"),
    [
        (torch.ones(4, 4) / 16, "odd"),
        (torch.ones(3, 3, 3) / 9, "batch of 2"),
        (torch.ones(3, 5) / 15, r"\(k, k\)"),
        (torch.ones(1, 21, 21) / 441, "reflect"),
    ],
)
def test_bad_blur_inputs(kernels: torch.Tensor, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        blur_image(torch.rand(2, 3, 8, 8), kernels)


def test_bad_padding_and_method() -> None:
    with pytest.raises(ValueError, match="padding"):
        blur_image(torch.rand(1, 3, 8, 8), torch.ones(3, 3) / 9, padding="mirror")
    with pytest.raises(ValueError, match="method"):
        blur_image(torch.rand(1, 3, 8, 8), torch.ones(3, 3) / 9, method="spatial")


def test_noise_has_the_requested_std_and_is_seeded() -> None:
    image = torch.full((2, 3, 128, 128), 0.5)
    std = torch.tensor([0.02, 0.05])
    noisy = add_gaussian_noise(image, std, generator=torch.Generator().manual_seed(0))
    measured = (noisy - image).flatten(1).std(dim=1)
    torch.testing.assert_close(measured, std, rtol=0.03, atol=0)
    assert (noisy - image).mean().abs() < 1e-3
    again = add_gaussian_noise(image, std, generator=torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)
    scalar = add_gaussian_noise(image[0], 0.1, generator=torch.Generator().manual_seed(1))
    assert scalar.shape == (3, 128, 128)
    torch.testing.assert_close(float((scalar - 0.5).std()), 0.1, rtol=0.03, atol=0)


def test_noise_clamps_and_validates() -> None:
    image = torch.full((1, 3, 16, 16), 0.99)
    g = torch.Generator().manual_seed(0)
    assert add_gaussian_noise(image, 0.5, generator=g).max() <= 1.0
    assert add_gaussian_noise(image, 0.5, generator=g, clamp=False).max() > 1.0
    with pytest.raises(ValueError, match="non-negative"):
        add_gaussian_noise(image, -0.1, generator=g)
    with pytest.raises(ValueError, match="std"):
        add_gaussian_noise(image, torch.ones(3), generator=g)
    with pytest.raises(TypeError, match="Generator"):
        add_gaussian_noise(image, 0.1, generator=None)  # type: ignore[arg-type]


def test_srgb_transfer_function() -> None:
    x = torch.linspace(0, 1, 1001, dtype=torch.float64)
    lin = srgb_to_linear(x)
    # Closed form of IEC 61966-2-1, evaluated independently in numpy.
    xn = x.numpy()
    expected = np.where(xn <= 0.04045, xn / 12.92, ((xn + 0.055) / 1.055) ** 2.4)
    np.testing.assert_allclose(lin.numpy(), expected, atol=1e-12)
    torch.testing.assert_close(linear_to_srgb(lin), x, atol=1e-9, rtol=0)
    assert abs(float(srgb_to_linear(torch.tensor(0.5))) - 0.21404) < 1e-4
    t = torch.zeros(3, requires_grad=True)
    linear_to_srgb(t).sum().backward()
    assert t.grad is not None and torch.isfinite(t.grad).all()
