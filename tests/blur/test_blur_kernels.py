"""Camera-shake kernels: normalised, centred, seeded, with lengths that follow the parameters."""

from __future__ import annotations

import math

import pytest
import torch

from deblurgan.blur import BLUR_SAMPLERS, BlurSample, TrajectoryKernelSampler


def _moments(kernels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centre of mass (B, 2) as (row, col) and 2x2 covariance (B, 2, 2), computed in float64."""
    k = kernels.shape[-1]
    kd = kernels.double()
    idx = torch.arange(k, dtype=torch.float64)
    rows, cols = torch.meshgrid(idx, idx, indexing="ij")
    pts = torch.stack([rows, cols], dim=-1).view(1, k * k, 2)
    w = kd.reshape(-1, k * k, 1)
    com = (w * pts).sum(1)
    centred = pts - com.unsqueeze(1)
    cov = (w * centred).transpose(1, 2) @ centred
    return com, cov


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    ("kernel_size", "max_length"), [(3, None), (7, None), (15, None), (31, None), (15, 60.0)]
)
def test_kernels_are_nonnegative_normalised_and_centred(
    kernel_size: int, max_length: float | None
) -> None:
    sampler = TrajectoryKernelSampler(kernel_size, max_length=max_length, num_samples=400)
    sample = sampler.sample(40, generator=_gen(kernel_size))
    kernels = sample.kernels
    assert kernels.shape == (40, kernel_size, kernel_size) and kernels.dtype == torch.float32
    assert (kernels >= 0).all()
    torch.testing.assert_close(kernels.double().sum((1, 2)), torch.ones(40, dtype=torch.float64))
    com, _ = _moments(kernels)
    centre = (kernel_size - 1) / 2
    assert (com - centre).abs().max() < 0.05
    for value in sample.params.values():
        assert value.shape[0] == 40


def test_long_trajectories_are_scaled_to_fit() -> None:
    # Straight lines (anxiety 0) of length 100 cannot fit a 15x15 kernel: each is shrunk about its
    # centre until its ends touch the border, i.e. half-length * max(|cos|, |sin|) == 7.
    sampler = TrajectoryKernelSampler(15, max_length=100.0, anxiety=0.0, exposure=1.0)
    sample = sampler.sample(8, generator=_gen(3))
    assert (sample.params["scale"] < 1).all()
    angle = sample.params["angle"].double()
    reach = (
        sample.params["length"].double() / 2 * torch.maximum(angle.cos().abs(), angle.sin().abs())
    )
    torch.testing.assert_close(reach, torch.full_like(reach, 7.0), atol=1e-3, rtol=0)
    com, _ = _moments(sample.kernels)
    assert (com - 7).abs().max() < 0.05


def test_straight_line_matches_closed_form() -> None:
    # anxiety 0: a straight segment of length L. Its spread along the line is L^2 / 12 (uniform
    # density), plus at most 1/4 per axis from bilinear splatting; its direction is the angle.
    length = 20.0
    sampler = TrajectoryKernelSampler(31, max_length=length, anxiety=0.0, exposure=1.0)
    sample = sampler.sample(6, generator=_gen(5))
    torch.testing.assert_close(sample.params["length"], torch.full((6,), length), rtol=1e-4, atol=0)
    _, cov = _moments(sample.kernels)
    eigvals, eigvecs = torch.linalg.eigh(cov)
    assert ((eigvals[:, 1] - length**2 / 12).abs() < 0.5).all()
    assert (eigvals[:, 0] < 0.5).all()
    # Principal direction (row, col) vs the walk's direction (x = col, y = row), modulo pi.
    main = eigvecs[:, :, 1]
    angle = sample.params["angle"].double()
    cos_between = (main[:, 1] * angle.cos() + main[:, 0] * angle.sin()).abs()
    assert (cos_between > 0.999).all()


def test_tiny_exposure_gives_a_near_delta() -> None:
    sampler = TrajectoryKernelSampler(9, max_length=30.0, exposure=0.001)
    kernels = sampler.sample(5, generator=_gen(0)).kernels
    assert (kernels[:, 3:6, 3:6].sum((1, 2)) > 0.999).all()


def test_same_seed_same_kernels_other_seed_other_kernels() -> None:
    sampler = TrajectoryKernelSampler(15, num_samples=500)
    first = sampler.sample(4, generator=_gen(7))
    again = sampler.sample(4, generator=_gen(7))
    other = sampler.sample(4, generator=_gen(8))
    assert torch.equal(first.kernels, again.kernels)
    assert all(torch.equal(first.params[k], again.params[k]) for k in first.params)
    assert not torch.allclose(first.kernels, other.kernels)
    # Different kernels within a batch too.
    assert not torch.allclose(first.kernels[0], first.kernels[1])


def test_length_statistics_follow_max_length() -> None:
    short = TrajectoryKernelSampler(31, max_length=10.0).sample(100, generator=_gen(1))
    long = TrajectoryKernelSampler(31).sample(100, generator=_gen(1))  # max_length = 30
    # Exposed path length = exposure * max_length with exposure ~ U(0.1, 1): mean 0.55 * L.
    mean_long = float(long.params["length"].mean())
    assert 0.45 * 30 < mean_long < 0.65 * 30
    assert (long.params["length"] <= 30 + 1e-3).all()
    # Independently of the params: the kernels' spatial spread grows with max_length.
    _, cov_short = _moments(short.kernels)
    _, cov_long = _moments(long.kernels)
    spread_short = cov_short.diagonal(dim1=1, dim2=2).sum(1).sqrt().mean()
    spread_long = cov_long.diagonal(dim1=1, dim2=2).sum(1).sqrt().mean()
    assert spread_long > 2 * spread_short
    assert 1.0 < float(spread_long) < 15.0


def _support_extent(kernel: torch.Tensor) -> float:
    """Largest distance between two pixels of a kernel's support (projections on 180 angles)."""
    ys, xs = torch.nonzero(kernel > 1e-4, as_tuple=True)
    angles = torch.arange(180) * math.pi / 180
    projected = xs[:, None] * torch.cos(angles) + ys[:, None] * torch.sin(angles)
    return float((projected.amax(0) - projected.amin(0)).amax())


def test_size_by_extent_sets_the_distance_across_the_kernel() -> None:
    sampler = TrajectoryKernelSampler(81, max_length=40.0, exposure=1.0, size_by="extent")
    sample = sampler.sample(12, generator=_gen(3))
    assert (sample.params["scale"] == 1).all()  # twice the extent always holds the path
    extents = [_support_extent(k) for k in sample.kernels]
    # Bilinear splatting widens the support by up to one pixel at each end.
    assert all(39.0 <= e <= 42.5 for e in extents), extents
    # Curled walks have longer paths than their extent; a path is never shorter than it.
    assert (sample.params["length"] >= 40.0 - 1e-3).all()
    assert float(sample.params["length"].max()) > 50.0
    by_length = TrajectoryKernelSampler(81, max_length=40.0, exposure=1.0).sample(
        12, generator=_gen(3)
    )
    assert max(_support_extent(k) for k in by_length.kernels) < max(extents)
    with pytest.raises(ValueError, match="size_by"):
        TrajectoryKernelSampler(9, size_by="area")


def test_big_shakes_happen_when_likely() -> None:
    sampler = TrajectoryKernelSampler(
        15, anxiety=0.5, big_shake_prob=0.5, num_samples=200, exposure=1.0
    )
    sample = sampler.sample(4, generator=_gen(0))
    assert (sample.params["big_shakes"] > 0).all()


def test_registry_builds_the_sampler() -> None:
    sampler = BLUR_SAMPLERS.from_spec({"name": "trajectory", "kernel_size": 7, "num_samples": 50})
    assert isinstance(sampler, TrajectoryKernelSampler)
    assert isinstance(sampler.sample(1, generator=_gen(0)), BlurSample)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 8},
        {"kernel_size": 0},
        {"exposure": 0.0},
        {"exposure": (0.5, 1.5)},
        {"anxiety": (0.1, 0.01)},
        {"num_samples": 1},
        {"max_length": math.nan},
        {"centripetal": "high"},
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        TrajectoryKernelSampler(**kwargs)  # type: ignore[arg-type]


def test_sampling_needs_an_explicit_generator() -> None:
    with pytest.raises(TypeError, match="Generator"):
        TrajectoryKernelSampler(7).sample(1, generator=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch"):
        TrajectoryKernelSampler(7).sample(0, generator=_gen(0))


def test_blur_sample_checks_shapes() -> None:
    with pytest.raises(ValueError):
        BlurSample(torch.ones(2, 3, 4))
    with pytest.raises(ValueError):
        BlurSample(torch.ones(2, 3, 3), {"length": torch.ones(3)})


def _top_mass(kernels: torch.Tensor) -> torch.Tensor:
    """Share of each kernel's mass in the brightest tenth of its support."""
    flat = kernels.flatten(1).sort(dim=1, descending=True).values
    support = (flat > 0.05 * flat[:, :1]).sum(dim=1)
    return torch.stack(
        [row[: max(1, int(n) // 10)].sum() for row, n in zip(flat, support, strict=True)]
    )


def test_smooth_kernels_are_curves_of_varying_speed_and_softness() -> None:
    def sample(**kwargs: object) -> BlurSample:
        sampler = TrajectoryKernelSampler(
            81, max_length=40.0, exposure=1.0, size_by="extent", smooth_prob=1.0, **kwargs
        )
        return sampler.sample(16, generator=_gen(5))

    steady = sample(speed_variation=0.0)
    varied = sample(speed_variation=(1.0, 1.5))
    soft = sample(speed_variation=0.0, psf_sigma=(1.5, 1.5))
    assert steady.params["smooth"].all() and (steady.params["scale"] == 1).all()
    assert all(39.0 <= _support_extent(k) <= 42.5 for k in steady.kernels)
    # Dwelling concentrates the mass; a Gaussian PSF spreads it over more pixels.
    assert float(_top_mass(varied.kernels).median()) > 1.2 * float(
        _top_mass(steady.kernels).median()
    )
    assert ((soft.kernels > 1e-4).sum(dim=(1, 2)) > (steady.kernels > 1e-4).sum(dim=(1, 2))).all()
    assert torch.allclose(soft.kernels.sum(dim=(1, 2)), torch.ones(16))
    assert (soft.params["psf_sigma"] == 1.5).all()
    # Smooth curves do not curl up as random walks do: their paths are barely longer than wide.
    walks = TrajectoryKernelSampler(81, max_length=40.0, exposure=1.0, size_by="extent")
    walk_length = walks.sample(16, generator=_gen(5)).params["length"].median()
    assert float(steady.params["length"].median()) < float(walk_length)


def test_mixed_sampler_draws_both_kinds() -> None:
    sampler = TrajectoryKernelSampler(31, smooth_prob=0.5, num_samples=200)
    smooth = sampler.sample(64, generator=_gen(0)).params["smooth"]
    assert 10 < int(smooth.sum()) < 54
    with pytest.raises(ValueError, match="smooth_prob"):
        TrajectoryKernelSampler(31, smooth_prob=1.5)
