"""Linear, defocus and Gaussian kernels: the sampler contract and closed-form moments."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from scipy import stats

from deblurgan.blur import (
    BLUR_SAMPLERS,
    BlurSample,
    DefocusKernelSampler,
    GaussianKernelSampler,
    LinearMotionKernelSampler,
    defocus_kernels,
    gaussian_kernels,
    linear_motion_kernels,
)

# Tiny settings per registered sampler: a new sampler joins the contract test when added here.
TINY: dict[str, dict[str, Any]] = {
    "trajectory": {"kernel_size": 11, "num_samples": 100},
    "linear": {"kernel_size": 11},
    "defocus": {"kernel_size": 11},
    "gaussian": {"kernel_size": 11, "sigma": (0.5, 2.5), "sigma_y": (0.3, 2.5)},
}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _moments(kernels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centre of mass (B, 2) as (x, y) and covariance (B, 2, 2) in (x, y), y pointing *up*."""
    k = kernels.shape[-1]
    idx = torch.arange(k, dtype=torch.float64)
    rows, cols = torch.meshgrid(idx, idx, indexing="ij")
    pts = torch.stack([cols, -rows], dim=-1).view(1, k * k, 2)  # x right, y up
    w = kernels.double().reshape(-1, k * k, 1)
    com = (w * pts).sum(1)
    centred = pts - com.unsqueeze(1)
    return com, (w * centred).transpose(1, 2) @ centred


def test_every_sampler_is_tested() -> None:
    assert set(TINY) == set(BLUR_SAMPLERS)


@pytest.mark.parametrize("name", sorted(BLUR_SAMPLERS))
def test_sampler_contract(name: str) -> None:
    sampler = BLUR_SAMPLERS.build(name, **TINY[name])
    sample = sampler.sample(16, generator=_gen(1))
    assert isinstance(sample, BlurSample) and sample.kernels.shape == (16, 11, 11)
    kernels = sample.kernels
    assert kernels.dtype == torch.float32 and (kernels >= 0).all()
    torch.testing.assert_close(kernels.double().sum((1, 2)), torch.ones(16, dtype=torch.float64))
    com, _ = _moments(kernels)
    assert (com - torch.tensor([5.0, -5.0], dtype=torch.float64)).abs().max() < 0.05
    assert sample.params and all(v.shape[0] == 16 for v in sample.params.values())
    again = sampler.sample(16, generator=_gen(1))
    assert torch.equal(again.kernels, kernels)
    assert all(torch.equal(again.params[k], v) for k, v in sample.params.items())
    assert not torch.equal(sampler.sample(16, generator=_gen(2)).kernels, kernels)
    with pytest.raises(TypeError, match="Generator"):
        sampler.sample(1, generator=None)
    with pytest.raises(ValueError, match="batch"):
        sampler.sample(0, generator=_gen(0))


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 137.0])
def test_line_moments_match_a_uniform_segment(angle: float) -> None:
    # Along the line: variance L^2/12 plus at most 1/4 from bilinear splatting; across: <= 1/4.
    lengths = torch.tensor([3.0, 8.0, 14.0, 20.0])
    kernels = linear_motion_kernels(lengths, torch.full((4,), angle), 21)
    com, cov = _moments(kernels)
    assert (com - torch.tensor([10.0, -10.0], dtype=torch.float64)).abs().max() < 1e-4
    eigvals, eigvecs = torch.linalg.eigh(cov)
    along = eigvals[:, 1] - lengths.double() ** 2 / 12
    assert ((along > -0.01) & (along < 0.26)).all(), along
    assert (eigvals[:, 0] < 0.26).all()
    # Principal direction, counter-clockwise as displayed (y up in _moments), modulo 180 degrees.
    rad = math.radians(angle)
    cos_between = (eigvecs[:, 0, 1] * math.cos(rad) + eigvecs[:, 1, 1] * math.sin(rad)).abs()
    assert (cos_between > 0.999).all()


def test_line_orientation_convention() -> None:
    vertical = linear_motion_kernels(4.0, 90.0, 7)[0]
    assert vertical[:, 3].sum() > 0.999  # all the mass in the centre column
    rising = linear_motion_kernels(4.0, 45.0, 7)[0]
    assert rising[2, 4] > 0 and rising[4, 2] > 0  # up-right and down-left of the centre
    assert rising[2, 2] == 0 and rising[4, 4] == 0
    assert torch.equal(linear_motion_kernels(0.0, 10.0, 5)[0], _delta(5))


def _delta(k: int) -> torch.Tensor:
    kernel = torch.zeros(k, k)
    kernel[k // 2, k // 2] = 1
    return kernel


def test_line_lengths_follow_the_range_and_the_kernels() -> None:
    sampler = LinearMotionKernelSampler(31, length=(2.0, 28.0))
    sample = sampler.sample(300, generator=_gen(3))
    lengths = sample.params["length"].double()
    # The drawn lengths are uniform on the range (Kolmogorov-Smirnov at a fixed seed).
    assert stats.kstest(lengths.numpy(), stats.uniform(loc=2.0, scale=26.0).cdf).pvalue > 0.01
    assert float(lengths.mean()) == pytest.approx(15.0, abs=1.0)
    # Independently, each kernel's spread gives back its length: sqrt(12 var) within splatting.
    _, cov = _moments(sample.kernels)
    measured = (12 * torch.linalg.eigvalsh(cov)[:, 1]).sqrt()
    excess = measured - lengths
    assert (excess > -0.02).all() and (excess < 1.5 / lengths + 0.02).all()


@pytest.mark.parametrize("radius", [1.5, 3.2, 6.0])
def test_disk_area_and_second_moment(radius: float) -> None:
    kernel = defocus_kernels(radius, 15)[0].double()
    # Fully covered pixels hold the maximum weight 1/area, so area = sum / max = pi r^2.
    area = float(kernel.sum() / kernel.max())
    assert math.sqrt(area / math.pi) == pytest.approx(radius, rel=0.01)
    # Per-axis variance of a disk r^2/4, plus 1/12 from the pixel's area (box filter); the
    # pixel grid samples that smooth profile well once the disk spans a few pixels.
    _, cov = _moments(kernel[None])
    expected = radius**2 / 4 + 1 / 12
    tolerance = 0.03 if radius >= 3 else 0.15
    assert float(cov[0, 0, 0]) == pytest.approx(expected, rel=tolerance)
    assert float(cov[0, 1, 1]) == pytest.approx(expected, rel=tolerance)
    assert abs(float(cov[0, 0, 1])) < 1e-9
    assert torch.equal(kernel, kernel.flip(0)) and torch.equal(kernel, kernel.t())


def test_tiny_disk_is_the_identity() -> None:
    assert torch.equal(defocus_kernels(0.0, 5)[0], _delta(5))


@pytest.mark.parametrize(
    ("sigma_x", "sigma_y", "theta"), [(1.5, 1.5, 0.0), (3.0, 1.0, 0.0), (3.0, 1.2, 30.0)]
)
def test_gaussian_covariance_matches_sigma(sigma_x: float, sigma_y: float, theta: float) -> None:
    kernel = gaussian_kernels(sigma_x, sigma_y, theta, 25)
    _, cov = _moments(kernel)
    rad = math.radians(theta)
    rot = torch.tensor([[math.cos(rad), -math.sin(rad)], [math.sin(rad), math.cos(rad)]])
    expected = rot @ torch.diag(torch.tensor([sigma_x**2, sigma_y**2])) @ rot.T
    torch.testing.assert_close(cov[0], expected.double(), atol=0.02, rtol=0.01)


def test_isotropic_gaussian_sampler() -> None:
    sample = GaussianKernelSampler(15, sigma=(0.5, 3.0)).sample(8, generator=_gen(0))
    assert torch.equal(sample.params["sigma_x"], sample.params["sigma_y"])
    kernels = sample.kernels
    torch.testing.assert_close(kernels, kernels.transpose(1, 2))


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (LinearMotionKernelSampler, {"kernel_size": 8}),
        (LinearMotionKernelSampler, {"kernel_size": 9, "length": 9.0}),
        (LinearMotionKernelSampler, {"kernel_size": 9, "length": (5.0, 2.0)}),
        (DefocusKernelSampler, {"kernel_size": 9, "radius": 5.0}),
        (DefocusKernelSampler, {"kernel_size": 9, "supersample": 0}),
        (GaussianKernelSampler, {"kernel_size": 9, "sigma": 3.0}),
        (GaussianKernelSampler, {"kernel_size": 9, "sigma_y": -1.0}),
    ],
)
def test_bad_settings_are_rejected(cls: type, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        cls(**kwargs)
