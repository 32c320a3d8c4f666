"""One realistic degradation pipeline (after Rim et al., ECCV 2022, "Realistic Blur Synthesis").

:class:`RealisticDegradation` turns a sharp photo into the blurry photo a small camera would
record, in this order (every random choice from one explicit ``torch.Generator``):

1. **Motion.** A blur size is drawn as a fraction of the frame width (a truncated lognormal by
   default, see ``docs/degradation.md``), then either a GoPro-style camera path
   (:class:`~deblurgan.blur.GoProBlurSynthesizer`: translation, in-plane rotation, zoom and
   moving objects, so the blur varies over the image) or a camera-shake trajectory kernel
   (Boracchi & Foi, 2012, as DeblurGAN). Camera paths use as many sub-frames as keep
   consecutive copies of any edge at most ``max_step`` pixels apart: smooth streaks, no ghosts.
2. **Camera response and saturation.** The sharp photo is decoded to linear light and its
   clipped highlights are boosted above 1 (a clipped pixel stood for more light than white).
   Sub-frames are averaged in linear light (as a sensor integrates) or in gamma space (as the
   GoPro benchmark's ``blur`` folder), chosen at random per item.
3. **Sensor noise** after the blur, in linear light: Poisson-Gaussian with variance
   ``a x + b`` (Foi et al., 2008), ``a`` log-uniform over the levels of real cameras and ``b``
   tied to it (Brooks et al., CVPR 2019, "Unprocessing images for learned raw denoising").
4. **Clipping** to [0, 1] (the streaks of bright lights saturate), sRGB encoding, and **JPEG**
   at a random quality; both images are 8-bit, as files are.

The item's parameters come back with the pair (:class:`DegradedPair`), JSON-ready.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.blur.apply import convolve_valid, linear_to_srgb, srgb_to_linear
from deblurgan.blur.camera_path import _composite_objects
from deblurgan.blur.checks import check_generator, check_range
from deblurgan.blur.degrade import jpeg_compress
from deblurgan.blur.gopro import GoProBlurSynthesizer
from deblurgan.blur.trajectory import TrajectoryKernelSampler

__all__ = [
    "DegradedPair",
    "RealisticDegradation",
    "add_signal_dependent_noise",
    "build_degradation",
    "decode_srgb",
    "encode_srgb",
    "reflect_pad",
]

_DISTRIBUTIONS = ("lognormal", "log_uniform")
#: The reference frame: blur sizes are fractions of its width (a GoPro frame is 1280x720).
REFERENCE_WIDTH = 1280


def decode_srgb(image: Tensor) -> Tensor:
    """The sRGB decoding curve, extended as a power law above 1 (for light brighter than white).

    Example:
        >>> decode_srgb(torch.tensor([0.5, 1.0, 1.2]))
        tensor([0.2140, 1.0000, 1.5168])
    """
    curve = ((image.clamp_min(0.04045) + 0.055) / 1.055) ** 2.4
    return torch.where(image <= 0.04045, image / 12.92, curve)


def encode_srgb(light: Tensor) -> Tensor:
    """The sRGB encoding curve, extended above 1 (inverse of :func:`decode_srgb`).

    Example:
        >>> encode_srgb(torch.tensor([0.2140, 1.0, 1.5168]))
        tensor([0.5000, 1.0000, 1.2000])
    """
    curve = 1.055 * light.clamp_min(0.0031308) ** (1 / 2.4) - 0.055
    return torch.where(light <= 0.0031308, 12.92 * light, curve)


def reflect_pad(image: Tensor, top: int, bottom: int, left: int, right: int) -> Tensor:
    """Pad ``(C, H, W)`` by mirroring, repeatedly when a side is longer than the image.

    Example:
        >>> reflect_pad(torch.arange(3.0).view(1, 1, 3), 0, 0, 4, 1)[0, 0]
        tensor([0., 1., 2., 1., 0., 1., 2., 1.])
    """
    out = image.unsqueeze(0)
    pads = [left, right, top, bottom]
    while any(pads):
        h, w = out.shape[-2:]
        step = [min(pads[0], w - 1), min(pads[1], w - 1), min(pads[2], h - 1), min(pads[3], h - 1)]
        if not any(step):  # a single row or column: nothing to mirror
            out = F.pad(out, tuple(pads), mode="replicate")
            break
        out = F.pad(out, tuple(step), mode="reflect")
        pads = [p - s for p, s in zip(pads, step, strict=True)]
    return out[0]


def add_signal_dependent_noise(
    light: Tensor,
    shot: float,
    read: float,
    *,
    correlation: float = 0.0,
    generator: torch.Generator,
) -> Tensor:
    """Sensor noise of variance ``shot * x + read`` at a pixel of linear light ``x``.

    The heteroscedastic normal form of the Poisson-Gaussian model (Foi et al., 2008, eq. 2;
    the form Brooks et al., 2019 sample from): photon shot noise grows with the signal (its
    Poisson count, ``x / shot`` photons at full scale, is normal to within a fraction of a
    level from about ten photons), read noise does not. No clipping: a sensor clips after.

    Args:
        light: ``(C, H, W)`` linear light (values above 1 are brighter than white).
        shot: ``a``, the shot-noise variance at full scale (1 / photons at white).
        read: ``b``, the read-noise variance.
        correlation: correlation of the noise between channels, in [0, 1]; each channel's
            variance stays ``a x + b``.
        generator: the only source of randomness.

    Example:
        >>> flat = torch.full((1, 200, 200), 0.5)
        >>> noisy = add_signal_dependent_noise(flat, 0.01, 1e-4,
        ...                                    generator=torch.Generator().manual_seed(0))
        >>> round(float(noisy.var()), 4)  # 0.01 * 0.5 + 1e-4
        0.0051
    """
    if shot < 0 or read < 0 or not 0 <= correlation <= 1:
        raise ValueError(
            f"noise variances must be non-negative and the correlation in [0, 1], got "
            f"shot={shot}, read={read}, correlation={correlation}"
        )
    if light.ndim != 3:
        raise ValueError(f"light must be (C, H, W), got {tuple(light.shape)}")
    std = (light.clamp_min(0.0) * shot + read).sqrt()
    dtype, device = light.dtype, light.device
    own = torch.randn(light.shape, generator=generator, dtype=dtype, device=device)
    shared = torch.randn((1, *light.shape[1:]), generator=generator, dtype=dtype, device=device)
    noise = math.sqrt(1 - correlation) * own + math.sqrt(correlation) * shared
    return light + std * noise


def _quantize(image: Tensor) -> Tensor:
    return (image.clamp(0.0, 1.0) * 255).round() / 255


def _pair(name: str, value: Any, *, low: float, high: float = math.inf) -> tuple[float, float]:
    return check_range(name, value, low=low, high=high)  # the one (low, high) check of blur/


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _uniform01(generator: torch.Generator) -> float:
    return float(torch.rand(1, generator=generator, dtype=torch.float64))


def _log_uniform(bounds: tuple[float, float], u: float) -> float:
    lo, hi = bounds
    return lo if lo == hi else math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * u)


_NORMAL = statistics.NormalDist()


@dataclass
class DegradedPair:
    """A synthesised pair and everything drawn to make it.

    Args:
        blurry: ``(3, h, w)`` the degraded photo, 8-bit values in [0, 1].
        sharp: ``(3, h, w)`` its sharp target (the middle sub-frame), 8-bit values in [0, 1].
        params: JSON-ready parameters of the item (see :meth:`RealisticDegradation.draw`, plus
            what the rendering measured: ``num_frames``, ``max_step``, ``longest_streak``, ...).
        kernel: the blur kernel ``(k, k)`` of a camera-shake item; ``None`` for camera paths,
            whose blur varies over the image.
    """

    blurry: Tensor
    sharp: Tensor
    params: dict[str, Any] = field(default_factory=dict)
    kernel: Tensor | None = None


@dataclass(frozen=True)
class RealisticDegradation:
    """The settings of the realistic degradation; call it on a photo, or use it on windows.

    Sizes are fractions of the frame width, so they map onto any photo: a blur of 0.0625 is
    80 px in a 1280x720 frame and 40 px in a 640 px one. ``frame_width`` says which width the
    fractions refer to: 1280 (default) treats every image and crop as part of a 1280 px wide
    frame (pixel sizes of a GoPro frame, whatever the photo's resolution); ``None`` uses the
    width (longer side) of the image given. Nothing is rescaled here; the dataset may downscale
    photos before cropping.

    Args:
        frame_width: the width the fractions refer to, pixels; ``None``: the image's longer side.
        blur_size: ``(low, high)`` of the blur size: the length of the streak at the image
            centre (a camera-shake trajectory's extent, the largest distance between two of
            its points; twice a camera path's largest excursion, the end-to-end length of a
            sweep), as a fraction of the frame width.
        size_distribution: ``"lognormal"`` (truncated to ``blur_size``) or ``"log_uniform"``.
        size_median: median of the lognormal, a fraction of the frame width.
        size_sigma: standard deviation of the lognormal's logarithm.
        camera_path_prob: share of GoPro-style camera paths; the rest are camera-shake kernels.
        shake_size_by: ``"extent"`` (a shake kernel's size is the distance across it, as a
            streak's) or ``"length"`` (its path length, as DeblurGAN; until 2026-12-05).
        shake_smooth_prob: share of camera-shake kernels drawn as smooth curves with varying
            speed (like recorded shake) rather than random walks.
        shake_psf_sigma: ``(low, high)``, uniform: Gaussian softness of a shake kernel, px.
        rotation: ``(low, high)``, uniform: how far in-plane rotation moves the frame's edge
            (half a width from the centre), as a fraction of the blur size.
        zoom: ``(low, high)``, uniform: the same for zoom.
        moving_objects: ``(low, high)`` objects moving over a camera-path item.
        object_streak: ``(low, high)``, log-uniform: an object's streak, a fraction of the
            frame width.
        object_size: object semi-axes as fractions of half the output's shorter side.
        max_step: largest distance between consecutive sub-frames, pixels (smooth streaks).
        max_frames: most sub-frames of one item (odd).
        linear_prob: probability of averaging in linear light (else in gamma space).
        highlight_threshold: encoded value where the highlight boost starts, in [0, 1).
        highlight_gain: ``(low, high)``, log-uniform: the boost at white.
        shot_noise: ``(low, high)``, log-uniform: ``a`` of the noise variance ``a x + b``
            (linear light, full scale 1); ``(0, 0)``: no noise.
        read_noise: ``(slope, intercept, sigma)``: ``log b = slope log a + intercept +
            N(0, sigma^2)`` (Brooks et al., 2019, fitted to real sensors).
        noise_correlation: ``(low, high)``, uniform: correlation of the noise between colour
            channels (demosaicing and the camera's chroma denoising leave mostly luminance
            noise in its JPEGs; 0 gives independent, colourful noise).
        jpeg_prob: probability of JPEG compression (else a lossless 8-bit file).
        jpeg_quality: ``(low, high)`` integer JPEG quality, uniform.

    Example:
        >>> camera = RealisticDegradation(frame_width=64)
        >>> pair = camera(torch.rand(3, 48, 64), generator=torch.Generator().manual_seed(0))
        >>> pair.blurry.shape, pair.sharp.shape, pair.params["kind"] in ("camera_path", "shake")
        (torch.Size([3, 48, 64]), torch.Size([3, 48, 64]), True)
    """

    frame_width: float | None = REFERENCE_WIDTH
    blur_size: tuple[float, float] = (3 / REFERENCE_WIDTH, 96 / REFERENCE_WIDTH)
    size_distribution: str = "lognormal"
    size_median: float = 28 / REFERENCE_WIDTH
    size_sigma: float = 0.75
    camera_path_prob: float = 0.5
    shake_size_by: str = "extent"
    shake_smooth_prob: float = 0.5
    shake_psf_sigma: tuple[float, float] = (0.0, 1.0)
    rotation: tuple[float, float] = (0.0, 0.5)
    zoom: tuple[float, float] = (0.0, 0.25)
    moving_objects: tuple[int, int] = (0, 1)
    object_streak: tuple[float, float] = (8 / REFERENCE_WIDTH, 64 / REFERENCE_WIDTH)
    object_size: tuple[float, float] = (0.1, 0.3)
    max_step: float = 1.0
    max_frames: int = 301
    linear_prob: float = 0.5
    highlight_threshold: float = 0.95
    highlight_gain: tuple[float, float] = (1.5, 6.0)
    shot_noise: tuple[float, float] = (1e-4, 3e-3)
    read_noise: tuple[float, float, float] = (2.18, 1.20, 0.26)
    noise_correlation: tuple[float, float] = (0.5, 0.9)
    jpeg_prob: float = 0.8
    jpeg_quality: tuple[int, int] = (60, 95)

    def __post_init__(self) -> None:
        def fix(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if self.frame_width is not None:
            width = self.frame_width
            if isinstance(width, bool) or not isinstance(width, int | float) or not width > 0:
                raise ValueError(f"frame_width must be a positive number or None, got {width!r}")
            fix("frame_width", float(width))
        fix("blur_size", _pair("blur_size", self.blur_size, low=1e-6, high=1.0))
        if self.size_distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"size_distribution must be one of {_DISTRIBUTIONS}, got {self.size_distribution!r}"
            )
        if not (isinstance(self.size_median, int | float) and self.size_median > 0):
            raise ValueError(f"size_median must be a positive fraction, got {self.size_median!r}")
        if not (isinstance(self.size_sigma, int | float) and self.size_sigma > 0):
            raise ValueError(f"size_sigma must be positive, got {self.size_sigma!r}")
        fix("camera_path_prob", _probability("camera_path_prob", self.camera_path_prob))
        if self.shake_size_by not in ("extent", "length"):
            raise ValueError(
                f"shake_size_by must be 'extent' or 'length', got {self.shake_size_by!r}"
            )
        fix("shake_smooth_prob", _probability("shake_smooth_prob", self.shake_smooth_prob))
        fix("shake_psf_sigma", _pair("shake_psf_sigma", self.shake_psf_sigma, low=0.0, high=8.0))
        fix("rotation", _pair("rotation", self.rotation, low=0.0, high=4.0))
        fix("zoom", _pair("zoom", self.zoom, low=0.0, high=4.0))
        objects = _pair("moving_objects", self.moving_objects, low=0.0, high=16.0)
        if any(v != int(v) for v in objects):
            raise ValueError(f"moving_objects must be integers, got {self.moving_objects!r}")
        fix("moving_objects", (int(objects[0]), int(objects[1])))
        fix("object_streak", _pair("object_streak", self.object_streak, low=1e-6, high=1.0))
        fix("object_size", _pair("object_size", self.object_size, low=0.0, high=1.0))
        if not (isinstance(self.max_step, int | float) and 0 < self.max_step < math.inf):
            raise ValueError(f"max_step must be a positive number of pixels, got {self.max_step!r}")
        frames = self.max_frames
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1 or frames % 2 == 0:
            raise ValueError(f"max_frames must be a positive odd integer, got {frames!r}")
        fix("linear_prob", _probability("linear_prob", self.linear_prob))
        if not 0.0 <= float(self.highlight_threshold) < 1.0:
            raise ValueError(
                f"highlight_threshold must be in [0, 1), got {self.highlight_threshold!r}"
            )
        fix("highlight_gain", _pair("highlight_gain", self.highlight_gain, low=1.0))
        shot = _pair("shot_noise", self.shot_noise, low=0.0, high=1.0)
        if shot[0] == 0 < shot[1]:
            raise ValueError(f"shot_noise is drawn log-uniformly: low must be > 0, got {shot!r}")
        fix("shot_noise", shot)
        read = self.read_noise
        if not (isinstance(read, tuple | list) and len(read) == 3) or read[2] < 0:
            raise ValueError(
                f"read_noise must be (slope, intercept, sigma >= 0), got {self.read_noise!r}"
            )
        fix("read_noise", tuple(float(v) for v in read))
        fix(
            "noise_correlation",
            _pair("noise_correlation", self.noise_correlation, low=0.0, high=1.0),
        )
        fix("jpeg_prob", _probability("jpeg_prob", self.jpeg_prob))
        quality = _pair("jpeg_quality", self.jpeg_quality, low=1.0, high=100.0)
        if any(q != int(q) for q in quality):
            raise ValueError(f"jpeg_quality must be integers, got {self.jpeg_quality!r}")
        fix("jpeg_quality", (int(quality[0]), int(quality[1])))

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-ready values (lists for ranges)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    # ------------------------------------------------------------------------------ drawing
    def _blur_fraction(self, u: float) -> float:
        lo, hi = self.blur_size
        if lo == hi:
            return lo
        if self.size_distribution == "log_uniform":
            return _log_uniform((lo, hi), u)
        mu, sigma = math.log(self.size_median), float(self.size_sigma)
        a, b = _NORMAL.cdf((math.log(lo) - mu) / sigma), _NORMAL.cdf((math.log(hi) - mu) / sigma)
        p = min(max(a + (b - a) * u, 1e-300), 1 - 1e-16)
        return min(max(math.exp(mu + sigma * _NORMAL.inv_cdf(p)), lo), hi)

    def draw(self, *, generator: torch.Generator, frame_width: float) -> dict[str, Any]:
        """Draw the item's scalar parameters (always the same numbers from ``generator``).

        Args:
            generator: the only source of randomness.
            frame_width: the frame width in pixels the size fractions refer to (use
                :meth:`frame_width_for`).

        Returns:
            ``kind`` (``"camera_path"`` or ``"shake"``), ``frame_width``, ``blur_size``
            (fraction) and ``blur_px``, ``rotation_deg`` and ``zoom`` (largest excursions from
            the sharp pose), ``object_streak_px``, ``averaging`` (``"linear"`` or ``"gamma"``),
            ``highlight_gain``, ``shot_noise`` ``a`` and ``read_noise`` ``b`` (variance
            ``a x + b`` in linear light), ``noise_correlation`` between channels and
            ``jpeg_quality`` (``None``: no JPEG).
        """
        check_generator(generator)
        u = torch.rand(9, generator=generator, dtype=torch.float64).tolist()
        read_jitter = float(torch.randn(1, generator=generator, dtype=torch.float64))
        q_lo, q_hi = self.jpeg_quality
        quality = int(torch.randint(q_lo, q_hi + 1, (1,), generator=generator))
        width = float(frame_width)
        fraction = self._blur_fraction(u[1])
        size_px = fraction * width
        camera_path = u[0] < self.camera_path_prob
        rotation_share = self.rotation[0] + (self.rotation[1] - self.rotation[0]) * u[2]
        zoom_share = self.zoom[0] + (self.zoom[1] - self.zoom[0]) * u[3]
        shot = _log_uniform(self.shot_noise, u[6])
        slope, intercept, sigma = self.read_noise
        read = math.exp(slope * math.log(shot) + intercept + sigma * read_jitter) if shot else 0.0
        lo_c, hi_c = self.noise_correlation
        return {
            "kind": "camera_path" if camera_path else "shake",
            "frame_width": width,
            "blur_size": fraction,
            "blur_px": size_px,
            # The frame's edge, half a width from the centre, moves by share * size / 2.
            "rotation_deg": math.degrees(rotation_share * size_px / width) if camera_path else 0.0,
            "zoom": zoom_share * size_px / width if camera_path else 0.0,
            "object_streak_px": _log_uniform(self.object_streak, u[4]) * width,
            "averaging": "linear" if u[5] < self.linear_prob else "gamma",
            "highlight_gain": _log_uniform(self.highlight_gain, u[7]),
            "shot_noise": shot,
            "read_noise": read,
            "noise_correlation": lo_c + (hi_c - lo_c) * u[8],
            "jpeg_quality": quality if _uniform01(generator) < self.jpeg_prob else None,
        }

    def frame_width_for(self, height: int, width: int) -> float:
        """The frame width the fractions refer to for an image (or scaled photo) of this size."""
        return self.frame_width if self.frame_width is not None else float(max(height, width))

    @staticmethod
    def kernel_size(params: Mapping[str, Any]) -> int:
        """Odd side of a camera-shake kernel that holds any path of size ``blur_px`` about its
        centroid (which may lie near one end: twice the size; a path length's would fit in one
        size, but this keeps the margin the same for both ways of sizing)."""
        return 2 * math.ceil(float(params["blur_px"])) + 1

    def margin(self, params: Mapping[str, Any], height: int, width: int) -> int:
        """Pixels of real context needed on each side of a ``height x width`` output.

        Camera shake: half the kernel. Camera path: the farthest a corner of the output samples
        from its own position, ``A + r (zoom + (1 + zoom) rotation)`` (``A`` half the blur size,
        ``r`` the output's half-diagonal), plus one pixel for bilinear sampling.
        """
        if params["kind"] != "camera_path":
            return self.kernel_size(params) // 2
        radius = 0.5 * math.hypot(width - 1, height - 1)
        z, turn = float(params["zoom"]), math.radians(float(params["rotation_deg"]))
        reach = 0.5 * float(params["blur_px"]) + radius * (z + (1 + z) * turn)
        return math.ceil(reach) + 1

    # ------------------------------------------------------------------------------ applying
    def apply(
        self,
        window: Tensor,
        params: Mapping[str, Any],
        *,
        margin: int,
        generator: torch.Generator,
    ) -> DegradedPair:
        """Degrade the centre of ``window``: the output is ``window`` cut by ``margin`` per side.

        Args:
            window: ``(3, h + 2 margin, w + 2 margin)`` sharp sRGB values in [0, 1].
            params: from :meth:`draw`.
            margin: at least :meth:`margin` of the output size.
            generator: the only source of randomness (the motion, the objects, the noise).

        Returns:
            A :class:`DegradedPair` of ``(3, h, w)`` images.
        """
        check_generator(generator)
        if window.ndim != 3 or window.shape[0] != 3:
            raise ValueError(f"window must be (3, H, W), got {tuple(window.shape)}")
        h, w = window.shape[-2] - 2 * margin, window.shape[-1] - 2 * margin
        need = self.margin(params, h, w)
        if h < 1 or w < 1 or margin < need:
            raise ValueError(
                f"a {window.shape[-1]}x{window.shape[-2]} window with margin {margin} cannot hold "
                f"this blur: it needs a margin of {need} px around the output"
            )
        out: dict[str, Any] = dict(params)
        out["margin"] = margin
        sharp = window.float().clamp(0.0, 1.0)
        light = srgb_to_linear(sharp)
        # Saturation: a clipped highlight stood for more light than white.
        t = float(self.highlight_threshold)
        ramp = ((sharp - t) / (1.0 - t)).clamp(0.0, 1.0)
        boosted = light * (1.0 + (float(params["highlight_gain"]) - 1.0) * ramp)
        linear = params["averaging"] == "linear"

        def domain(x: Tensor) -> Tensor:  # the values the sub-frames are averaged in
            return x if linear else encode_srgb(x)

        inner = (slice(None), slice(margin, margin + h), slice(margin, margin + w))
        kernel: Tensor | None = None
        target = sharp[inner]  # exact: the middle sub-frame is the identity pose
        if params["kind"] == "camera_path":
            blurred, painted = self._camera_path(
                domain(boosted), domain(light), params, out, margin, generator
            )
            if painted is not None:  # moving objects are part of the sharp target too
                target = linear_to_srgb(painted.clamp(0, 1)) if linear else painted.clamp(0, 1)
        else:
            blurred, kernel = self._shake(domain(boosted), params, out, margin, generator)
        light_blurred = blurred if linear else decode_srgb(blurred)
        noisy = add_signal_dependent_noise(
            light_blurred,
            float(params["shot_noise"]),
            float(params["read_noise"]),
            correlation=float(params["noise_correlation"]),
            generator=generator,
        )
        blurry = linear_to_srgb(noisy.clamp(0.0, 1.0))  # the sensor clips after the exposure
        quality = params["jpeg_quality"]
        blurry = jpeg_compress(blurry, int(quality)) if quality is not None else _quantize(blurry)
        return DegradedPair(blurry, _quantize(target), out, kernel)

    def _camera_path(
        self,
        work: Tensor,
        plain: Tensor,
        params: Mapping[str, Any],
        out: dict[str, Any],
        margin: int,
        generator: torch.Generator,
    ) -> tuple[Tensor, Tensor | None]:
        """GoPro-style blur of ``work`` (boosted highlights); objects painted on ``plain`` too."""
        synthesizer = GoProBlurSynthesizer(
            "auto",
            translation=0.5 * float(params["blur_px"]),
            rotation=float(params["rotation_deg"]),
            zoom=float(params["zoom"]),
            moving_objects=self.moving_objects,
            object_size=self.object_size,
            object_speed=0.5 * float(params["object_streak_px"]),
            gamma=None,
            margin=margin,
            max_step=self.max_step,
            max_frames=self.max_frames,
            clip=False,
        )
        pair = synthesizer(work, generator=generator)
        drawn = pair.params
        objects = {
            k.removeprefix("object_"): v for k, v in drawn.items() if k.startswith("object_")
        }
        count = int(objects["center"].shape[1]) if objects else 0
        out.update(
            num_frames=int(drawn["num_frames"][0]),
            max_step=float(drawn["max_step"][0]),
            longest_streak=float(drawn["longest_streak"][0]),
            moving_objects=count,
            path={
                key: drawn[key][0]
                for key in ("times", "weights", "translation", "rotation", "zoom")
            },
        )
        if not count:
            return pair.blurry, None
        out["objects"] = {key: value[0] for key, value in objects.items()}
        h, w = pair.blurry.shape[-2:]
        frame = plain[:, margin : margin + h, margin : margin + w].unsqueeze(0)
        painted = _composite_objects(
            frame, plain.unsqueeze(0), {k: v.double() for k, v in objects.items()}, 0.0
        )
        return pair.blurry, painted[0]

    def _shake(
        self,
        work: Tensor,
        params: Mapping[str, Any],
        out: dict[str, Any],
        margin: int,
        generator: torch.Generator,
    ) -> tuple[Tensor, Tensor]:
        """Camera-shake blur: one trajectory kernel, convolved without padding (FFT if large)."""
        size = self.kernel_size(params)
        sampler = TrajectoryKernelSampler(
            size,
            max_length=float(params["blur_px"]),
            exposure=1.0,
            size_by=self.shake_size_by,
            smooth_prob=self.shake_smooth_prob,
            psf_sigma=self.shake_psf_sigma,
        )
        sample = sampler.sample(1, generator=generator)
        kernel = sample.kernels[0]
        h, w = work.shape[-2] - 2 * margin, work.shape[-1] - 2 * margin
        r = size // 2
        region = work[:, margin - r : margin + h + r, margin - r : margin + w + r]
        out.update(
            kernel_size=size,
            longest_streak=float(sample.params["length"][0]),
            trajectory={k: v[0].item() for k, v in sample.params.items()},
        )
        return convolve_valid(region, kernel), kernel

    def __call__(self, image: Tensor, *, generator: torch.Generator) -> DegradedPair:
        """Degrade a whole image; the output keeps its size (the border context is mirrored).

        Args:
            image: ``(3, H, W)`` sharp sRGB values in [0, 1].
            generator: the only source of randomness.

        Returns:
            A :class:`DegradedPair` of ``(3, H, W)`` images.
        """
        if not isinstance(image, Tensor) or image.ndim != 3 or image.shape[0] != 3:
            raise ValueError(
                f"image must be a (3, H, W) tensor, got {getattr(image, 'shape', image)}"
            )
        h, w = image.shape[-2:]
        params = self.draw(generator=generator, frame_width=self.frame_width_for(h, w))
        margin = self.margin(params, h, w)
        window = reflect_pad(image.float(), margin, margin, margin, margin)
        return self.apply(window, params, margin=margin, generator=generator)


def build_degradation(spec: Any = None) -> RealisticDegradation:
    """A :class:`RealisticDegradation` from ``None`` (the defaults), ``"realistic"``, a mapping
    of its settings (lists accepted for ranges, an optional ``name: realistic``) or itself.

    Example:
        >>> build_degradation({"name": "realistic", "blur_size": [0.01, 0.02]}).blur_size
        (0.01, 0.02)
    """
    if spec is None or (isinstance(spec, str) and spec == "realistic"):
        return RealisticDegradation()
    if isinstance(spec, RealisticDegradation):
        return spec
    if isinstance(spec, Mapping):
        options = {k: v for k, v in spec.items() if k != "name"}
        name = spec.get("name", "realistic")
        if name != "realistic":
            raise ValueError(f"unknown degradation {name!r}; the one pipeline is 'realistic'")
        options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
        try:
            return RealisticDegradation(**options)
        except TypeError as exc:
            raise TypeError(
                f"cannot build the realistic degradation with {options}: {exc}"
            ) from exc
    raise TypeError(
        f"degradation must be None, 'realistic', a mapping of settings or a RealisticDegradation, "
        f"got {spec!r}"
    )
