"""Parametric blur kernels: straight linear motion, defocus disks and Gaussians, with samplers.

Every kernel is non-negative, sums to 1 and has its centre of mass on the centre pixel of its odd
``k x k`` grid, so blurring never shifts the image. Angles are in degrees, counter-clockwise from
the +x axis *as the image is displayed* (rows grow downwards), as in MATLAB's
``fspecial('motion', len, theta)``: a line at 90 degrees is vertical.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from deblurgan.blur.checks import check_generator, check_range
from deblurgan.blur.registries import BLUR_SAMPLERS
from deblurgan.blur.trajectory import (
    Range,
    _uniform,
    rasterize_trajectories,
)
from deblurgan.blur.types import BlurSample

__all__ = [
    "DefocusKernelSampler",
    "GaussianKernelSampler",
    "LinearMotionKernelSampler",
    "defocus_kernels",
    "gaussian_kernels",
    "linear_motion_kernels",
]

# Sub-segments per pixel of line length: the midpoint rule then gives the variance of a uniform
# segment to a relative error of 1 / (16 L)^2.
_LINE_SAMPLES_PER_PIXEL = 16


def _check_kernel_size(kernel_size: object) -> int:
    if (
        not isinstance(kernel_size, int)
        or isinstance(kernel_size, bool)
        or kernel_size < 1
        or kernel_size % 2 == 0
    ):
        raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size!r}")
    return kernel_size


def _check_batch(batch: object) -> int:
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    return batch


def _as_vector(name: str, value: Tensor | float, batch: int | None = None) -> Tensor:
    """A finite float64 ``(B,)`` tensor from a number or a 0-d/1-d tensor."""
    x = torch.as_tensor(value, dtype=torch.float64)
    if x.ndim == 0:
        x = x.expand(1 if batch is None else batch)
    if x.ndim != 1:
        raise ValueError(f"{name} must be a number or a (B,) tensor, got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} must be finite, got {x.tolist()}")
    return x


def _bounded(name: str, value: Range, limit: float, why: str) -> tuple[float, float]:
    """A valid ``(lo, hi)`` range in ``[0, limit]``, with a message that says why the limit is."""
    lo, hi = check_range(name, value, low=0.0, high=math.inf)
    if hi > limit:
        raise ValueError(
            f"{name} must be at most {limit:g}, that is {why}; got {value!r}: "
            "use a larger kernel_size"
        )
    return lo, hi


def _pixel_offsets(kernel_size: int, device: torch.device | None = None) -> tuple[Tensor, Tensor]:
    """``(dx, dy)`` float64 ``(k, k)`` offsets of every pixel centre from the kernel centre."""
    half = (kernel_size - 1) / 2
    idx = torch.arange(kernel_size, dtype=torch.float64, device=device) - half
    dy, dx = torch.meshgrid(idx, idx, indexing="ij")
    return dx, dy


def linear_motion_kernels(
    length: Tensor | float, angle: Tensor | float, kernel_size: int
) -> Tensor:
    """Anti-aliased straight-line kernels: uniform motion of ``length`` pixels through the centre.

    The segment ``[-L/2, L/2]`` along direction ``angle`` is cut into ``16 L`` equal pieces whose
    midpoints are splatted bilinearly, which is the segment convolved with a one-pixel tent: the
    spread along the line is ``L^2 / 12`` (plus at most 1/4 from the splatting) and the centre of
    mass is exactly the centre. ``L = 0`` gives the identity kernel.

    Args:
        length: ``(B,)`` lengths in pixels, each in ``[0, kernel_size - 1]`` (or one number).
        angle: ``(B,)`` directions in degrees, counter-clockwise as displayed (or one number).
        kernel_size: odd side ``k``.

    Returns:
        float32 ``(B, k, k)`` kernels summing to 1.

    Example:
        >>> linear_motion_kernels(2.0, 0.0, 3)[0]
        tensor([[0.0000, 0.0000, 0.0000],
                [0.2500, 0.5000, 0.2500],
                [0.0000, 0.0000, 0.0000]])
    """
    k = _check_kernel_size(kernel_size)
    lengths = _as_vector("length", length)
    angles = _as_vector("angle", angle, lengths.shape[0])
    if lengths.shape[0] == 1 and angles.shape[0] > 1:
        lengths = lengths.expand(angles.shape[0])
    if lengths.shape != angles.shape:
        raise ValueError(
            f"length and angle must have the same batch size, got {tuple(lengths.shape)} "
            f"and {tuple(angles.shape)}"
        )
    if (lengths < 0).any() or (lengths > k - 1 + 1e-9).any():
        raise ValueError(
            f"length must be in [0, kernel_size - 1] = [0, {k - 1}] so the line fits the kernel "
            f"at any angle, got {lengths.tolist()}; use a larger kernel_size"
        )
    n = max(1, math.ceil(float(lengths.max()) * _LINE_SAMPLES_PER_PIXEL))
    # Midpoints of n equal pieces of [-1/2, 1/2], scaled by each length.
    u = (torch.arange(n, dtype=torch.float64) + 0.5) / n - 0.5  # (n,)
    theta = torch.deg2rad(angles)
    # Rows grow downwards, so counter-clockwise on screen is -sin in the row direction.
    direction = torch.complex(theta.cos(), -theta.sin())  # (B,)
    positions = (lengths.unsqueeze(1) * u) * direction.unsqueeze(1)  # (B, n) complex
    kernels, _ = rasterize_trajectories(positions, torch.ones(positions.shape), k)
    return kernels


def defocus_kernels(radius: Tensor | float, kernel_size: int, *, supersample: int = 16) -> Tensor:
    """Out-of-focus disks (pillbox PSFs): each pixel weighted by the area of it inside the disk.

    The covered area of a pixel is estimated on a ``supersample x supersample`` grid of points
    inside it. A radius too small to cover any of those points gives the identity kernel.

    Args:
        radius: ``(B,)`` radii in pixels, each in ``[0, kernel_size / 2]`` (or one number).
        kernel_size: odd side ``k``.
        supersample: points per pixel side for the area estimate.

    Returns:
        float32 ``(B, k, k)`` kernels summing to 1, symmetric about the centre.

    Example:
        >>> kernel = defocus_kernels(1.5, 5)[0]
        >>> round(float(kernel.sum() / kernel.max()), 2)  # area in pixels, about pi * 1.5^2 = 7.07
        7.05
    """
    k = _check_kernel_size(kernel_size)
    if not isinstance(supersample, int) or isinstance(supersample, bool) or supersample < 1:
        raise ValueError(f"supersample must be a positive integer, got {supersample!r}")
    radii = _as_vector("radius", radius)
    if (radii < 0).any() or (radii > k / 2 + 1e-9).any():
        raise ValueError(
            f"radius must be in [0, kernel_size / 2] = [0, {k / 2}], got {radii.tolist()}; "
            "use a larger kernel_size"
        )
    dx, dy = _pixel_offsets(k)
    s = supersample
    sub = (torch.arange(s, dtype=torch.float64) + 0.5) / s - 0.5  # (s,) symmetric about 0
    px = dx.reshape(k, k, 1, 1) + sub.view(1, 1, 1, s)
    py = dy.reshape(k, k, 1, 1) + sub.view(1, 1, s, 1)
    dist2 = (px**2 + py**2).reshape(k, k, s * s)  # squared distance of every sub-sample
    # One disk at a time keeps memory at k^2 s^2 whatever the batch size.
    coverage = torch.stack(
        [(dist2 <= r * r).to(torch.float64).mean(dim=-1) for r in radii.tolist()]
    )
    centre = k // 2
    empty = coverage.sum(dim=(1, 2)) == 0
    coverage[empty, centre, centre] = 1.0
    kernels = coverage / coverage.sum(dim=(1, 2), keepdim=True)
    return kernels.to(torch.float32)


def gaussian_kernels(
    sigma_x: Tensor | float,
    sigma_y: Tensor | float,
    theta: Tensor | float,
    kernel_size: int,
) -> Tensor:
    """Anisotropic Gaussian kernels sampled at the pixel centres and normalised to sum 1.

    The covariance is ``R diag(sigma_x^2, sigma_y^2) R^T``, where ``R`` turns the x axis by
    ``theta`` degrees counter-clockwise as displayed. ``sigma = 0`` along an axis gives a
    zero-width (discrete delta) profile along it. The kernel is truncated to ``k x k``.

    Args:
        sigma_x: ``(B,)`` standard deviations along the rotated x axis, pixels, ``>= 0``.
        sigma_y: ``(B,)`` standard deviations along the rotated y axis, pixels, ``>= 0``.
        theta: ``(B,)`` rotation in degrees.
        kernel_size: odd side ``k``.

    Returns:
        float32 ``(B, k, k)`` kernels summing to 1, symmetric about the centre.

    Example:
        >>> kernel = gaussian_kernels(1.0, 1.0, 0.0, 7)[0]
        >>> round(float(kernel[3, 3] / kernel[3, 4]), 4)  # exp(1/2)
        1.6487
    """
    k = _check_kernel_size(kernel_size)
    sx = _as_vector("sigma_x", sigma_x)
    batch = sx.shape[0]
    sy = _as_vector("sigma_y", sigma_y, batch)
    th = _as_vector("theta", theta, batch)
    batch = max(sx.shape[0], sy.shape[0], th.shape[0])
    try:
        sx, sy, th = (v.expand(batch) for v in (sx, sy, th))
    except RuntimeError:
        raise ValueError(
            "sigma_x, sigma_y and theta must have one batch size, got "
            f"{tuple(sx.shape)}, {tuple(sy.shape)}, {tuple(th.shape)}"
        ) from None
    if (sx < 0).any() or (sy < 0).any():
        raise ValueError(f"sigmas must be >= 0, got {sx.tolist()} and {sy.tolist()}")
    dx, dy = _pixel_offsets(k)
    rad = torch.deg2rad(th).view(-1, 1, 1)
    # Coordinates along the rotated axes; the on-screen y axis points up, hence -dy.
    u = dx * rad.cos() - dy * rad.sin()
    v = dx * rad.sin() + dy * rad.cos()
    tiny = 1e-6  # sigma 0 becomes a discrete delta: every off-axis pixel underflows to 0
    quad = (u / sx.clamp_min(tiny).view(-1, 1, 1)) ** 2 + (
        v / sy.clamp_min(tiny).view(-1, 1, 1)
    ) ** 2
    weights = torch.exp(-0.5 * quad)
    kernels = weights / weights.sum(dim=(1, 2), keepdim=True)
    return kernels.to(torch.float32)


@BLUR_SAMPLERS.register("linear")
class LinearMotionKernelSampler:
    """Straight uniform-motion kernels with a random length and direction.

    Args:
        kernel_size: odd side ``k`` of the kernels.
        length: line length in pixels, a number or a ``(low, high)`` range drawn uniformly;
            at most ``k - 1`` (default ``(1, k - 1)``).
        angle: direction in degrees, counter-clockwise as displayed; number or range
            (default ``(0, 180)``: every direction, since a line has no sense).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> sample = LinearMotionKernelSampler(9).sample(2, generator=g)
        >>> sample.kernels.shape, sorted(sample.params)
        (torch.Size([2, 9, 9]), ['angle', 'length'])
    """

    def __init__(
        self,
        kernel_size: int = 31,
        *,
        length: Range | None = None,
        angle: Range = (0.0, 180.0),
    ) -> None:
        self.kernel_size = _check_kernel_size(kernel_size)
        limit = float(kernel_size - 1)
        default = (min(1.0, limit), limit)
        self.length = _bounded(
            "length",
            default if length is None else length,
            limit,
            "kernel_size - 1, so the line fits at any angle",
        )
        self.angle = check_range("angle", angle, low=-math.inf, high=math.inf)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kernel_size={self.kernel_size}, length={self.length}, "
            f"angle={self.angle})"
        )

    def sample(self, batch: int, *, generator: torch.Generator) -> BlurSample:
        """Draw ``batch`` kernels; params ``length`` (pixels) and ``angle`` (degrees)."""
        check_generator(generator)
        _check_batch(batch)
        length = _uniform(self.length, batch, generator)
        angle = _uniform(self.angle, batch, generator)
        kernels = linear_motion_kernels(length, angle, self.kernel_size)
        return BlurSample(kernels, {"length": length.float(), "angle": angle.float()})


@BLUR_SAMPLERS.register("defocus")
class DefocusKernelSampler:
    """Out-of-focus disk kernels with a random radius.

    Args:
        kernel_size: odd side ``k`` of the kernels.
        radius: disk radius in pixels, a number or a ``(low, high)`` range; at most ``k / 2``
            (default ``(1, (k - 1) / 2)``).
        supersample: points per pixel side for the anti-aliased area.

    Example:
        >>> sample = DefocusKernelSampler(7).sample(3, generator=torch.Generator().manual_seed(0))
        >>> sample.kernels.shape, sorted(sample.params)
        (torch.Size([3, 7, 7]), ['radius'])
    """

    def __init__(
        self, kernel_size: int = 31, *, radius: Range | None = None, supersample: int = 16
    ) -> None:
        self.kernel_size = _check_kernel_size(kernel_size)
        limit = kernel_size / 2
        default = (min(1.0, (kernel_size - 1) / 2), (kernel_size - 1) / 2)
        self.radius = _bounded(
            "radius", default if radius is None else radius, limit, "kernel_size / 2"
        )
        if not isinstance(supersample, int) or isinstance(supersample, bool) or supersample < 1:
            raise ValueError(f"supersample must be a positive integer, got {supersample!r}")
        self.supersample = supersample

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, radius={self.radius})"

    def sample(self, batch: int, *, generator: torch.Generator) -> BlurSample:
        """Draw ``batch`` kernels; param ``radius`` (pixels)."""
        check_generator(generator)
        _check_batch(batch)
        radius = _uniform(self.radius, batch, generator)
        kernels = defocus_kernels(radius, self.kernel_size, supersample=self.supersample)
        return BlurSample(kernels, {"radius": radius.float()})


@BLUR_SAMPLERS.register("gaussian")
class GaussianKernelSampler:
    """Isotropic or anisotropic Gaussian kernels with random widths and orientation.

    Args:
        kernel_size: odd side ``k`` of the kernels.
        sigma: standard deviation along the kernel's x axis, pixels (number or range); at most
            ``(k - 1) / 4``, so the kernel spans at least two sigmas each side (default
            ``(0.5, 3)``, capped at that limit).
        sigma_y: standard deviation along the other axis; ``None`` (default) makes the kernels
            isotropic (``sigma_y = sigma_x``, ``theta = 0``).
        theta: orientation of the x axis in degrees, counter-clockwise as displayed.

    Example:
        >>> sampler = GaussianKernelSampler(9, sigma=(0.5, 2.0), sigma_y=(0.5, 1.0))
        >>> sample = sampler.sample(2, generator=torch.Generator().manual_seed(0))
        >>> sample.kernels.shape, sorted(sample.params)
        (torch.Size([2, 9, 9]), ['sigma_x', 'sigma_y', 'theta'])
    """

    def __init__(
        self,
        kernel_size: int = 21,
        *,
        sigma: Range | None = None,
        sigma_y: Range | None = None,
        theta: Range = (0.0, 180.0),
    ) -> None:
        self.kernel_size = _check_kernel_size(kernel_size)
        limit = (kernel_size - 1) / 4
        why = "(kernel_size - 1) / 4, so the kernel spans two sigmas each side"
        default = (min(0.5, limit), min(3.0, limit))
        self.sigma = _bounded("sigma", default if sigma is None else sigma, limit, why)
        self.sigma_y = None if sigma_y is None else _bounded("sigma_y", sigma_y, limit, why)
        self.theta = check_range("theta", theta, low=-math.inf, high=math.inf)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma}, "
            f"sigma_y={self.sigma_y}, theta={self.theta})"
        )

    def sample(self, batch: int, *, generator: torch.Generator) -> BlurSample:
        """Draw ``batch`` kernels; params ``sigma_x``, ``sigma_y`` (pixels), ``theta`` (degrees)."""
        check_generator(generator)
        _check_batch(batch)
        sigma_x = _uniform(self.sigma, batch, generator)
        if self.sigma_y is None:
            sigma_y = sigma_x.clone()
            theta = torch.zeros(batch, dtype=torch.float64)
        else:
            sigma_y = _uniform(self.sigma_y, batch, generator)
            theta = _uniform(self.theta, batch, generator)
        kernels = gaussian_kernels(sigma_x, sigma_y, theta, self.kernel_size)
        params = {"sigma_x": sigma_x.float(), "sigma_y": sigma_y.float(), "theta": theta.float()}
        return BlurSample(kernels, params)
