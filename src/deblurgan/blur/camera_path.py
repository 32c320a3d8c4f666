"""Random camera paths and rendering a photo along one: the engine of GoPro-style blur.

A smooth random path of the camera (translation, in-plane rotation, zoom; a polynomial in time,
by default point-symmetric about the middle sub-frame) is sampled densely enough that
consecutive sub-frames move at most about a pixel (:func:`adaptive_frame_times`); each
sub-frame is the photo warped by one pose, optionally with objects moving over it, and their
average is the blurry image. :class:`deblurgan.blur.GoProBlurSynthesizer` draws the settings;
:class:`deblurgan.blur.RealisticDegradation` uses the same paths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.blur.checks import as_batch, check_generator, check_range
from deblurgan.blur.degrade import Gamma, decode_gamma, encode_gamma, parse_gamma
from deblurgan.blur.trajectory import _uniform

__all__ = ["GoProSample", "adaptive_frame_times", "random_camera_path", "render_camera_path"]

Range = float | tuple[float, float]

# Relative sizes of the polynomial terms of a random path p(t) = sum_j c_j t^j, t in [-1, 1]:
# the linear term dominates (a sweep), the higher ones bend it.
_ODD_TERMS = ((1, 1.0), (3, 0.6), (5, 0.3))
_EVEN_TERMS = ((2, 0.6), (4, 0.3))


@dataclass
class GoProSample:
    """A synthesised pair and the camera path (and moving objects) that made it.

    Args:
        blurry: ``(B, 3, h, w)`` average of the sub-frames.
        sharp: ``(B, 3, h, w)`` the middle sub-frame, pixel-aligned with the blur's centre.
        params: per-image tensors (first dimension ``B``): ``num_frames``, ``margin``,
            ``translation`` ``(B, N, 2)`` px, ``rotation`` ``(B, N)`` degrees, ``zoom`` ``(B, N)``,
            the amplitudes drawn, and ``object_*`` when objects move.
    """

    blurry: Tensor
    sharp: Tensor
    params: dict[str, Tensor] = field(default_factory=dict)


def _frame_times(num_frames: int) -> Tensor:
    """Sub-frame times in [-1, 1]: exactly 0 at the middle and exactly antisymmetric about it."""
    half = num_frames // 2
    steps = torch.arange(num_frames, dtype=torch.float64) - half
    return steps / half if half else steps


def _terms(centred: bool) -> tuple[tuple[int, float], ...]:
    return _ODD_TERMS if centred else tuple(sorted(_ODD_TERMS + _EVEN_TERMS))


def _shape_coefficients(
    batch: int, dims: int, *, centred: bool, generator: torch.Generator
) -> Tensor:
    """The random polynomial coefficients ``(B, terms, dims)`` of a path shape, term-scaled."""
    terms = _terms(centred)
    coeffs = torch.randn(batch, len(terms), dims, generator=generator, dtype=torch.float64)
    scales = torch.tensor([s for _, s in terms], dtype=torch.float64).view(1, -1, 1)
    return coeffs * scales


def _evaluate_shapes(
    coeffs: Tensor, times: Tensor, *, centred: bool, peak_times: Tensor | None = None
) -> Tensor:
    """Paths ``(B, N, dims)`` at ``times``, scaled so their largest norm over ``peak_times``
    (default: ``times`` themselves) is 1."""

    def at(t: Tensor) -> Tensor:
        basis = torch.stack([t**power for power, _ in _terms(centred)])  # (terms, N)
        return torch.einsum("btd,tn->bnd", coeffs, basis)

    shapes = at(times)
    reference = shapes if peak_times is None else at(peak_times)
    peak = reference.norm(dim=-1).amax(dim=1).clamp_min(1e-12).view(-1, 1, 1)
    return shapes / peak


def random_camera_path(
    batch: int,
    num_frames: int,
    *,
    translation: Range = (2.0, 16.0),
    rotation: Range = (0.0, 1.0),
    zoom: Range = (0.0, 0.02),
    centred: bool = True,
    generator: torch.Generator,
) -> dict[str, Tensor]:
    """Smooth random camera paths, the middle sub-frame at the identity pose.

    Each component is a random polynomial of time ``t`` in ``[-1, 1]`` that is 0 at ``t = 0``:
    odd powers ``t, t^3, t^5`` only when ``centred`` (a point-symmetric path, whose mean pose is
    the middle one), plus ``t^2, t^4`` otherwise. It is scaled so that its largest excursion over
    the sub-frames equals an amplitude drawn uniformly from the range.

    Args:
        batch: number of paths.
        num_frames: sub-frames per path (odd).
        translation: largest shift of a sub-frame from the middle one, pixels.
        rotation: largest in-plane rotation from the middle one, degrees.
        zoom: largest relative change of scale, e.g. 0.02 for 2%.
        centred: point-symmetric paths (the blur is centred on the sharp middle frame).
        generator: the only source of randomness.

    Returns:
        ``translation`` ``(B, N, 2)`` (x right, y down, pixels), ``rotation`` ``(B, N)`` degrees,
        ``zoom`` ``(B, N)`` scale factors, and the amplitudes ``translation_amplitude``,
        ``rotation_amplitude``, ``zoom_amplitude`` ``(B,)``; all float64.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> path = random_camera_path(2, 7, translation=10.0, generator=g)
        >>> path["translation"].shape, float(path["translation"][0, 3].abs().max())
        (torch.Size([2, 7, 2]), 0.0)
        >>> round(float(path["translation"][0].norm(dim=-1).max()), 6)
        10.0
    """
    check_generator(generator)
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    if (
        not isinstance(num_frames, int)
        or isinstance(num_frames, bool)
        or num_frames < 1
        or num_frames % 2 == 0
    ):
        raise ValueError(f"num_frames must be a positive odd integer, got {num_frames!r}")
    drawn = _draw_camera_path(
        batch, translation, rotation, zoom, centred=centred, generator=generator
    )
    return drawn.at(_frame_times(num_frames))


@dataclass
class _CameraPathDraw:
    """The random numbers of a batch of camera paths: amplitudes and polynomial coefficients."""

    centred: bool
    translation_amplitude: Tensor  # (B,)
    rotation_amplitude: Tensor  # (B,)
    zoom_amplitude: Tensor  # (B,)
    shift: Tensor  # (B, terms, 2)
    turn: Tensor  # (B, terms, 1)
    scale: Tensor  # (B, terms, 1)

    def at(self, times: Tensor, peak_times: Tensor | None = None) -> dict[str, Tensor]:
        """The poses at ``times`` (see :func:`random_camera_path`), each component scaled so that
        its largest excursion over ``peak_times`` (default ``times``) is its amplitude."""

        def shape(coeffs: Tensor) -> Tensor:
            return _evaluate_shapes(coeffs, times, centred=self.centred, peak_times=peak_times)

        t_amp, r_amp, z_amp = (
            self.translation_amplitude,
            self.rotation_amplitude,
            self.zoom_amplitude,
        )
        return {
            "translation": shape(self.shift) * t_amp.view(-1, 1, 1),
            "rotation": shape(self.turn)[..., 0] * r_amp.view(-1, 1),
            "zoom": torch.exp(shape(self.scale)[..., 0] * torch.log1p(z_amp).view(-1, 1)),
            "translation_amplitude": t_amp,
            "rotation_amplitude": r_amp,
            "zoom_amplitude": z_amp,
        }


def _draw_camera_path(
    batch: int,
    translation: Range,
    rotation: Range,
    zoom: Range,
    *,
    centred: bool,
    generator: torch.Generator,
) -> _CameraPathDraw:
    """Draw amplitudes, then the shape coefficients of shift, turn and scale (fixed order)."""
    t_amp = _uniform(
        check_range("translation", translation, low=0.0, high=math.inf), batch, generator
    )
    r_amp = _uniform(check_range("rotation", rotation, low=0.0, high=45.0), batch, generator)
    z_amp = _uniform(check_range("zoom", zoom, low=0.0, high=1.0), batch, generator)
    shift = _shape_coefficients(batch, 2, centred=centred, generator=generator)
    turn = _shape_coefficients(batch, 1, centred=centred, generator=generator)
    scale = _shape_coefficients(batch, 1, centred=centred, generator=generator)
    return _CameraPathDraw(centred, t_amp, r_amp, z_amp, shift, turn, scale)


def _step_lengths(path: dict[str, Tensor], radius: float) -> Tensor:
    """``(B, N - 1)`` bounds on how far any output pixel within ``radius`` of the centre moves
    between consecutive sub-frames: ``|dT| + radius |d(zoom * exp(i rotation))|``."""
    shift = path["translation"].diff(dim=1).norm(dim=-1)
    angle = torch.deg2rad(path["rotation"])
    similarity = torch.polar(path["zoom"], angle)
    return shift + radius * similarity.diff(dim=1).abs()


def adaptive_frame_times(
    path: Callable[[Tensor], dict[str, Tensor]],
    *,
    radius: float,
    object_speed: float = 0.0,
    max_step: float = 1.0,
    max_frames: int = 301,
    resolution: int = 2049,
) -> tuple[Tensor, Tensor]:
    """Sub-frame times spaced by distance moved, and the exposure each one stands for.

    A camera path moves faster at some times than at others, so sub-frames evenly spaced in
    time would need many more copies where it is slow than where it is fast to keep every
    step short. Instead the times are placed so that, between consecutive sub-frames, no output
    pixel moves more than ``max_step`` pixels: ``K`` steps of equal length on each side of
    ``t = 0`` (the sharp middle sub-frame, index ``K``). Each sub-frame is then weighted by the
    time it stands for (trapezoid rule), so the weighted average is the integral over the
    exposure: fast parts of a streak stay dim, as in a real photo.

    A sub-frame moves an output pixel at distance ``r <= radius`` from the rotation centre by at
    most ``|dT| + r |d(zoom e^{i rotation})|`` from the previous one; a moving object by
    ``object_speed dt`` (``object_speed``: its displacement from the middle to the last
    sub-frame, so ``dt`` in units of half the exposure).

    Args:
        path: poses at given times in [-1, 1] (``translation`` ``(B, N, 2)``, ``rotation``,
            ``zoom`` ``(B, N)``), e.g. a bound :meth:`_CameraPathDraw.at`.
        radius: the largest distance of an output pixel from the rotation centre, pixels.
        object_speed: the largest displacement of a moving object, pixels.
        max_step: the largest step between consecutive sub-frames, pixels.
        max_frames: the most sub-frames (odd); longer streaks get longer steps.
        resolution: points on which the path's length is measured (odd).

    Returns:
        ``(times, weights)``: float64 ``(N,)`` increasing times in [-1, 1] with ``times[N // 2]
        == 0``, and non-negative weights summing to 1.

    Example:
        >>> line = lambda t: {"translation": torch.stack([10 * t, 0 * t], -1)[None],
        ...                   "rotation": 0 * t[None], "zoom": 1 + 0 * t[None]}
        >>> times, weights = adaptive_frame_times(line, radius=0.0)  # a 20 px sweep
        >>> len(times), round(float(weights[0] * 40), 6)  # 21 copies 1 px apart, half-weight ends
        (21, 1.0)
    """
    if not (isinstance(max_step, int | float) and 0 < max_step < math.inf):
        raise ValueError(f"max_step must be a positive number of pixels, got {max_step!r}")
    if not isinstance(max_frames, int) or max_frames < 1 or max_frames % 2 == 0:
        raise ValueError(f"max_frames must be a positive odd integer, got {max_frames!r}")
    dense = _frame_times(resolution)
    # Objects move in other pixels than the background: the larger of the two steps counts.
    steps = _step_lengths(path(dense), radius).amax(dim=0)  # (resolution - 1,)
    steps = torch.maximum(steps, object_speed * dense.diff())
    middle = resolution // 2
    after = torch.cat([torch.zeros(1, dtype=torch.float64), steps[middle:].cumsum(0)])
    before = torch.cat([torch.zeros(1, dtype=torch.float64), steps[:middle].flip(0).cumsum(0)])
    longest = max(float(after[-1]), float(before[-1]))
    half = min(math.ceil(longest / max_step - 1e-9), (max_frames - 1) // 2)
    if half == 0:
        return torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    side = dense[middle:]  # 0 .. 1

    def spaced(length: Tensor) -> Tensor:
        """Times in [0, 1] at ``half`` equal steps of ``length`` (cumulative, increasing)."""
        total = float(length[-1])
        if total <= 0:
            return torch.linspace(0.0, 1.0, half + 1, dtype=torch.float64)
        levels = torch.linspace(0.0, total, half + 1, dtype=torch.float64)
        index = torch.searchsorted(length, levels, right=False).clamp(1, len(length) - 1)
        lo, hi = length[index - 1], length[index]
        frac = ((levels - lo) / (hi - lo).clamp_min(1e-300)).clamp(0.0, 1.0)
        times = side[index - 1] + frac * (side[index] - side[index - 1])
        times[0], times[-1] = 0.0, 1.0
        return times

    times = torch.cat([-spaced(before).flip(0)[:-1], spaced(after)])
    gaps = times.diff()
    weights = torch.zeros_like(times)
    weights[:-1] += gaps / 2
    weights[1:] += gaps / 2
    return times, weights / weights.sum()


def _is_identity(translation: Tensor, rotation: Tensor, zoom: Tensor) -> bool:
    return bool((translation == 0).all() and (rotation == 0).all() and (zoom == 1).all())


def _composite_objects(
    frame: Tensor,
    light: Tensor,
    objects: dict[str, Tensor],
    time: float,
    *,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """Paint each moving object at its position for ``time`` over ``frame`` (linear light).

    Only the rows and columns an object can touch are computed: outside its ellipse plus the
    anti-aliased edge, ``alpha`` is exactly 0, so the result is the same as over the whole frame.
    """
    b, _, h, w = frame.shape
    _, _, height, width = light.shape
    device = frame.device
    centre = objects["center"].to(device, dtype)  # (B, M, 2) output pixels at t = 0
    velocity = objects["velocity"].to(device, dtype)  # (B, M, 2) displacement at t = 1
    radii = objects["radii"].to(device, dtype).clamp_min(1e-3)  # (B, M, 2)
    angle = torch.deg2rad(objects["angle"].to(device, dtype))  # (B, M)
    source = objects["source"].to(device, dtype)  # (B, M, 2) photo pixels of the texture centre
    frame = frame.clone()
    for j in range(centre.shape[1]):
        pos = centre[:, j] + velocity[:, j] * time  # (B, 2)
        ax, ay = radii[:, j, 0].view(b, 1, 1), radii[:, j, 1].view(b, 1, 1)
        # alpha > 0 needs dist < 1 + 0.5 / min(ax, ay): inside this many pixels of the centre.
        reach = radii[:, j].amax(dim=-1) * (1 + 0.5 / radii[:, j].amin(dim=-1)) + 1.0  # (B,)
        x0 = max(0, math.floor(float((pos[:, 0] - reach).min())))
        x1 = min(w, math.ceil(float((pos[:, 0] + reach).max())) + 1)
        y0 = max(0, math.floor(float((pos[:, 1] - reach).min())))
        y1 = min(h, math.ceil(float((pos[:, 1] + reach).max())) + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        ys = torch.arange(y0, y1, dtype=dtype, device=device).view(1, -1, 1)
        xs = torch.arange(x0, x1, dtype=dtype, device=device).view(1, 1, -1)
        bh, bw = y1 - y0, x1 - x0
        ux = xs - pos[:, 0].view(b, 1, 1)  # (B, 1, bw)
        uy = ys - pos[:, 1].view(b, 1, 1)  # (B, bh, 1)
        cos, sin = angle[:, j].cos().view(b, 1, 1), angle[:, j].sin().view(b, 1, 1)
        along = ux * cos - uy * sin  # counter-clockwise as displayed (y down)
        across = ux * sin + uy * cos
        dist = torch.sqrt((along / ax) ** 2 + (across / ay) ** 2)  # 1 on the ellipse
        # About one pixel of anti-aliased edge: signed distance in pixels, shifted by half a pixel.
        alpha = ((1.0 - dist) * torch.minimum(ax, ay) + 0.5).clamp(0.0, 1.0)  # (B, bh, bw)
        sx = source[:, j, 0].view(b, 1, 1) + ux.expand(b, bh, bw)
        sy = source[:, j, 1].view(b, 1, 1) + uy.expand(b, bh, bw)
        grid = torch.stack([(2 * sx + 1) / width - 1, (2 * sy + 1) / height - 1], dim=-1)
        texture = F.grid_sample(
            light, grid.to(light.dtype), mode="bilinear", padding_mode="border", align_corners=False
        )
        a = alpha.to(frame.dtype).unsqueeze(1)
        region = frame[:, :, y0:y1, x0:x1]
        frame[:, :, y0:y1, x0:x1] = region * (1 - a) + texture * a
    return frame


def render_camera_path(
    sharp: Tensor,
    translation: Tensor,
    rotation: Tensor,
    zoom: Tensor,
    *,
    margin: int,
    gamma: Gamma = "srgb",
    objects: dict[str, Tensor] | None = None,
    clip: bool = True,
    times: Tensor | None = None,
    weights: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Render sub-frames along given camera paths and average them in linear light.

    Sub-frame ``i`` shows, at the output pixel whose offset from the photo's centre is ``q``
    (x right, y down), the photo at ``zoom_i * R(rotation_i) q + translation_i``, where ``R``
    turns counter-clockwise as displayed. The output is the photo's centre cut ``margin`` pixels
    in from every side; positions beyond the photo take the nearest border pixel (choose
    ``margin`` large enough that none do, as :class:`GoProBlurSynthesizer` does).

    Args:
        sharp: photos ``(B, 3, H, W)`` or ``(3, H, W)`` in [0, 1].
        translation: ``(B, N, 2)`` or ``(N, 2)`` shifts in pixels, ``N`` odd.
        rotation: ``(B, N)`` or ``(N,)`` angles in degrees.
        zoom: ``(B, N)`` or ``(N,)`` scale factors (1: none).
        margin: pixels cut from every side.
        gamma: averaging curve: ``"srgb"`` (linear light), a power such as 2.2, or ``None``.
        objects: optional moving objects, each tensor ``(B, M, ...)``: ``center`` ``(B, M, 2)``
            output pixels (x, y) at the middle sub-frame, ``velocity`` ``(B, M, 2)`` pixels moved
            from the middle to the last sub-frame, ``radii`` ``(B, M, 2)`` ellipse semi-axes,
            ``angle`` ``(B, M)`` degrees, ``source`` ``(B, M, 2)`` photo pixels of the texture.
        clip: clip the average to [0, 1]. ``False`` (with ``gamma=None``) keeps values above 1,
            so highlights boosted above white saturate only when the caller clips, after noise.
        times: ``(N,)`` sub-frame times in [-1, 1] (where moving objects are); default evenly
            spaced.
        weights: ``(N,)`` the share of the exposure of each sub-frame (summing to 1); default
            equal shares.

    Returns:
        ``(blurry, sharp_target)``, each ``(B, 3, H - 2 margin, W - 2 margin)`` (no batch
        dimension if ``sharp`` had none). The target is the middle sub-frame; when it is the
        identity pose without objects it is an exact crop of ``sharp``.

    Example:
        >>> photo = torch.rand(3, 20, 20)
        >>> shifts = torch.tensor([[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]])
        >>> blurry, target = render_camera_path(photo, shifts, torch.zeros(3), torch.ones(3),
        ...                                     margin=3)
        >>> blurry.shape, bool(torch.equal(target, photo[:, 3:17, 3:17]))
        (torch.Size([3, 14, 14]), True)
    """
    return _render(
        sharp,
        translation,
        rotation,
        zoom,
        margin=margin,
        gamma=gamma,
        objects=objects,
        clip=clip,
        times=times,
        weights=weights,
    )


def _render(
    sharp: Tensor,
    translation: Tensor,
    rotation: Tensor,
    zoom: Tensor,
    *,
    margin: int,
    gamma: Gamma,
    objects: dict[str, Tensor] | None,
    clip: bool,
    precise: bool = True,
    times: Tensor | None = None,
    weights: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """:func:`render_camera_path`, with sub-frame ``times`` (default: evenly spaced) and
    ``weights`` (default: equal). ``precise=False`` computes the sampling grids in float32
    (about 1e-5 px off, much faster) for the many sub-frames of the adaptive mode."""
    images, squeeze = as_batch(sharp)
    b, _, height, width = images.shape
    translation = translation.unsqueeze(0) if translation.ndim == 2 else translation
    rotation = rotation.unsqueeze(0) if rotation.ndim == 1 else rotation
    zoom = zoom.unsqueeze(0) if zoom.ndim == 1 else zoom
    n = translation.shape[1]
    if (
        translation.ndim != 3
        or translation.shape[-1] != 2
        or translation.shape[0] not in (1, b)
        or rotation.shape[-1] != n
        or zoom.shape[-1] != n
    ):
        raise ValueError(
            f"paths must be translation (B, N, 2), rotation (B, N), zoom (B, N) for B={b}, got "
            f"{tuple(translation.shape)}, {tuple(rotation.shape)}, {tuple(zoom.shape)}"
        )
    if n % 2 == 0:
        raise ValueError(f"the number of sub-frames must be odd (the middle one is sharp), got {n}")
    if not isinstance(margin, int) or isinstance(margin, bool) or margin < 0:
        raise ValueError(f"margin must be a non-negative integer, got {margin!r}")
    h, w = height - 2 * margin, width - 2 * margin
    if h < 1 or w < 1:
        raise ValueError(f"margin {margin} leaves nothing of a {width}x{height} photo")
    gamma = parse_gamma(gamma)
    device = images.device
    translation = translation.to(device, torch.float64).expand(b, n, 2)
    rotation = rotation.to(device, torch.float64).expand(b, n)
    zoom = zoom.to(device, torch.float64).expand(b, n)
    work = torch.float64 if images.dtype == torch.float64 else torch.float32
    light = decode_gamma(images.to(work), gamma)

    cx, cy = (width - 1) / 2, (height - 1) / 2
    grid_dtype = torch.float64 if precise else work
    qy = (torch.arange(h, dtype=grid_dtype, device=device) + margin - cy).view(1, h, 1)
    qx = (torch.arange(w, dtype=grid_dtype, device=device) + margin - cx).view(1, 1, w)
    frame_times = (_frame_times(n) if times is None else times).tolist()
    if len(frame_times) != n or (weights is not None and weights.shape[-1] != n):
        raise ValueError(f"times and weights must have one entry per sub-frame ({n})")
    shares = None if weights is None else weights.to(device, work).reshape(-1, 1, 1, 1)
    crop = (slice(None), slice(None), slice(margin, margin + h), slice(margin, margin + w))
    total = torch.zeros(b, images.shape[1], h, w, dtype=work, device=device)
    middle = total
    for i in range(n):
        shift, angle, scale = translation[:, i], rotation[:, i], zoom[:, i]
        if _is_identity(shift, angle, scale):
            frame = light[crop]
        elif precise:
            rad = torch.deg2rad(angle).view(b, 1, 1)
            s = scale.view(b, 1, 1)
            # Counter-clockwise as displayed, with y pointing down.
            sx = cx + s * (rad.cos() * qx + rad.sin() * qy) + shift[:, 0].view(b, 1, 1)
            sy = cy + s * (-rad.sin() * qx + rad.cos() * qy) + shift[:, 1].view(b, 1, 1)
            grid = torch.stack([(2 * sx + 1) / width - 1, (2 * sy + 1) / height - 1], dim=-1)
            frame = F.grid_sample(
                light, grid.to(work), mode="bilinear", padding_mode="border", align_corners=False
            )
        else:
            # The same affine map, its normalisation folded into float64 coefficients: the
            # column and row terms are (B, 1, w, 2) and (B, h, 1, 2); one broadcast add.
            rad = torch.deg2rad(angle)
            c, s_ = scale * rad.cos(), scale * rad.sin()
            ax, ay = 2 / width, 2 / height

            def pair(x: Tensor, y: Tensor) -> Tensor:  # (B, 1, 1, 2) in the grid's dtype
                return torch.stack([x, y], -1).to(grid_dtype).view(b, 1, 1, 2)

            offset = pair(
                ax * (cx + shift[:, 0]) + ax / 2 - 1, ay * (cy + shift[:, 1]) + ay / 2 - 1
            )
            columns = qx.view(1, 1, w, 1) * pair(ax * c, -ay * s_)
            rows = qy.view(1, h, 1, 1) * pair(ax * s_, ay * c) + offset
            grid = columns + rows  # (B, h, w, 2)
            frame = F.grid_sample(
                light, grid, mode="bilinear", padding_mode="border", align_corners=False
            )
        if objects is not None:
            frame = _composite_objects(frame, light, objects, frame_times[i], dtype=grid_dtype)
        total = total + frame if shares is None else total.add_(frame * shares[i])
        if i == n // 2:
            middle = frame
    mean = total / n if shares is None else total
    blurry = encode_gamma(mean.clamp(0.0, 1.0) if clip else mean, gamma)
    blurry = (blurry.clamp(0.0, 1.0) if clip else blurry).to(images.dtype)
    centre = n // 2
    exact = objects is None and _is_identity(
        translation[:, centre], rotation[:, centre], zoom[:, centre]
    )
    if exact:
        target = images[crop]
    else:
        target = encode_gamma(middle, gamma)
        target = target.clamp(0.0, 1.0) if clip else target
    target = target.to(images.dtype)
    if squeeze:
        return blurry[0], target[0]
    return blurry, target
