"""The dead leaves image model (Matheron 1968; Lee, Mumford and Huang 2001): the renderer.

The model stacks random opaque shapes ("leaves") until they cover the plane. With sizes drawn
from ``p(r) ∝ r^-alpha`` and ``alpha = 3`` the images are scale invariant, with the occlusion
edges, flat regions and ``1/f^2`` power spectrum of natural photos (Lee, Mumford and Huang,
"Occlusion models for natural images", IJCV 2001).

Rendering is front to back: each leaf only claims the pixels no earlier leaf has taken, and
leaves are drawn in batches until the frame is covered. Leaves come from a stationary Poisson
process on the whole plane, so edges run out of the frame as they would in a photo crop. The
training pairs made from them are :class:`deblurgan.data.dead_leaves.DeadLeavesDataset`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "COLOUR_MODES",
    "LEAF_SHAPES",
    "LEAF_TEXTURES",
    "LeafPartition",
    "check_options",
    "dead_leaves_image",
    "dead_leaves_partition",
    "sample_radii",
]

logger = logging.getLogger(__name__)

#: Leaf shapes. All have the area ``pi r^2`` of the disc of radius ``r``, so ``r`` is their size.
LEAF_SHAPES = ("disc", "ellipse", "rectangle")
#: Per-leaf shading: none, a linear ramp, or a sinusoidal grating across the leaf.
LEAF_TEXTURES = ("flat", "gradient", "sine")
#: Leaf colours: uniform in the RGB cube, or picked from a random palette of 2-16 colours.
COLOUR_MODES = ("uniform", "palette")

#: Ellipses and rectangles take a major/minor axis ratio log-uniform in [1, MAX_ASPECT].
MAX_ASPECT = 4.0
_SENTINEL = torch.iinfo(torch.int64).max
# Leaves drawn per batch: enough to cover each pixel about this many times on average.
_COVER_PER_BATCH = 2.0
# Give up covering after this many leaves (tiny radius_min); the rest gets a background colour.
_MAX_LEAVES = 2_000_000


def _power_integral(exponent: float, low: float, high: float) -> float:
    """``∫_low^high r^exponent dr``."""
    if abs(exponent + 1) < 1e-9:
        return math.log(high / low)
    return (high ** (exponent + 1) - low ** (exponent + 1)) / (exponent + 1)


def _power_law_icdf(u: Tensor, low: float, high: float, alpha: float) -> Tensor:
    """Inverse CDF of ``p(r) ∝ r^-alpha`` on ``[low, high]`` at ``u`` in [0, 1]."""
    if low == high:
        return torch.full_like(u, low)
    if abs(alpha - 1) < 1e-9:
        return low * (high / low) ** u
    a, b = low ** (1 - alpha), high ** (1 - alpha)
    return (a + u * (b - a)) ** (1 / (1 - alpha))


def _check_radii(radius_min: float, radius_max: float, alpha: float) -> None:
    for name, value in (("radius_min", radius_min), ("radius_max", radius_max), ("alpha", alpha)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not 0 < radius_min <= radius_max:
        raise ValueError(
            f"radii must satisfy 0 < radius_min <= radius_max, got radius_min={radius_min!r}, "
            f"radius_max={radius_max!r}"
        )


def sample_radii(
    n: int,
    *,
    radius_min: float,
    radius_max: float,
    alpha: float = 3.0,
    generator: torch.Generator,
) -> Tensor:
    """Draw ``n`` radii from the truncated power law ``p(r) ∝ r^-alpha`` on ``[rmin, rmax]``.

    Inverse-CDF sampling: ``r = (rmin^(1-a) + u (rmax^(1-a) - rmin^(1-a)))^(1/(1-a))`` for
    ``u ~ U(0, 1)`` (``r = rmin (rmax/rmin)^u`` when ``alpha = 1``). Draws exactly ``n`` numbers.

    Args:
        n: number of radii.
        radius_min: smallest radius (> 0).
        radius_max: largest radius (>= radius_min).
        alpha: exponent of the power law; 3 gives scale-invariant dead leaves.
        generator: source of randomness.

    Returns:
        ``(n,)`` float64 radii.

    Example:
        >>> r = sample_radii(1000, radius_min=1.0, radius_max=50.0,
        ...                  generator=torch.Generator().manual_seed(0))
        >>> bool(r.min() >= 1.0), bool(r.max() <= 50.0), bool(r.median() < 2.0)
        (True, True, True)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    _check_radii(radius_min, radius_max, alpha)
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return _power_law_icdf(u, float(radius_min), float(radius_max), float(alpha)).clamp_(
        radius_min, radius_max
    )


@dataclass(frozen=True)
class LeafPartition:
    """Which leaf is visible at each pixel, and the leaves' geometry.

    Attributes:
        labels: ``(H, W)`` int64, the index of the leaf seen at each pixel centre (the frontmost
            one covering it); -1 where no leaf was drawn (only with a fixed ``leaves`` count).
        centres: ``(N, 2)`` leaf centres ``(x, y)`` in pixels; pixel ``(i, j)`` has its centre
            at ``(j + 0.5, i + 0.5)``.
        radii: ``(N,)`` leaf sizes: the disc of this radius has the leaf's area.
        axes: ``(N, 2)`` semi-axes (ellipses, discs) or half-sides (rectangles), major first.
        angles: ``(N,)`` orientation of the major axis, radians.
        shapes: ``(N,)`` index into :data:`LEAF_SHAPES`.
    """

    labels: Tensor
    centres: Tensor
    radii: Tensor
    axes: Tensor
    angles: Tensor
    shapes: Tensor

    def __len__(self) -> int:
        return int(self.radii.shape[0])


def _size_pair(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int) and not isinstance(size, bool):
        height = width = size
    elif (
        isinstance(size, Sequence)
        and len(size) == 2
        and all(isinstance(s, int) and not isinstance(s, bool) for s in size)
    ):
        height, width = int(size[0]), int(size[1])
    else:
        raise ValueError(f"size must be an int or a (height, width) pair of ints, got {size!r}")
    if height < 1 or width < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    return height, width


def _shape_codes(shapes: Sequence[str] | str) -> list[int]:
    if isinstance(shapes, str):
        shapes = [shapes]
    if not isinstance(shapes, Sequence) or not shapes:
        raise ValueError(
            f"shapes must be a non-empty list from {list(LEAF_SHAPES)}, got {shapes!r}"
        )
    unknown = [s for s in shapes if s not in LEAF_SHAPES]
    if unknown:
        raise ValueError(f"unknown leaf shape(s) {unknown}; allowed: {list(LEAF_SHAPES)}")
    return sorted({LEAF_SHAPES.index(s) for s in shapes})


def _extent_factor(code: int) -> float:
    """The largest half-extent of a shape's bounding box, in units of its size ``r``."""
    if code == 0:  # disc
        return 1.0
    if code == 1:  # ellipse: semi-major axis r sqrt(q)
        return math.sqrt(MAX_ASPECT)
    # rectangle: half-diagonal (sqrt(pi) / 2) r sqrt(q + 1/q)
    return math.sqrt(math.pi) / 2 * math.sqrt(MAX_ASPECT + 1 / MAX_ASPECT)


def _row_spans(fy: Tensor, geometry: Tensor) -> tuple[Tensor, Tensor]:
    """The x interval ``[lo, hi]`` (relative to the centre) of each leaf's row at height ``fy``.

    ``fy`` is the row's height above the leaf centre; ``geometry`` rows are those of the
    leaves. Rows that miss the leaf get ``lo > hi``.
    """
    a, b, cos, sin, rect = (
        geometry[:, 2],
        geometry[:, 3],
        geometry[:, 4],
        geometry[:, 5],
        geometry[:, 6],
    )
    # Ellipse ((c x + s y) / a)^2 + ((c y - s x) / b)^2 <= 1: a quadratic in x.
    ia2, ib2 = 1 / (a * a), 1 / (b * b)
    qa = cos * cos * ia2 + sin * sin * ib2
    qb = 2 * fy * cos * sin * (ia2 - ib2)
    qc = fy * fy * (sin * sin * ia2 + cos * cos * ib2) - 1
    delta = qb * qb - 4 * qa * qc
    root = delta.clamp(min=0).sqrt()
    lo = torch.where(delta >= 0, (-qb - root) / (2 * qa), 1.0)
    hi = torch.where(delta >= 0, (-qb + root) / (2 * qa), -1.0)
    if bool((rect > 0).any()):
        # Rectangle |c x + s y| <= a and |s x - c y| <= b: two slabs in x. A near-zero
        # cosine (sine) gives a slab of +-1e9 around the centre, or one far away: both exact
        # once clipped to the frame.
        c = torch.where(cos.abs() < 1e-9, 1e-9, cos)
        t = torch.where(sin.abs() < 1e-9, 1e-9, sin)
        p1, p2 = (-a - sin * fy) / c, (a - sin * fy) / c
        p3, p4 = (cos * fy - b) / t, (cos * fy + b) / t
        rect_lo = torch.maximum(torch.minimum(p1, p2), torch.minimum(p3, p4))
        rect_hi = torch.minimum(torch.maximum(p1, p2), torch.maximum(p3, p4))
        lo = torch.where(rect > 0, rect_lo, lo)
        hi = torch.where(rect > 0, rect_hi, hi)
    return lo, hi


def _paint(
    labels: Tensor,
    height: int,
    width: int,
    geometry: Tensor,
    first_id: int,
    *,
    any_claimed: bool,
) -> None:
    """Give each unclaimed pixel centre the lowest id of the leaves covering it (in place).

    ``geometry`` is ``(n, 9)``: cx, cy, a, b, cos, sin, is_rectangle, half-extent x, half-extent y;
    leaf ``k`` has id ``first_id + k``. Each leaf is cut into row spans (exact for convex shapes),
    spans with no unclaimed pixel are skipped, and only the rest is expanded into pixels.
    """
    cy, ey = geometry[:, 1], geometry[:, 8]
    # Row i is covered when its centre i + 0.5 lies in [cy - ey, cy + ey].
    y0 = torch.ceil(cy - ey - 0.5).clamp_(min=0).long()
    y1 = torch.floor(cy + ey - 0.5).clamp_(max=height - 1).long()
    rows = (y1 - y0 + 1).clamp_(min=0)
    leaf = torch.repeat_interleave(rows)  # (R,) the leaf of each (leaf, row) pair
    if leaf.numel() == 0:
        return
    row = (y0 - (rows.cumsum(0) - rows)).index_select(0, leaf) + torch.arange(leaf.numel())
    params = geometry.index_select(0, leaf)
    lo, hi = _row_spans(row.to(geometry.dtype) + 0.5 - params[:, 1], params)
    # Pixel j is covered when its centre j + 0.5 lies in [cx + lo, cx + hi].
    x0 = torch.ceil(params[:, 0] + lo - 0.5).clamp_(min=0, max=width).long()
    x1 = torch.floor(params[:, 0] + hi - 0.5).clamp_(min=-1, max=width - 1).long()
    keep = x1 >= x0
    if any_claimed:
        # Unclaimed pixels of row i before column j: free[i, j]; skip fully hidden spans.
        free = torch.zeros(height, width + 1, dtype=torch.int32)
        free[:, 1:] = (labels == _SENTINEL).view(height, width).to(torch.int32).cumsum(1)
        start = row * (width + 1)
        free_flat = free.view(-1)
        keep &= free_flat[start + x1.clamp(min=0) + 1] > free_flat[start + x0.clamp(max=width - 1)]
    kept = keep.nonzero().squeeze(1)
    leaf, row, x0, x1 = (t.index_select(0, kept) for t in (leaf, row, x0, x1))
    length = x1 - x0 + 1
    span = torch.repeat_interleave(length)  # (P,) the span of each pixel
    if span.numel() == 0:
        return
    first = row * width + x0 - (length.cumsum(0) - length)
    pixel = first.index_select(0, span) + torch.arange(span.numel())
    ids = leaf.index_select(0, span) + first_id
    if any_claimed:
        free_pixel = (labels.index_select(0, pixel) == _SENTINEL).nonzero().squeeze(1)
        pixel, ids = pixel.index_select(0, free_pixel), ids.index_select(0, free_pixel)
    labels.scatter_reduce_(0, pixel, ids, reduce="amin")


def dead_leaves_partition(
    size: int | tuple[int, int],
    *,
    generator: torch.Generator,
    radius_min: float = 1.0,
    radius_max: float | None = None,
    alpha: float = 3.0,
    leaves: int | None = None,
    shapes: Sequence[str] | str = ("disc",),
) -> LeafPartition:
    """The geometry of a dead leaves image: the leaf visible at each pixel centre.

    Leaves are drawn front to back from a stationary Poisson process on the plane, thinned to
    those whose bounding box meets the frame: a leaf of size ``r`` is kept with probability
    proportional to the area of the frame grown by its half-extents, then centred uniformly in
    that grown frame, so large leaves reach in from outside as often as they would in a crop of
    an endless image. Sizes follow ``p(r) ∝ r^-alpha``; ellipses and rectangles take an aspect
    ratio log-uniform in ``[1, 4]`` and a uniform orientation. Batches of leaves are drawn until
    every pixel centre is covered (or ``leaves`` leaves have been drawn).

    Args:
        size: ``H`` or ``(H, W)`` in pixels.
        generator: source of randomness.
        radius_min: smallest leaf size ``r`` in pixels (the disc radius of equal area).
        radius_max: largest leaf size in pixels; default the larger side of the frame.
        alpha: exponent of the size law; 3 is scale invariant.
        leaves: draw exactly this many leaves (uncovered pixels keep label -1); default: until
            the frame is covered.
        shapes: leaf shapes from :data:`LEAF_SHAPES`, picked with equal probability.

    Returns:
        A :class:`LeafPartition`.

    Example:
        >>> part = dead_leaves_partition(32, generator=torch.Generator().manual_seed(0))
        >>> part.labels.shape, bool((part.labels >= 0).all()), len(part) > 10
        (torch.Size([32, 32]), True, True)
    """
    height, width = _size_pair(size)
    if radius_max is None:
        radius_max = float(max(height, width))
    _check_radii(radius_min, radius_max, alpha)
    if leaves is not None and (
        isinstance(leaves, bool) or not isinstance(leaves, int) or leaves < 1
    ):
        raise ValueError(f"leaves must be a positive integer or None, got {leaves!r}")
    codes = _shape_codes(shapes)
    rmin, rmax, alpha = float(radius_min), float(radius_max), float(alpha)
    factor = max(_extent_factor(c) for c in codes)
    only_discs = codes == [0]

    # Sizes of the leaves whose bounding box (at most factor * r on each side) meets the frame:
    # p(r) (W + 2 f r) (H + 2 f r), a mixture of the power laws r^-alpha, r^(1-alpha), r^(2-alpha).
    def moment(j: int) -> float:  # ∫ r^j p(r) dr, up to p's normalisation
        return rmin**j if rmin == rmax else _power_integral(j - alpha, rmin, rmax)

    coefficients = [width * height, 2 * factor * (width + height), 4 * factor**2]
    masses = [c * moment(j) for j, c in enumerate(coefficients)]
    total = sum(masses)
    cumulative = torch.tensor([masses[0] / total, (masses[0] + masses[1]) / total])
    # Mean share of the frame one such leaf covers: pi E[r^2] / E[(W + 2fr)(H + 2fr)].
    cover = math.pi * moment(2) / total
    batch = int(min(max(math.ceil(_COVER_PER_BATCH / cover), 64), 1 << 16))

    labels = torch.full((height * width,), _SENTINEL, dtype=torch.int64)
    tables: list[Tensor] = []
    drawn = 0
    while True:
        component = torch.bucketize(
            torch.rand(batch, generator=generator, dtype=torch.float64), cumulative, right=True
        )
        u = torch.rand(batch, generator=generator, dtype=torch.float64)
        radii = torch.empty(batch, dtype=torch.float64)
        for j in range(3):
            chosen = component == j
            radii[chosen] = _power_law_icdf(u[chosen], rmin, rmax, alpha - j)
        radii.clamp_(rmin, rmax)
        if only_discs:
            kind = torch.zeros(batch, dtype=torch.int64)
            a = b = radii
            angle = torch.zeros(batch, dtype=torch.float64)
            ex = ey = radii
        else:
            draws = torch.rand(4, batch, generator=generator, dtype=torch.float64)
            kind = torch.tensor(codes)[(draws[0] * len(codes)).long().clamp_(max=len(codes) - 1)]
            root_q = MAX_ASPECT ** (draws[1] / 2)
            scale = torch.where(kind == 2, math.sqrt(math.pi) / 2, 1.0)
            root_q = torch.where(kind == 0, 1.0, root_q)
            a, b = radii * scale * root_q, radii * scale / root_q
            angle = draws[2] * math.pi
            cos, sin = angle.cos(), angle.sin()
            ex = torch.where(
                kind == 2,
                a * cos.abs() + b * sin.abs(),
                (a * a * cos * cos + b * b * sin * sin).sqrt(),
            )
            ey = torch.where(
                kind == 2,
                a * sin.abs() + b * cos.abs(),
                (a * a * sin * sin + b * b * cos * cos).sqrt(),
            )
            # Thin from the f * r bound to the leaf's own bounding box.
            bound = (width + 2 * factor * radii) * (height + 2 * factor * radii)
            accept = draws[3] * bound < (width + 2 * ex) * (height + 2 * ey)
            kind, radii, a, b, angle, ex, ey = (
                t[accept] for t in (kind, radii, a, b, angle, ex, ey)
            )
        if leaves is not None:
            kind, radii, a, b, angle, ex, ey = (
                t[: leaves - drawn] for t in (kind, radii, a, b, angle, ex, ey)
            )
        n = int(radii.shape[0])
        centre = torch.rand(n, 2, generator=generator, dtype=torch.float64)
        cx = -ex + centre[:, 0] * (width + 2 * ex)
        cy = -ey + centre[:, 1] * (height + 2 * ey)
        geometry = torch.stack(
            [cx, cy, a, b, angle.cos(), angle.sin(), (kind == 2).double(), ex, ey], dim=1
        )
        _paint(labels, height, width, geometry.float(), drawn, any_claimed=drawn > 0)
        tables.append(
            torch.cat([geometry[:, :4], angle[:, None], radii[:, None], kind[:, None]], 1)
        )
        drawn += n
        if leaves is not None and drawn >= leaves:
            break
        if leaves is None and not bool((labels == _SENTINEL).any()):
            break
        if drawn >= _MAX_LEAVES:
            logger.warning(
                "dead leaves: %d leaves did not cover the %dx%d frame (radius_min=%g); the rest "
                "is background",
                drawn,
                height,
                width,
                rmin,
            )
            break

    table = torch.cat(tables) if tables else torch.zeros(0, 7, dtype=torch.float64)
    labels = torch.where(labels == _SENTINEL, -1, labels).view(height, width)
    return LeafPartition(
        labels=labels,
        centres=table[:, 0:2].float(),
        radii=table[:, 5].float(),
        axes=table[:, 2:4].float(),
        angles=table[:, 4].float(),
        shapes=table[:, 6].long(),
    )


def check_options(
    radius_min: float,
    radius_max: float,
    alpha: float,
    shapes: Sequence[str] | str,
    texture: str,
    texture_strength: float,
    colours: str,
    supersample: int,
) -> None:
    """Validate the options of :func:`dead_leaves_image` (one ``ValueError`` per bad value)."""
    _check_radii(radius_min, radius_max, alpha)
    _shape_codes(shapes)
    if texture not in LEAF_TEXTURES:
        raise ValueError(f"texture must be one of {list(LEAF_TEXTURES)}, got {texture!r}")
    if colours not in COLOUR_MODES:
        raise ValueError(f"colours must be one of {list(COLOUR_MODES)}, got {colours!r}")
    strength = texture_strength
    if (
        isinstance(strength, bool)
        or not isinstance(strength, int | float)
        or not 0 <= strength <= 1
    ):
        raise ValueError(f"texture_strength must be a number in [0, 1], got {texture_strength!r}")
    if (
        isinstance(supersample, bool)
        or not isinstance(supersample, int)
        or not 1 <= supersample <= 8
    ):
        raise ValueError(f"supersample must be an integer in [1, 8], got {supersample!r}")


def dead_leaves_image(
    size: int | tuple[int, int],
    *,
    generator: torch.Generator,
    radius_min: float = 1.0,
    radius_max: float | None = None,
    alpha: float = 3.0,
    leaves: int | None = None,
    shapes: Sequence[str] | str = ("disc",),
    texture: str = "gradient",
    texture_strength: float = 0.15,
    colours: str = "uniform",
    supersample: int = 2,
) -> Tensor:
    """Render a dead leaves image: random opaque shapes, front to back, until the frame is full.

    The partition (:func:`dead_leaves_partition`) is computed at ``supersample`` times the
    resolution and area-averaged down (in sRGB values, the space the colours are drawn in), so
    leaf edges are anti-aliased. Each leaf has one colour (``"uniform"`` in the RGB cube, or
    from a random palette of 2-16 colours shared by the image) modulated by its texture:
    ``"gradient"`` shades it linearly along a random direction, ``"sine"`` by a sinusoidal
    grating of 1-4 cycles across the leaf, each by a random relative amplitude of up to
    ``texture_strength`` per leaf radius, so flat areas are not perfectly flat; ``"flat"`` keeps
    the classical flat leaves. All randomness comes from ``generator``.

    Args:
        size: ``H`` or ``(H, W)`` of the image.
        generator: source of randomness.
        radius_min: smallest leaf size in output pixels (the radius of a disc of equal area).
        radius_max: largest leaf size in output pixels; default the larger side of the image.
        alpha: exponent of the size law ``p(r) ∝ r^-alpha``; 3 is scale invariant.
        leaves: a fixed number of leaves instead of "until covered"; pixels no leaf reached
            take a random background colour.
        shapes: leaf shapes from :data:`LEAF_SHAPES` (``"ellipse"`` and ``"rectangle"`` add
            elongated leaves and straight edges).
        texture: one of :data:`LEAF_TEXTURES`.
        texture_strength: largest relative amplitude of the texture, in [0, 1].
        colours: one of :data:`COLOUR_MODES`.
        supersample: render at this many times the resolution per axis (1: aliased).

    Returns:
        ``(3, H, W)`` float32 RGB in [0, 1].

    Example:
        >>> image = dead_leaves_image(24, generator=torch.Generator().manual_seed(0))
        >>> image.shape, bool(image.min() >= 0), bool(image.max() <= 1)
        (torch.Size([3, 24, 24]), True, True)
    """
    height, width = _size_pair(size)
    if radius_max is None:
        radius_max = float(max(height, width))
    check_options(
        radius_min, radius_max, alpha, shapes, texture, texture_strength, colours, supersample
    )
    ss = supersample
    part = dead_leaves_partition(
        (height * ss, width * ss),
        generator=generator,
        radius_min=radius_min * ss,
        radius_max=radius_max * ss,
        alpha=alpha,
        leaves=leaves,
        shapes=shapes,
    )
    n = len(part)
    # Colours of the n leaves and, last, of the background (seen only with a fixed leaf count).
    if colours == "uniform":
        table = torch.rand(n + 1, 3, generator=generator)
    else:
        count = 2 + int(torch.randint(15, (1,), generator=generator))
        palette = torch.rand(count, 3, generator=generator)
        table = palette[torch.randint(count, (n + 1,), generator=generator)]
    labels = part.labels.view(-1)
    labels = torch.where(labels < 0, n, labels)
    hs, ws = height * ss, width * ss
    if texture == "flat" or texture_strength == 0 or n == 0:
        image = table.index_select(0, labels).view(hs, ws, 3)
    else:
        params = torch.rand(n, 3, generator=generator)
        direction = params[:, 0] * (2 * math.pi)
        amplitude = (2 * params[:, 1] - 1) * texture_strength
        # Position along the texture direction in units of the leaf size (about -1 to 1 inside
        # the leaf), as an affine function of the pixel centre: k0 + kx x + ky y.
        kx = direction.cos() / part.radii
        ky = direction.sin() / part.radii
        k0 = -(part.centres[:, 0] * kx + part.centres[:, 1] * ky)
        xs = (torch.arange(ws, dtype=torch.float32) + 0.5).view(1, ws, 1)
        ys = (torch.arange(hs, dtype=torch.float32) + 0.5).view(hs, 1, 1)
        if texture == "gradient":
            # colour * (1 + amplitude * along), expanded into per-leaf affine coefficients.
            coefficients = torch.stack([1 + amplitude * k0, amplitude * kx, amplitude * ky], 1)
            background = torch.tensor([[1.0, 0.0, 0.0]])
            affine = table[:, :, None] * torch.cat([coefficients, background])[:, None, :]
            per_pixel = affine.view(n + 1, 9).index_select(0, labels).view(hs, ws, 3, 3)
            image = per_pixel[..., 0] + per_pixel[..., 1] * xs + per_pixel[..., 2] * ys
        else:
            omega = (math.pi * 2) * (0.5 + 1.5 * params[:, 2])  # 1-4 cycles across the leaf
            leaf = torch.stack([omega * k0 + direction, omega * kx, omega * ky, amplitude], 1)
            leaf = torch.cat([leaf, torch.zeros(1, 4)]).index_select(0, labels).view(hs, ws, 4)
            phase = leaf[..., 0:1] + leaf[..., 1:2] * xs + leaf[..., 2:3] * ys
            colour = table.index_select(0, labels).view(hs, ws, 3)
            image = colour * (1 + leaf[..., 3:4] * phase.sin())
    image = image.clamp(0, 1).permute(2, 0, 1)
    if ss > 1:
        image = F.avg_pool2d(image[None], ss)[0]  # area average of each ss x ss block
    return image.contiguous()
