"""The camera's side of the blur model: gamma, saturated highlights, sensor noise and JPEG.

:class:`Degradation` turns a sharp image and a blur kernel into a realistic blurry photo:
decode the gamma to linear light, optionally boost the highlights (a sharp photo's clipped
highlights stand for light far brighter than white, so their blur streaks must saturate like a
real sensor's), convolve, add Gaussian or Poisson-Gaussian noise (Foi et al., 2008, "Practical
Poissonian-Gaussian noise modeling and fitting for single-image raw-data"), clip, re-encode and
optionally re-compress as JPEG. Every random choice comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from deblurgan.blur.apply import blur_image, linear_to_srgb, srgb_to_linear
from deblurgan.blur.checks import as_batch, check_generator, check_range

__all__ = [
    "Degradation",
    "Gamma",
    "add_poisson_gaussian_noise",
    "decode_gamma",
    "degrade",
    "encode_gamma",
    "jpeg_compress",
    "parse_gamma",
]

#: A transfer curve: ``"srgb"`` (IEC 61966-2-1), a power ``gamma`` (2.2 as GoPro's
#: ``blur_gamma``), or ``None`` for values taken as they are.
Gamma = float | str | None

Range = float | tuple[float, float]

_NOISES = ("gaussian", "poisson_gaussian")
_DOMAINS = ("encoded", "linear")


def parse_gamma(gamma: object) -> Gamma:
    """Validate a gamma setting: ``"srgb"``, ``None``/``"none"``/``"linear"``, or a number > 0.

    Strings holding numbers (``"2.2"``) are accepted too, for command lines and configs.

    Example:
        >>> parse_gamma("2.2"), parse_gamma("sRGB"), parse_gamma("none")
        (2.2, 'srgb', None)
    """
    if gamma is None:
        return None
    if isinstance(gamma, str):
        text = gamma.strip().lower()
        if text == "srgb":
            return "srgb"
        if text in ("none", "linear", "off"):
            return None
        try:
            gamma = float(text)
        except ValueError:
            raise ValueError(
                f"gamma must be 'srgb', 'none' or a positive number, got {gamma!r}"
            ) from None
    if isinstance(gamma, bool) or not isinstance(gamma, int | float):
        raise ValueError(f"gamma must be 'srgb', None or a positive number, got {gamma!r}")
    value = float(gamma)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"gamma must be a finite positive number, got {gamma!r}")
    return value


def decode_gamma(image: Tensor, gamma: Gamma) -> Tensor:
    """Encoded values in [0, 1] to linear light: sRGB, ``x ** gamma``, or unchanged for ``None``.

    Example:
        >>> decode_gamma(torch.tensor([0.25, 1.0]), 2.0)
        tensor([0.0625, 1.0000])
    """
    gamma = parse_gamma(gamma)
    if gamma is None:
        return image
    if gamma == "srgb":
        return srgb_to_linear(image)
    return image.clamp(0.0, 1.0) ** float(gamma)


def encode_gamma(image: Tensor, gamma: Gamma) -> Tensor:
    """Linear light in [0, 1] to encoded values (inverse of :func:`decode_gamma`).

    Example:
        >>> encode_gamma(torch.tensor([0.0625, 1.0]), 2.0)
        tensor([0.2500, 1.0000])
    """
    gamma = parse_gamma(gamma)
    if gamma is None:
        return image
    if gamma == "srgb":
        return linear_to_srgb(image)
    return image.clamp(0.0, 1.0) ** (1.0 / float(gamma))


def _per_image(name: str, value: float | Tensor, batch: int, like: Tensor) -> Tensor:
    x = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if x.ndim == 0:
        x = x.expand(batch)
    if x.ndim != 1 or x.shape[0] not in (1, batch):
        raise ValueError(f"{name} must be a number or a ({batch},) tensor, got {tuple(x.shape)}")
    if not torch.isfinite(x).all() or (x < 0).any():
        raise ValueError(f"{name} must be finite and non-negative, got {x.tolist()}")
    return x.expand(batch).reshape(-1, 1, 1, 1)


def add_poisson_gaussian_noise(
    image: Tensor,
    photons: float | Tensor,
    std: float | Tensor,
    *,
    generator: torch.Generator,
) -> Tensor:
    """Signal-dependent sensor noise: ``Poisson(photons * x) / photons + N(0, std^2)``.

    The variance at a pixel of value ``x`` is ``x / photons + std^2``: shot noise grows with the
    signal, read noise does not. ``photons`` is the photon count of a full-scale (1.0) pixel.
    No clipping: values may leave [0, 1].

    Args:
        image: ``(B, C, H, W)`` non-negative signal, linear light for a physical model.
        photons: a number or a ``(B,)`` tensor, each > 0.
        std: Gaussian read-noise standard deviation, a number or a ``(B,)`` tensor.
        generator: the only source of randomness, on ``image``'s device.

    Shape:
        - image: ``(B, C, H, W)``; output: same.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> noisy = add_poisson_gaussian_noise(torch.full((1, 1, 64, 64), 0.5), 50.0, 0.0,
        ...                                    generator=g)
        >>> bool((noisy * 50 - (noisy * 50).round()).abs().max() < 1e-4)  # whole photons
        True
    """
    check_generator(generator)
    if image.ndim != 4:
        raise ValueError(f"image must have shape (B, C, H, W), got {tuple(image.shape)}")
    b = image.shape[0]
    scale = _per_image("photons", photons, b, image)
    if (scale <= 0).any():
        raise ValueError(f"photons must be > 0, got {photons!r}")
    sigma = _per_image("std", std, b, image)
    rates = (image.clamp_min(0.0) * scale).to(
        torch.float64 if image.dtype == torch.float64 else torch.float32
    )
    counts = torch.poisson(rates, generator=generator).to(image.dtype)
    read = torch.randn(image.shape, generator=generator, dtype=image.dtype, device=image.device)
    return counts / scale + sigma * read


def jpeg_compress(image: Tensor, quality: int | Tensor, *, subsampling: int = 2) -> Tensor:
    """Re-compress each image as JPEG in memory (Pillow) and decode it again.

    Args:
        image: ``(B, 3, H, W)`` or ``(3, H, W)`` in [0, 1] (rounded to 8 bits first).
        quality: JPEG quality 1-100, one for all or a ``(B,)`` tensor.
        subsampling: Pillow's chroma subsampling: 0 (4:4:4), 1 (4:2:2) or 2 (4:2:0, as cameras).

    Returns:
        The decoded images, same shape, dtype and device, multiples of 1/255.

    Example:
        >>> x = torch.linspace(0, 1, 3 * 16 * 16).reshape(3, 16, 16)
        >>> y = jpeg_compress(x, 90)
        >>> y.shape, bool((y - x).abs().mean() < 0.02)
        (torch.Size([3, 16, 16]), True)
    """
    from PIL import Image

    squeeze = image.ndim == 3
    batch = image.unsqueeze(0) if squeeze else image
    if batch.ndim != 4 or batch.shape[1] != 3:
        raise ValueError(
            f"image must have shape (B, 3, H, W) or (3, H, W), got {tuple(image.shape)}"
        )
    if subsampling not in (0, 1, 2):
        raise ValueError(f"subsampling must be 0, 1 or 2, got {subsampling!r}")
    qualities = torch.as_tensor(quality).reshape(-1).expand(batch.shape[0]).tolist()
    out = []
    for picture, q in zip(batch, qualities, strict=True):
        if int(q) != q or not 1 <= q <= 100:
            raise ValueError(f"JPEG quality must be an integer from 1 to 100, got {q!r}")
        pixels = (picture.detach().clamp(0, 1) * 255).round().to(torch.uint8)
        array = pixels.permute(1, 2, 0).cpu().numpy()
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="JPEG", quality=int(q), subsampling=subsampling)
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            restored = np.asarray(decoded.convert("RGB"))
        tensor = torch.from_numpy(restored.copy()).permute(2, 0, 1)
        out.append(tensor.to(device=image.device, dtype=image.dtype) / 255)
    result = torch.stack(out)
    return result.squeeze(0) if squeeze else result


def _draw(bounds: tuple[float, float], batch: int, generator: torch.Generator) -> Tensor:
    lo, hi = bounds
    u = torch.rand(batch, generator=generator, dtype=torch.float64)
    return lo + (hi - lo) * u  # (B,) float64


@dataclass(frozen=True)
class Degradation:
    """Settings of the camera model applied around a blur kernel; call it to degrade images.

    Order of operations, per image: decode ``gamma`` to linear light; boost highlights
    (``clip_highlights``); convolve with the kernel; add noise (``noise_domain="linear"``); clip
    to [0, 1]; re-encode; add noise (``noise_domain="encoded"``, the default) and clip; JPEG.
    Ranges ``(low, high)`` are drawn uniformly per image (JPEG quality as an integer).

    Args:
        gamma: transfer curve: ``"srgb"`` (default: blur in linear light), a power such as 2.2
            (GoPro's ``blur_gamma``), or ``None`` to blur the encoded values directly.
        noise: ``"gaussian"`` (white, ``noise_std``), ``"poisson_gaussian"`` (shot noise with
            ``photons`` per full-scale pixel plus read noise ``noise_std``) or ``None``.
        noise_std: standard deviation of the Gaussian (read) noise, number or range.
        photons: photons per full-scale pixel for ``"poisson_gaussian"`` (fewer: noisier).
        noise_domain: ``"encoded"`` adds noise to the output values, ``"linear"`` to linear light
            before re-encoding, like a sensor (noise then grows in the shadows after gamma).
        jpeg_quality: ``None`` (no JPEG), a quality 1-100 or an integer range.
        clip_highlights: multiply linear light by ``highlight_gain`` where the sharp image is at
            or above ``highlight_threshold`` (ramping in smoothly), before blurring and clipping,
            so bright lights smear into saturated streaks as in real photos.
        highlight_threshold: encoded value where the boost starts, in [0, 1).
        highlight_gain: boost factor at full white, number or range, ``>= 1``.
        padding: border handling of the convolution (see :func:`blur_image`).

    Example:
        >>> camera = Degradation(noise_std=0.01, jpeg_quality=(70, 90))
        >>> blurry, params = camera(torch.rand(2, 3, 16, 16), torch.full((3, 3), 1 / 9),
        ...                         generator=torch.Generator().manual_seed(0))
        >>> blurry.shape, sorted(params)
        (torch.Size([2, 3, 16, 16]), ['jpeg_quality', 'noise_std'])
    """

    gamma: Gamma = "srgb"
    noise: str | None = "gaussian"
    noise_std: Range = 0.0
    photons: Range = (100.0, 1000.0)
    noise_domain: str = "encoded"
    jpeg_quality: int | tuple[int, int] | None = None
    clip_highlights: bool = False
    highlight_threshold: float = 0.95
    highlight_gain: Range = (1.5, 4.0)
    padding: str = "reflect"

    def __post_init__(self) -> None:
        object.__setattr__(self, "gamma", parse_gamma(self.gamma))
        if self.noise is not None and self.noise not in _NOISES:
            raise ValueError(f"noise must be one of {_NOISES} or None, got {self.noise!r}")
        check_range("noise_std", self.noise_std, low=0.0)
        photons = check_range("photons", self.photons, low=0.0)
        if photons[0] <= 0:
            raise ValueError(f"photons must be > 0, got {self.photons!r}")
        if self.noise_domain not in _DOMAINS:
            raise ValueError(f"noise_domain must be one of {_DOMAINS}, got {self.noise_domain!r}")
        if self.jpeg_quality is not None:
            quality = self.jpeg_quality
            pair = quality if isinstance(quality, tuple | list) else (quality, quality)
            if len(pair) != 2 or not all(
                isinstance(q, int) and not isinstance(q, bool) and 1 <= q <= 100 for q in pair
            ):
                raise ValueError(
                    f"jpeg_quality must be None, an integer 1-100 or a (low, high) pair of them, "
                    f"got {quality!r}"
                )
            if pair[0] > pair[1]:
                raise ValueError(f"jpeg_quality range must have low <= high, got {quality!r}")
        if not isinstance(self.clip_highlights, bool):
            raise TypeError(f"clip_highlights must be a bool, got {self.clip_highlights!r}")
        if not 0.0 <= float(self.highlight_threshold) < 1.0:
            raise ValueError(
                f"highlight_threshold must be in [0, 1), got {self.highlight_threshold!r}"
            )
        check_range("highlight_gain", self.highlight_gain, low=1.0)

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-ready values."""
        return {
            "gamma": self.gamma,
            "noise": self.noise,
            "noise_std": self.noise_std,
            "photons": self.photons,
            "noise_domain": self.noise_domain,
            "jpeg_quality": self.jpeg_quality,
            "clip_highlights": self.clip_highlights,
            "highlight_threshold": self.highlight_threshold,
            "highlight_gain": self.highlight_gain,
            "padding": self.padding,
        }

    def _noise(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator
    ) -> Tensor:
        std = params["noise_std"].to(image)
        if self.noise == "poisson_gaussian":
            return add_poisson_gaussian_noise(
                image, params["photons"].to(image), std, generator=generator
            )
        if not (std > 0).any():  # a clean image stays bit-exact
            return image
        noise = torch.randn(
            image.shape, generator=generator, dtype=image.dtype, device=image.device
        )
        return image + std.view(-1, 1, 1, 1) * noise

    def __call__(
        self, sharp: Tensor, kernels: Tensor | None, *, generator: torch.Generator
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Degrade ``sharp`` with ``kernels`` (``None``: no blur, only the camera's noise/JPEG).

        Args:
            sharp: ``(B, C, H, W)`` or ``(C, H, W)`` in [0, 1].
            kernels: ``(k, k)`` or ``(B, k, k)`` kernels as for :func:`blur_image`, or ``None``.
            generator: the only source of randomness (CPU, or on ``sharp``'s device).

        Returns:
            ``(blurry, params)``: the degraded images (same shape, in [0, 1]) and the values
            drawn per image: ``noise_std`` (and ``photons``) when there is noise,
            ``highlight_gain`` when highlights are boosted, ``jpeg_quality`` with JPEG.
        """
        check_generator(generator)
        images, squeeze = as_batch(sharp)
        b = images.shape[0]
        # Fixed draw order, so a seed fixes every value whatever the options.
        params: dict[str, Tensor] = {}
        if self.noise is not None:
            params["noise_std"] = _draw(
                check_range("noise_std", self.noise_std, low=0.0), b, generator
            )
            if self.noise == "poisson_gaussian":
                params["photons"] = _draw(
                    check_range("photons", self.photons, low=0.0), b, generator
                )
        if self.clip_highlights:
            bounds = check_range("highlight_gain", self.highlight_gain, low=1.0)
            params["highlight_gain"] = _draw(bounds, b, generator)
        if self.jpeg_quality is not None:
            q = self.jpeg_quality
            lo, hi = (q, q) if isinstance(q, int) else (int(q[0]), int(q[1]))
            params["jpeg_quality"] = torch.randint(lo, hi + 1, (b,), generator=generator)

        linear_work = kernels is not None or (
            self.noise is not None and self.noise_domain == "linear"
        )
        out = images
        if linear_work:
            light = decode_gamma(images, self.gamma)
            if self.clip_highlights:
                t = float(self.highlight_threshold)
                ramp = ((images - t) / (1.0 - t)).clamp(0.0, 1.0)
                gain = params["highlight_gain"].to(images).view(-1, 1, 1, 1)
                light = light * (1.0 + (gain - 1.0) * ramp)
            if kernels is not None:
                light = blur_image(light, kernels, padding=self.padding)
            if self.noise is not None and self.noise_domain == "linear":
                light = self._noise(light, params, generator)
            out = encode_gamma(light.clamp(0.0, 1.0), self.gamma).clamp(0.0, 1.0)
        if self.noise is not None and self.noise_domain == "encoded":
            out = self._noise(out, params, generator).clamp(0.0, 1.0)
        if self.jpeg_quality is not None:
            out = jpeg_compress(out, params["jpeg_quality"])
        out = out.to(images.dtype)
        return (out.squeeze(0) if squeeze else out), {
            k: v.float() if v.is_floating_point() else v for k, v in params.items()
        }


def degrade(
    sharp: Tensor,
    kernels: Tensor | None,
    *,
    generator: torch.Generator,
    gamma: Gamma = "srgb",
    noise: str | None = "gaussian",
    noise_std: Range = 0.0,
    photons: Range = (100.0, 1000.0),
    noise_domain: str = "encoded",
    jpeg_quality: int | tuple[int, int] | None = None,
    clip_highlights: bool = False,
    highlight_threshold: float = 0.95,
    highlight_gain: Range = (1.5, 4.0),
    padding: str = "reflect",
) -> Tensor:
    """Blur ``sharp`` with ``kernels`` like a camera would; see :class:`Degradation` for the steps.

    Args:
        sharp: ``(B, C, H, W)`` or ``(C, H, W)`` in [0, 1].
        kernels: ``(k, k)`` or ``(B, k, k)`` kernels, or ``None`` for no blur.
        generator: the only source of randomness.
        gamma, noise, noise_std, photons, noise_domain, jpeg_quality, clip_highlights,
            highlight_threshold, highlight_gain, padding: as for :class:`Degradation`.

    Returns:
        The blurry images, same shape as ``sharp``, in [0, 1].

    Shape:
        - sharp: ``(B, C, H, W)`` or ``(C, H, W)``; output: same.

    Example:
        >>> blurry = degrade(torch.rand(3, 8, 8), torch.full((3, 3), 1 / 9), gamma=2.2,
        ...                  generator=torch.Generator().manual_seed(0))
        >>> blurry.shape
        torch.Size([3, 8, 8])
    """
    camera = Degradation(
        gamma=gamma,
        noise=noise,
        noise_std=noise_std,
        photons=photons,
        noise_domain=noise_domain,
        jpeg_quality=jpeg_quality,
        clip_highlights=clip_highlights,
        highlight_threshold=highlight_threshold,
        highlight_gain=highlight_gain,
        padding=padding,
    )
    blurry, _ = camera(sharp, kernels, generator=generator)
    return blurry
