"""Camera-shake blur kernels from random trajectories (Boracchi & Foi, 2012), as used by DeblurGAN.

A particle walks in the complex plane with unit-speed steps. At every step its velocity is nudged
by a Gaussian perturbation, pulled back towards the start by a centripetal (inertial) term and,
rarely, nearly reversed by a "big shake"; the speed is then renormalised so every trajectory has
the same path length. The kernel (PSF) is the trajectory rasterised with bilinear splatting over a
fraction of the exposure (Kupyn et al., 2018, "DeblurGAN", after Boracchi & Foi, 2012, "Modeling
the performance of image restoration from motion blur").

Departures from DeblurGAN's ``motion_blur`` scripts, all deliberate:

* the exposure fraction is drawn from a continuous range instead of ``{1/1000, 1/10, 1/2, 1}``;
* the trajectory is shifted so its exposure-weighted centroid lies exactly on the kernel centre
  (bilinear splatting preserves first moments, so the kernel's centre of mass is exact) and is
  scaled down about that centroid when it would not fit the kernel: blurring never shifts the image;
* all randomness comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from deblurgan.blur.apply import blur_image
from deblurgan.blur.checks import check_generator, check_range
from deblurgan.blur.registries import BLUR_SAMPLERS
from deblurgan.blur.types import BlurSample

__all__ = [
    "TrajectoryKernelSampler",
    "kernel_extent",
    "random_trajectories",
    "rasterize_trajectories",
    "smooth_trajectories",
]

Range = float | tuple[float, float]


def _uniform(
    bounds: tuple[float, float], batch: int, generator: torch.Generator
) -> Tensor:  # (B,) float64
    lo, hi = bounds
    u = torch.rand(batch, generator=generator, dtype=torch.float64)
    return lo + (hi - lo) * u


def random_trajectories(
    anxiety: Tensor,
    centripetal: Tensor,
    gaussian_shake: Tensor,
    big_shake_prob: Tensor,
    angle: Tensor,
    *,
    num_samples: int = 2000,
    max_length: float | Tensor = 60.0,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor]:
    """Random camera-shake trajectories (Boracchi & Foi, 2012), one per batch element.

    The walk starts at 0 with direction ``angle`` and takes ``num_samples - 1`` steps of length
    ``max_length / (num_samples - 1)``, so its path length is exactly ``max_length``. At step ``t``
    the velocity ``v`` becomes ``v + dv`` renormalised to the step length, with
    ``dv = big + anxiety * (gaussian_shake * n_t - centripetal * x_t) * step``, ``n_t`` a complex
    standard normal and ``big = 2 v exp(i (pi + u - 1/2))`` with probability
    ``big_shake_prob * anxiety`` (else 0). The recurrence is inherently sequential; the random
    numbers are drawn in one batched call and the loop runs on Python complex numbers, which is
    far faster than per-step tensor ops (about 2 ms per trajectory of 2000 samples).

    Args:
        anxiety: ``(B,)`` overall shake intensity (DeblurGAN's ``expl``; 0 gives a straight line).
        centripetal: ``(B,)`` pull back towards the starting point.
        gaussian_shake: ``(B,)`` strength of the random change of direction.
        big_shake_prob: ``(B,)`` probability scale of abrupt reversals.
        angle: ``(B,)`` initial direction in radians.
        num_samples: points per trajectory (DeblurGAN: 2000).
        max_length: path length in pixels, a number or a ``(B,)`` tensor.
        generator: the only source of randomness.

    Returns:
        ``(positions, big_shakes)``: complex128 ``(B, N)`` positions (starting at 0) and the
        ``(B,)`` number of big shakes.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> b = torch.ones(2, dtype=torch.float64)
        >>> x, _ = random_trajectories(0 * b, b, b, b, 0 * b, num_samples=11, max_length=5.0,
        ...                            generator=g)
        >>> x.shape, round(float(x[0, -1].real), 6)
        (torch.Size([2, 11]), 5.0)
    """
    check_generator(generator)
    if not isinstance(num_samples, int) or num_samples < 2:
        raise ValueError(f"num_samples must be an integer >= 2, got {num_samples!r}")
    batch = anxiety.shape[0]
    steps = num_samples - 1
    lengths = torch.as_tensor(max_length, dtype=torch.float64).expand(batch)
    noise = torch.randn(batch, steps, 2, generator=generator, dtype=torch.float64)
    shake_u = torch.rand(batch, steps, generator=generator, dtype=torch.float64)
    shake_angle = torch.rand(batch, steps, generator=generator, dtype=torch.float64)

    positions = torch.zeros(batch, num_samples, dtype=torch.complex128)
    big_shakes = torch.zeros(batch, dtype=torch.int64)
    for b in range(batch):
        step = float(lengths[b]) / steps
        expl = float(anxiety[b])
        pull = float(centripetal[b])
        shake = float(gaussian_shake[b])
        threshold = float(big_shake_prob[b]) * expl
        gauss = [complex(re, im) for re, im in noise[b].tolist()]
        reverse = [
            2 * complex(math.cos(math.pi + a - 0.5), math.sin(math.pi + a - 0.5))
            for a in shake_angle[b].tolist()
        ]
        hits = (shake_u[b] < threshold).tolist()
        v = complex(math.cos(float(angle[b])), math.sin(float(angle[b]))) * step
        x = 0j
        path = [x]
        count = 0
        for t in range(steps):
            dv = expl * (shake * gauss[t] - pull * x) * step
            if hits[t]:
                dv += v * reverse[t]
                count += 1
            v += dv
            speed = abs(v)
            # A perfect cancellation is measure-zero; keep the previous heading if it happens.
            v = v / speed * step if speed > 0 else v
            x = x + v
            path.append(x)
        positions[b] = torch.tensor(path, dtype=torch.complex128)
        big_shakes[b] = count
    return positions, big_shakes


def smooth_trajectories(
    batch: int,
    *,
    control_points: tuple[int, int] = (3, 6),
    turn: float = 1.0,
    speed_variation: Tensor | float = 1.0,
    num_samples: int = 2000,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor]:
    """Smooth camera-shake paths with varying speed: curves through a few random points.

    Recorded camera-shake kernels (Levin et al. 2009, Köhler et al. 2012, Lai et al. 2016) are
    smooth strokes (arcs, S-curves, hooks) along which the camera slows and speeds up, so their
    intensity varies, with bright spots where it dwelt. A random walk has neither: it wanders at
    constant speed. Here ``m`` control points (``control_points``, uniform) are placed by steps
    of length U(0.5, 1.5) whose heading turns by N(0, ``turn``) radians each time; a
    Catmull-Rom spline through them is resampled at ``num_samples`` points evenly spaced in arc
    length, and each point is weighted by the time the camera spent there, ``exp(-s z_t)``
    with ``z`` a random walk along the path scaled to unit spread and ``s`` the row's
    ``speed_variation`` (0: constant speed).

    Returns:
        ``(positions, density)``: complex128 ``(B, N)`` points (any scale; the caller sizes
        them) and float64 ``(B, N)`` positive weights.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> x, w = smooth_trajectories(2, num_samples=50, generator=g)
        >>> x.shape, w.shape, bool((w > 0).all())
        (torch.Size([2, 50]), torch.Size([2, 50]), True)
    """
    check_generator(generator)
    low, high = control_points
    if not 2 <= low <= high:
        raise ValueError(
            f"control_points must be (low, high) with 2 <= low <= high, got {control_points!r}"
        )
    counts = torch.randint(low, high + 1, (batch,), generator=generator).tolist()
    headings = torch.rand(batch, generator=generator, dtype=torch.float64) * 2 * math.pi
    turns = torch.randn(batch, high, generator=generator, dtype=torch.float64) * turn
    steps = 0.5 + torch.rand(batch, high, generator=generator, dtype=torch.float64)
    wander = torch.randn(batch, num_samples, generator=generator, dtype=torch.float64)
    variation = torch.as_tensor(speed_variation, dtype=torch.float64).expand(batch)
    positions = torch.zeros(batch, num_samples, dtype=torch.complex128)
    fine = 32  # spline points per segment before resampling
    for b, m in enumerate(counts):
        angle = headings[b] + torch.cumsum(turns[b, : m - 1], 0)
        moves = steps[b, : m - 1] * torch.polar(torch.ones_like(angle), angle)
        points = torch.cat([torch.zeros(1, dtype=torch.complex128), torch.cumsum(moves, 0)])
        padded = torch.cat([2 * points[:1] - points[1:2], points, 2 * points[-1:] - points[-2:-1]])
        u = torch.linspace(0, 1, fine + 1, dtype=torch.float64)[:-1]
        basis = torch.stack(  # Catmull-Rom weights of p0..p3 at u
            [(-u + 2 * u**2 - u**3) / 2, (2 - 5 * u**2 + 3 * u**3) / 2,
             (u + 4 * u**2 - 3 * u**3) / 2, (-(u**2) + u**3) / 2]
        ).to(torch.complex128)  # fmt: skip
        segments = [basis.T @ padded[i : i + 4] for i in range(m - 1)]
        curve = torch.cat([*segments, points[-1:]])
        arc = torch.cat(
            [torch.zeros(1, dtype=torch.float64), torch.cumsum((curve[1:] - curve[:-1]).abs(), 0)]
        )
        target = torch.linspace(0, float(arc[-1]), num_samples, dtype=torch.float64)
        index = torch.searchsorted(arc, target).clamp(1, len(arc) - 1)
        left, right = arc[index - 1], arc[index]
        frac = ((target - left) / (right - left).clamp_min(1e-12)).to(torch.complex128)
        positions[b] = curve[index - 1] + frac * (curve[index] - curve[index - 1])
    z = torch.cumsum(wander, dim=1)
    z = (z - z.mean(dim=1, keepdim=True)) / z.std(dim=1, keepdim=True).clamp_min(1e-12)
    density = torch.exp(-variation.unsqueeze(1) * z)
    return positions, density


def _extent(positions: Tensor, exposed: Tensor, directions: int = 64) -> Tensor:
    """``(B,)`` largest distance between two exposed points of each path: the largest spread of
    their projections over ``directions`` angles in [0, pi) (within 0.03 % of the diameter)."""
    angles = torch.arange(directions, dtype=torch.float64) * (math.pi / directions)
    axes = torch.polar(torch.ones_like(angles), angles)  # (D,) unit complex numbers
    projected = (positions.unsqueeze(-1) * axes.conj()).real  # (B, N, D)
    mask = exposed.unsqueeze(-1)
    high = projected.masked_fill(~mask, -math.inf).amax(dim=1)
    low = projected.masked_fill(~mask, math.inf).amin(dim=1)
    return (high - low).amax(dim=1)


def _gaussian_blur(kernels: Tensor, sigma: Tensor) -> Tensor:
    """Each ``(k, k)`` kernel blurred by a Gaussian of its own ``sigma`` (pixels; 0: as is),
    zero-padded (the kernel's border is empty) and renormalised to sum 1: the optics and the
    sensor's pixel add this much softness to a camera's recorded path."""
    from deblurgan.blur.kernels import gaussian_kernels  # it imports this module

    side = 2 * math.ceil(3 * float(sigma.max())) + 1
    gaussians = gaussian_kernels(sigma, sigma, 0.0, side)
    blurred = blur_image(kernels.unsqueeze(1), gaussians, padding="zeros")[:, 0]
    return blurred / blurred.sum(dim=(1, 2), keepdim=True)


def kernel_extent(kernel: Tensor, threshold: float = 0.05) -> float:
    """The largest distance, pixels, between two pixels of a ``(k, k)`` kernel's support (those
    above ``threshold`` times its peak): the size ``size_by="extent"`` gives a kernel, measured
    on any kernel (a recorded one, say).

    Example:
        >>> streak = torch.zeros(9, 9)
        >>> streak[4, 1:8] = 1.0
        >>> kernel_extent(streak)
        6.0
    """
    ys, xs = torch.nonzero(kernel > threshold * kernel.max(), as_tuple=True)
    points = torch.complex(xs.double(), ys.double()).unsqueeze(0)
    return float(_extent(points, torch.ones_like(points, dtype=torch.bool))[0])


def rasterize_trajectories(
    positions: Tensor, weights: Tensor, kernel_size: int
) -> tuple[Tensor, Tensor]:
    """Splat weighted trajectories into centred ``k x k`` kernels with bilinear weights.

    Each trajectory is shifted so that its weighted centroid sits on the kernel centre
    ``((k-1)/2, (k-1)/2)`` and, if any weighted point would leave the kernel, scaled down about
    the centroid until it fits. Bilinear splatting preserves the first moment, so each kernel's
    centre of mass is exactly the centre.

    Args:
        positions: complex ``(B, N)`` points (real part x/columns, imaginary part y/rows), pixels.
        weights: ``(B, N)`` non-negative sample weights (exposure), each row with positive sum.
        kernel_size: odd side ``k`` of the output kernels.

    Returns:
        ``(kernels, scale)``: float32 ``(B, k, k)`` kernels that sum to 1, and the ``(B,)``
        float64 scale factors applied (1 where the trajectory fitted).

    Example:
        >>> line = torch.tensor([[0 + 0j, 1 + 0j, 2 + 0j]])
        >>> kernels, scale = rasterize_trajectories(line, torch.ones(1, 3), 3)
        >>> kernels[0]
        tensor([[0.0000, 0.0000, 0.0000],
                [0.3333, 0.3333, 0.3333],
                [0.0000, 0.0000, 0.0000]])
    """
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size!r}")
    if positions.ndim != 2 or weights.shape != positions.shape:
        raise ValueError(
            f"positions and weights must both be (B, N), got {tuple(positions.shape)} "
            f"and {tuple(weights.shape)}"
        )
    device = positions.device
    k = kernel_size
    w = weights.to(torch.float64)
    if (w < 0).any() or not (w.sum(dim=1) > 0).all():
        raise ValueError("weights must be non-negative with a positive sum per trajectory")
    xy = torch.stack([positions.real, positions.imag], dim=-1).to(torch.float64)  # (B, N, 2)
    w = w / w.sum(dim=1, keepdim=True)
    centroid = (w.unsqueeze(-1) * xy).sum(dim=1, keepdim=True)  # (B, 1, 2)
    offset = xy - centroid
    exposed = (w > 0).unsqueeze(-1)
    radius = torch.where(exposed, offset.abs(), torch.zeros_like(offset)).amax(dim=(1, 2))
    half = (k - 1) / 2
    scale = torch.where(radius > half, half / radius.clamp_min(1e-12), torch.ones_like(radius))
    pts = half + offset * scale.view(-1, 1, 1)
    # Guard float round-off at the border; exposed points are already inside [0, k-1].
    pts = pts.clamp(0.0, float(k - 1))

    batch = w.shape[0]
    if k == 1:
        return torch.ones(batch, 1, 1, dtype=torch.float32, device=device), scale
    base = pts.floor().clamp(0, k - 2)  # (B, N, 2)
    frac = pts - base
    ix, iy = base[..., 0].long(), base[..., 1].long()
    fx, fy = frac[..., 0], frac[..., 1]
    flat = torch.zeros(batch, k * k, dtype=torch.float64, device=device)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            index = (iy + dy) * k + (ix + dx)
            flat.scatter_add_(1, index, w * wy * wx)
    kernels = flat.view(batch, k, k)
    kernels = kernels / kernels.sum(dim=(1, 2), keepdim=True)
    return kernels.to(torch.float32), scale


@BLUR_SAMPLERS.register("trajectory")
class TrajectoryKernelSampler:
    """Random camera-shake kernels: DeblurGAN's trajectory model, centred and fitted to ``k x k``.

    Each parameter given as a ``(low, high)`` pair is drawn uniformly per kernel; a single number
    fixes it. The defaults follow DeblurGAN's ``motion_blur`` scripts (anxiety in
    ``[0.001, 0.01]``, centripetal ``0.7 U``, big-shake probability ``0.2 U``, Gaussian shake
    ``10 U``, 2000 samples) with the path length tied to the kernel size.

    Args:
        kernel_size: odd side ``k`` of the kernels.
        max_length: path length of the whole trajectory in pixels, number or range; default
            ``k - 1``, which always fits (a uniformly sampled path of length ``L`` stays within
            ``L / 2`` of its centroid). Longer paths are scaled down to fit when needed.
        anxiety: DeblurGAN's ``expl``: how much the path wanders (0 gives straight lines).
        exposure: fraction of the trajectory integrated into the kernel (``(0, 1]``).
        centripetal: pull of the walk towards its start.
        gaussian_shake: strength of the random direction changes.
        big_shake_prob: probability scale of abrupt reversals (multiplied by ``anxiety``).
        num_samples: points per trajectory.
        size_by: what ``max_length`` sets: ``"length"`` (DeblurGAN: the path length) or
            ``"extent"``: the largest distance between two exposed points of the path (its
            diameter, measured over 64 directions), the same size a straight streak of that
            length has. Random walks often curl up: at equal path length, DeblurGAN's
            trajectories have a median RMS radius of 0.11 x the length, a straight line 0.29 x
            and the recorded camera-shake kernels of Lai et al. (2016) 0.21 to 0.24 x, so the
            path length overstates how much a kernel blurs. The kernel must then be about
            twice the extent to hold any path about its centroid.
        smooth_prob: share of kernels drawn as smooth curves with varying speed
            (:func:`smooth_trajectories`, like recorded camera shake) instead of random walks.
        speed_variation: ``(low, high)`` spread of the log speed along a smooth curve.
        psf_sigma: ``(low, high)`` Gaussian blur of each kernel, pixels (the optics' and the
            pixel's own softness; recorded kernels are 2 to 3 px thick, a splatted path 1 to 2).

    Example:
        >>> sampler = TrajectoryKernelSampler(9, num_samples=64)
        >>> sample = sampler.sample(2, generator=torch.Generator().manual_seed(0))
        >>> sample.kernels.shape, round(float(sample.kernels[0].sum()), 4)
        (torch.Size([2, 9, 9]), 1.0)
        >>> sorted(sample.params)[:3]
        ['angle', 'anxiety', 'big_shake_prob']
    """

    def __init__(
        self,
        kernel_size: int = 31,
        *,
        max_length: Range | None = None,
        anxiety: Range = (0.001, 0.01),
        exposure: Range = (0.1, 1.0),
        centripetal: Range = (0.0, 0.7),
        gaussian_shake: Range = (0.0, 10.0),
        big_shake_prob: Range = (0.0, 0.2),
        num_samples: int = 2000,
        size_by: str = "length",
        smooth_prob: float = 0.0,
        speed_variation: Range = (0.0, 1.0),
        psf_sigma: Range = 0.0,
    ) -> None:
        if (
            not isinstance(kernel_size, int)
            or isinstance(kernel_size, bool)
            or kernel_size < 1
            or kernel_size % 2 == 0
        ):
            raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size!r}")
        if not isinstance(num_samples, int) or num_samples < 2:
            raise ValueError(f"num_samples must be an integer >= 2, got {num_samples!r}")
        if size_by not in ("length", "extent"):
            raise ValueError(f"size_by must be 'length' or 'extent', got {size_by!r}")
        if isinstance(smooth_prob, bool) or not 0.0 <= float(smooth_prob) <= 1.0:
            raise ValueError(f"smooth_prob must be in [0, 1], got {smooth_prob!r}")
        self.kernel_size = kernel_size
        self.num_samples = num_samples
        self.size_by = size_by
        self.smooth_prob = float(smooth_prob)
        self.speed_variation = check_range(
            "speed_variation", speed_variation, low=0.0, high=math.inf
        )
        self.psf_sigma = check_range("psf_sigma", psf_sigma, low=0.0, high=math.inf)
        default_length = float(max(kernel_size - 1, 0))
        self.max_length = check_range(
            "max_length",
            default_length if max_length is None else max_length,
            low=0.0,
            high=math.inf,
        )
        self.anxiety = check_range("anxiety", anxiety, low=0.0, high=math.inf)
        self.exposure = check_range("exposure", exposure, low=0.0, high=1.0)
        if self.exposure[0] <= 0.0:
            raise ValueError(f"exposure must be in (0, 1], got {exposure!r}")
        self.centripetal = check_range("centripetal", centripetal, low=0.0, high=math.inf)
        self.gaussian_shake = check_range("gaussian_shake", gaussian_shake, low=0.0, high=math.inf)
        self.big_shake_prob = check_range("big_shake_prob", big_shake_prob, low=0.0, high=1.0)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kernel_size={self.kernel_size}, max_length={self.max_length}, "
            f"anxiety={self.anxiety}, exposure={self.exposure}, num_samples={self.num_samples}, "
            f"size_by={self.size_by!r})"
        )

    def sample(self, batch: int, *, generator: torch.Generator) -> BlurSample:
        """Draw ``batch`` kernels using only ``generator``.

        Args:
            batch: number of kernels.
            generator: CPU ``torch.Generator``; the same seed gives the same kernels.

        Returns:
            A :class:`BlurSample` with ``(B, k, k)`` kernels and per-kernel params:
            ``length`` (exposed path length in kernel pixels, after any scaling), ``max_length``,
            ``exposure``, ``anxiety``, ``centripetal``, ``gaussian_shake``, ``big_shake_prob``,
            ``big_shakes`` (abrupt reversals in the whole walk), ``angle`` (initial direction,
            radians) and ``scale`` (shrink factor applied to fit the kernel, 1 if none).
        """
        check_generator(generator)
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive integer, got {batch!r}")
        n = self.num_samples
        # Fixed draw order: parameters first, then the walk, so a seed fixes everything.
        max_length = _uniform(self.max_length, batch, generator)
        exposure = _uniform(self.exposure, batch, generator)
        anxiety = _uniform(self.anxiety, batch, generator)
        centripetal = _uniform(self.centripetal, batch, generator)
        gaussian_shake = _uniform(self.gaussian_shake, batch, generator)
        big_shake_prob = _uniform(self.big_shake_prob, batch, generator)
        angle = _uniform((0.0, 2 * math.pi), batch, generator)
        positions, big_shakes = random_trajectories(
            anxiety,
            centripetal,
            gaussian_shake,
            big_shake_prob,
            angle,
            num_samples=n,
            max_length=max_length,
            generator=generator,
        )
        # Sample t is exposed with weight clamp(exposure * N - t, 0, 1): the first exposure * N
        # samples, the last one partially (DeblurGAN's t_proportion).
        t = torch.arange(n, dtype=torch.float64)
        weights = (exposure.unsqueeze(1) * n - t).clamp(0.0, 1.0)  # (B, N)
        smooth = torch.zeros(batch, dtype=torch.bool)
        if self.smooth_prob > 0:  # drawn after the walks: seeds of walk-only samplers unchanged
            smooth = torch.rand(batch, generator=generator, dtype=torch.float64) < self.smooth_prob
            variation = _uniform(self.speed_variation, batch, generator)
            curves, density = smooth_trajectories(
                batch, speed_variation=variation, num_samples=n, generator=generator
            )
            positions = torch.where(smooth.unsqueeze(1), curves, positions)
            weights = torch.where(smooth.unsqueeze(1), weights * density, weights)
        if self.size_by == "extent":
            extent = _extent(positions, weights > 0)
            positions = positions * (max_length / extent.clamp_min(1e-9)).unsqueeze(1)
        kernels, scale = rasterize_trajectories(positions, weights, self.kernel_size)
        sigma = torch.zeros(batch, dtype=torch.float64)
        if self.psf_sigma[1] > 0:
            sigma = _uniform(self.psf_sigma, batch, generator)
            kernels = _gaussian_blur(kernels, sigma)
        exposed = weights > 0
        steps = (positions[:, 1:] - positions[:, :-1]).abs() * scale.unsqueeze(1)
        length = (steps * exposed[:, 1:]).sum(dim=1)
        params = {
            "length": length.float(),
            "max_length": max_length.float(),
            "exposure": exposure.float(),
            "anxiety": anxiety.float(),
            "centripetal": centripetal.float(),
            "gaussian_shake": gaussian_shake.float(),
            "big_shake_prob": big_shake_prob.float(),
            "big_shakes": big_shakes,
            "angle": angle.float(),
            "scale": scale.float(),
            "smooth": smooth,
            "psf_sigma": sigma.float(),
        }
        return BlurSample(kernels, params)
