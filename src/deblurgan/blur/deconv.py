"""Classical non-blind deconvolution: Wiener, Tikhonov, Richardson-Lucy, hyper-Laplacian, by FFT.

Given the blurry image ``y = k * x + n`` and the kernel ``k``:

* **Wiener** (Wiener, 1949) with a constant noise-to-signal ratio ``nsr``:
  ``X = conj(K) Y / (|K|^2 + nsr)``.
* **Tikhonov** (Tikhonov, 1963) with a Laplacian regulariser, the minimiser of
  ``||k * x - y||^2 + weight ||laplacian(x)||^2``: ``X = conj(K) Y / (|K|^2 + weight |L|^2)``
  (scikit-image's ``restoration.wiener``).
* **Richardson-Lucy** (Richardson, 1972; Lucy, 1974): the multiplicative maximum-likelihood
  iteration for Poisson noise, ``x <- x * (k~ * (y / (k * x)))`` with ``k~`` the flipped kernel.
* **Hyper-Laplacian** (Krishnan and Fergus, "Fast image deconvolution using hyper-Laplacian
  priors", NIPS 2009): the minimiser of ``0.5 ||k * x - y||^2 + weight sum |grad x|^(2/3)`` by
  half-quadratic splitting; edges stay sharp while ringing and noise are suppressed.

The FFT treats the image as periodic, so the jump between its opposite borders would be
"deblurred" into ringing that spreads over the whole picture. By default the image is extended
on its bottom and right by a band that mirrors it (symmetric extension, as the unseen scene
beyond a border is most like the scene inside it) and cross-fades smoothly, over the band, from
the mirror of the bottom (right) border to the mirror of the top (left) border. The extended image
is periodic without any jump, and its band is nearly consistent with the blur (the cross-fade of
two blurred images is a blurred image where the fade is slow), so nothing rings; the band is
cropped off at the end. ``boundary="periodic"`` skips the extension: the closed forms exactly.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

import torch
from torch import Tensor

from deblurgan.blur.checks import as_batch

__all__ = [
    "DECONV_METHODS",
    "DECONV_OPTIONS",
    "extend_periodic",
    "hyper_laplacian_deconvolve",
    "kernel_otf",
    "method_options",
    "richardson_lucy",
    "tikhonov_deconvolve",
    "wiener_deconvolve",
]

_BOUNDARIES = ("reflect", "periodic")


def _next_fast_size(n: int) -> int:
    """The smallest ``m >= n`` whose prime factors are 2, 3 and 5 (fast for every FFT library)."""
    m = max(int(n), 1)
    while True:
        r = m
        for p in (2, 3, 5):
            while r % p == 0:
                r //= p
        if r == 1:
            return m
        m += 1


def _check_number(name: str, value: object, *, minimum: float, strict: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    number = float(value)
    bad = number <= minimum if strict else number < minimum
    if bad or not math.isfinite(number):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {relation} {minimum}, got {value!r}")
    return number


def _prepare(blurry: Tensor, kernel: Tensor) -> tuple[Tensor, Tensor, bool]:
    """Validate; return ``(images (B, C, H, W), kernels (B|1, kh, kw))`` in the working dtype."""
    if not isinstance(blurry, Tensor):
        raise TypeError(f"blurry must be a torch.Tensor, got {type(blurry).__name__}")
    if not isinstance(kernel, Tensor):
        raise TypeError(f"kernel must be a torch.Tensor, got {type(kernel).__name__}")
    images, squeeze = as_batch(blurry, "blurry")
    if not blurry.is_floating_point():
        raise TypeError(f"blurry must be a floating-point tensor, got {blurry.dtype}")
    kernels = kernel.unsqueeze(0) if kernel.ndim == 2 else kernel
    if kernels.ndim != 3:
        raise ValueError(
            f"kernel must have shape (kh, kw) or (B, kh, kw), got {tuple(kernel.shape)}"
        )
    kh, kw = kernels.shape[-2:]
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(
            f"kernel sides must be odd so the kernel has a centre pixel, got {kh}x{kw}; "
            "pad an even kernel with a row/column of zeros"
        )
    b = images.shape[0]
    if kernels.shape[0] not in (1, b):
        raise ValueError(f"got {kernels.shape[0]} kernels for a batch of {b} images")
    work = torch.float64 if images.dtype == torch.float64 else torch.float32
    kernels = kernels.to(device=images.device, dtype=work)
    if not torch.isfinite(kernels).all():
        raise ValueError("kernel has NaN or infinite values")
    if (kernels.sum(dim=(-2, -1)).abs() < 1e-12).any():
        raise ValueError("kernel sums to zero; a blur kernel must have a positive sum (usually 1)")
    return images.to(work), kernels, squeeze


def kernel_otf(kernels: Tensor, shape: tuple[int, int]) -> Tensor:
    """Optical transfer function: the real FFT of each kernel, centre pixel moved to the origin.

    The kernel is zero-padded to ``shape`` and rolled so that its centre pixel lands on index
    ``(0, 0)`` (MATLAB's ``psf2otf``): multiplying an image's spectrum by it is a circular true
    convolution that does not shift the image.

    Args:
        kernels: ``(B, kh, kw)`` with odd sides no larger than ``shape``.
        shape: ``(M, N)`` size of the images to filter.

    Returns:
        Complex ``(B, 1, M, N // 2 + 1)``, broadcastable over channels.

    Example:
        >>> otf = kernel_otf(torch.tensor([[[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]),
        ...                  (4, 6))
        >>> otf.shape, bool(torch.allclose(otf, torch.ones_like(otf)))
        (torch.Size([1, 1, 4, 4]), True)
    """
    m, n = shape
    kh, kw = kernels.shape[-2:]
    if kh > m or kw > n:
        raise ValueError(f"kernel {kh}x{kw} is larger than the {m}x{n} image it filters")
    padded = kernels.new_zeros(kernels.shape[0], m, n)
    padded[:, :kh, :kw] = kernels
    padded = torch.roll(padded, shifts=(-(kh // 2), -(kw // 2)), dims=(-2, -1))
    return torch.fft.rfft2(padded).unsqueeze(1)


def _symmetric_index(index: Tensor, n: int) -> Tensor:
    """Map any integer positions onto ``[0, n)`` by half-sample symmetric reflection."""
    period = index.remainder(2 * n)
    return torch.where(period < n, period, 2 * n - 1 - period)


def _extend_dim(images: Tensor, band: int, dim: int) -> Tensor:
    """Append a band along ``dim`` that fades from the mirrored end to the mirrored start."""
    n = images.shape[dim]
    device = images.device
    d = torch.arange(1, band + 1, device=device)  # distance past the last row
    from_end = _symmetric_index(n - d, n)  # mirror about the end: n-1, n-2, ...
    from_start = _symmetric_index(-(band + 1 - d), n)  # mirror about the start, seen from it
    # Raised cosine from 1 (next to the end) to 0 (next to the start, which follows circularly).
    fade = 0.5 * (1 + torch.cos(math.pi * d.to(images.dtype) / (band + 1)))
    shape = [1] * images.ndim
    shape[dim] = band
    fade = fade.view(shape)
    tail = fade * images.index_select(dim, from_end) + (1 - fade) * images.index_select(
        dim, from_start
    )
    return torch.cat([images, tail], dim=dim)


def extend_periodic(images: Tensor, *, band: tuple[int, int]) -> Tensor:
    """Extend images on the bottom and right so that they are periodic and smooth across borders.

    Each new row (column) is a cross-fade, with raised-cosine weights, between the image mirrored
    about its bottom (right) border and the image mirrored about its top (left) border, so the
    extended image has no jump where the FFT wraps it around. The original pixels stay in
    ``[..., :H, :W]``.

    Args:
        images: ``(B, C, H, W)``.
        band: rows and columns to add, ``(bh, bw)``, each ``>= 0``.

    Returns:
        ``(B, C, H + bh, W + bw)``.

    Example:
        >>> row = torch.tensor([[[[0.0, 1.0, 2.0, 3.0]]]])
        >>> extend_periodic(row, band=(0, 3))[0, 0, 0]  # 3 -> back towards 0, no jump
        tensor([0.0000, 1.0000, 2.0000, 3.0000, 2.8536, 1.5000, 0.1464])
    """
    bh, bw = band
    if bh < 0 or bw < 0:
        raise ValueError(f"band must be non-negative, got {band}")
    out = _extend_dim(images, bh, -2) if bh else images
    return _extend_dim(out, bw, -1) if bw else out


def _diff_otfs(shape: tuple[int, int], like: Tensor) -> tuple[Tensor, Tensor]:
    """Transfer functions of the forward differences ``x[i+1] - x[i]`` (circular), rfft grid."""
    m, n = shape
    u = torch.arange(m, device=like.device, dtype=like.dtype)
    v = torch.arange(n // 2 + 1, device=like.device, dtype=like.dtype)
    dy = torch.polar(torch.ones_like(u), 2 * math.pi * u / m) - 1
    dx = torch.polar(torch.ones_like(v), 2 * math.pi * v / n) - 1
    return dx[None, :].expand(m, -1), dy[:, None].expand(-1, n // 2 + 1)


def _gradients(image: Tensor) -> tuple[Tensor, Tensor]:
    """Forward differences along x and y, circular (the last column/row wraps around)."""
    return (
        torch.roll(image, -1, dims=-1) - image,
        torch.roll(image, -1, dims=-2) - image,
    )


def _extended_shape(height: int, width: int, kh: int, kw: int) -> tuple[int, int]:
    """Size of the periodic extension: image plus a band of at least 2 kernel sides (FFT-fast)."""
    # The band must hold the kernel's spread from both borders plus a slow fade between them.
    return (
        _next_fast_size(height + max(2 * kh, 8)),
        _next_fast_size(width + max(2 * kw, 8)),
    )


def _check_boundary(boundary: str) -> None:
    if boundary not in _BOUNDARIES:
        raise ValueError(f"boundary must be one of {_BOUNDARIES}, got {boundary!r}")


def _extend(
    images: Tensor, kernel_size: tuple[int, ...], boundary: str = "reflect"
) -> tuple[Tensor, tuple[int, int]]:
    """The images as the FFT sees them (periodic, or smoothly extended) and that grid's shape.

    ``kernel_size`` is the ``(kh, kw)`` support the extension's band must hold.
    """
    h, w = images.shape[-2:]
    if boundary == "periodic":
        return images, (h, w)
    shape = _extended_shape(h, w, kernel_size[0], kernel_size[1])
    return extend_periodic(images, band=(shape[0] - h, shape[1] - w)), shape


def _finish(restored: Tensor, blurry: Tensor, *, clamp: bool, squeeze: bool) -> Tensor:
    """Crop the extension off, clip, and return in ``blurry``'s dtype and layout."""
    restored = restored[..., : blurry.shape[-2], : blurry.shape[-1]]
    if clamp:
        restored = restored.clamp(0.0, 1.0)
    restored = restored.to(blurry.dtype)
    return restored.squeeze(0) if squeeze else restored


def _filter(
    blurry: Tensor,
    kernel: Tensor,
    regulariser: Callable[[tuple[int, int], Tensor], Tensor],
    *,
    boundary: str,
    clamp: bool,
) -> Tensor:
    """``conj(K) Y / (|K|^2 + R)`` with ``R = regulariser(shape, like)`` on the rfft grid."""
    _check_boundary(boundary)
    images, kernels, squeeze = _prepare(blurry, kernel)
    extended, shape = _extend(images, kernels.shape[-2:], boundary)
    otf = kernel_otf(kernels, shape)
    denominator = otf.real.square() + otf.imag.square() + regulariser(shape, otf.real)
    spectrum = torch.fft.rfft2(extended) * otf.conj() / denominator
    return _finish(torch.fft.irfft2(spectrum, s=shape), blurry, clamp=clamp, squeeze=squeeze)


def wiener_deconvolve(
    blurry: Tensor,
    kernel: Tensor,
    *,
    nsr: float = 1e-2,
    boundary: str = "reflect",
    clamp: bool = True,
) -> Tensor:
    """Wiener deconvolution with a constant noise-to-signal power ratio (Wiener, 1949).

    ``X = conj(K) Y / (|K|^2 + nsr)`` per channel. ``nsr`` trades sharpness for noise: about the
    noise variance over the image's power per frequency; ``1e-3`` suits clean 8-bit images,
    ``1e-2`` mild noise. Frequencies the kernel removes are damped, not invented; the mean is
    scaled by ``1 / (1 + nsr)``.

    Args:
        blurry: ``(B, C, H, W)`` or ``(C, H, W)`` images.
        kernel: ``(kh, kw)`` for every image or ``(B, kh, kw)``, odd sides, positive sum
            (normally 1: a kernel that sums to ``s`` divides the brightness by ``s``).
        nsr: noise-to-signal ratio, ``> 0``.
        boundary: ``"reflect"`` (smooth periodic extension: no ringing from the borders) or
            ``"periodic"`` (the image is taken as periodic: the closed form).
        clamp: clip the result to [0, 1].

    Returns:
        The restored images, same shape, dtype and device as ``blurry``.

    Shape:
        - blurry: ``(B, C, H, W)`` or ``(C, H, W)``
        - kernel: ``(kh, kw)``, ``(1, kh, kw)`` or ``(B, kh, kw)``
        - output: same as ``blurry``

    Example:
        >>> from deblurgan.blur import blur_image
        >>> sharp = torch.zeros(1, 1, 16, 16)
        >>> sharp[..., 6:10, 5:11] = 1.0
        >>> kernel = torch.tensor([[0.2, 0.6, 0.2]])  # horizontal blur, one row
        >>> blurry = blur_image(sharp, torch.nn.functional.pad(kernel, (0, 0, 1, 1)))
        >>> restored = wiener_deconvolve(blurry, kernel, nsr=1e-6)
        >>> [round(float((image - sharp).abs().max()), 2) for image in (blurry, restored)]
        [0.2, 0.0]
    """
    ratio = _check_number("nsr", nsr, minimum=0.0, strict=True)
    return _filter(
        blurry,
        kernel,
        lambda shape, like: like.new_full((), ratio),
        boundary=boundary,
        clamp=clamp,
    )


def _laplacian_power(shape: tuple[int, int], like: Tensor) -> Tensor:
    """``|L|^2`` of the 5-point Laplacian on the ``(M, N // 2 + 1)`` rfft grid."""
    m, n = shape
    u = torch.arange(m, device=like.device, dtype=like.dtype)
    v = torch.arange(n // 2 + 1, device=like.device, dtype=like.dtype)
    # L(u, v) = 2 cos(2 pi u / M) + 2 cos(2 pi v / N) - 4 = -4 sin^2(pi u / M) - 4 sin^2(pi v / N)
    lap = (
        4 * torch.sin(math.pi * u / m).square()[:, None]
        + 4 * torch.sin(math.pi * v / n).square()[None, :]
    )
    return lap.square()


def tikhonov_deconvolve(
    blurry: Tensor,
    kernel: Tensor,
    *,
    weight: float = 1e-2,
    boundary: str = "reflect",
    clamp: bool = True,
) -> Tensor:
    """Tikhonov-regularised deconvolution with a Laplacian smoothness prior (Tikhonov, 1963).

    The minimiser of ``||kernel * x - blurry||^2 + weight * ||laplacian(x)||^2`` in closed form:
    ``X = conj(K) Y / (|K|^2 + weight |L|^2)``, ``L`` the 5-point Laplacian. Unlike Wiener's flat
    ratio, the penalty grows with frequency: smooth areas and the mean are kept, noise is damped.

    Args:
        blurry: ``(B, C, H, W)`` or ``(C, H, W)`` images.
        kernel: ``(kh, kw)`` or ``(B, kh, kw)``, odd sides, positive sum (normally 1).
        weight: regularisation weight, ``> 0``.
        boundary: ``"reflect"`` (no ringing from the borders) or ``"periodic"``.
        clamp: clip the result to [0, 1].

    Returns:
        The restored images, same shape, dtype and device as ``blurry``.

    Shape:
        - blurry: ``(B, C, H, W)`` or ``(C, H, W)``
        - kernel: ``(kh, kw)``, ``(1, kh, kw)`` or ``(B, kh, kw)``
        - output: same as ``blurry``

    Example:
        >>> flat = torch.full((1, 3, 8, 8), 0.25)
        >>> restored = tikhonov_deconvolve(flat, torch.full((3, 3), 1 / 9), weight=0.1)
        >>> bool(torch.allclose(restored, flat))  # the mean is not penalised
        True
    """
    strength = _check_number("weight", weight, minimum=0.0, strict=True)
    return _filter(
        blurry,
        kernel,
        lambda shape, like: strength * _laplacian_power(shape, like),
        boundary=boundary,
        clamp=clamp,
    )


def richardson_lucy(
    blurry: Tensor,
    kernel: Tensor,
    *,
    iterations: int = 30,
    eps: float = 1e-6,
    boundary: str = "reflect",
    clamp: bool = True,
) -> Tensor:
    """Richardson-Lucy deconvolution (Richardson, 1972; Lucy, 1974).

    Starting from ``x = blurry``, each iteration applies
    ``x <- x * (k~ * (blurry / max(k * x, eps))) / sum(k)`` (``k~`` the flipped kernel), the
    expectation-maximisation step for Poisson noise. The estimate stays non-negative and keeps
    the image's total intensity; more iterations restore more detail and amplify more noise (the
    iteration count is the regulariser). Negative inputs (noise) are clipped to 0 first.

    Args:
        blurry: ``(B, C, H, W)`` or ``(C, H, W)`` non-negative images.
        kernel: ``(kh, kw)`` or ``(B, kh, kw)``, odd sides, non-negative, positive sum.
        iterations: number of iterations, ``>= 0`` (0 returns the input).
        eps: floor of the re-blurred estimate, avoiding division by zero in black areas.
        boundary: ``"reflect"`` (no ringing from the borders) or ``"periodic"``.
        clamp: clip the result to [0, 1].

    Returns:
        The restored images, same shape, dtype and device as ``blurry``.

    Shape:
        - blurry: ``(B, C, H, W)`` or ``(C, H, W)``
        - kernel: ``(kh, kw)``, ``(1, kh, kw)`` or ``(B, kh, kw)``
        - output: same as ``blurry``

    Example:
        >>> blurry = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> delta = torch.zeros(3, 3)
        >>> delta[1, 1] = 1.0
        >>> bool(torch.allclose(richardson_lucy(blurry, delta, iterations=5), blurry, atol=1e-6))
        True
    """
    _check_boundary(boundary)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"iterations must be an integer >= 0, got {iterations!r}")
    floor = _check_number("eps", eps, minimum=0.0, strict=True)
    images, kernels, squeeze = _prepare(blurry, kernel)
    if (kernels < 0).any():
        raise ValueError("Richardson-Lucy needs a non-negative kernel")
    observed, shape = _extend(images.clamp_min(0.0), kernels.shape[-2:], boundary)
    otf = kernel_otf(kernels, shape)
    adjoint = otf.conj() / kernels.sum(dim=(-2, -1)).view(-1, 1, 1, 1)  # flipped kernel / sum
    estimate = observed
    for _ in range(iterations):
        reblurred = torch.fft.irfft2(torch.fft.rfft2(estimate) * otf, s=shape)
        ratio = observed / reblurred.clamp_min(floor)
        correction = torch.fft.irfft2(torch.fft.rfft2(ratio) * adjoint, s=shape)
        # Round-off can dip a hair below zero; the exact iteration never does.
        estimate = (estimate * correction).clamp_min(0.0)
    return _finish(estimate, blurry, clamp=clamp, squeeze=squeeze)


def _shrink(values: Tensor, lam: float, p: float, steps: int = 3) -> Tensor:
    """``argmin_w 0.5 (w - v)^2 + lam |w|^p`` elementwise, ``0 < p <= 1``.

    ``p = 1`` is soft thresholding; below 1, the generalised shrinkage of Zuo, Meng, Zhang, Feng
    and Zhang (ICCV 2013): zero under the threshold ``tau``, else a few fixed-point steps
    ``t <- |v| - lam p t^(p - 1)`` from ``t = |v|``.
    """
    size = values.abs()
    if p == 1.0:
        return values.sign() * (size - lam).clamp_min(0.0)
    base = 2 * lam * (1 - p)
    tau = base ** (1 / (2 - p)) + lam * p * base ** ((p - 1) / (2 - p))
    t = size
    for _ in range(steps):
        t = size - lam * p * t.clamp_min(1e-12) ** (p - 1)
    return torch.where(size > tau, values.sign() * t, torch.zeros_like(values))


def hyper_laplacian_deconvolve(
    blurry: Tensor,
    kernel: Tensor,
    *,
    weight: float = 5e-4,
    alpha: float = 2 / 3,
    boundary: str = "reflect",
    clamp: bool = True,
) -> Tensor:
    """Deconvolution with a hyper-Laplacian gradient prior (Krishnan and Fergus, NIPS 2009).

    The minimiser of ``0.5 ||kernel * x - blurry||^2 + weight * sum |grad x|^alpha``: natural
    images' gradients are heavy-tailed (``alpha`` about 2/3), so strong edges cost little and
    the small oscillations that Wiener and Tikhonov leave around them (ringing) and noise cost a
    lot. Half-quadratic splitting as in the paper: ``w`` stands for the gradients, with a penalty
    ``beta / 2 ||w - grad x||^2`` whose ``beta`` grows from 1 to 256 by ``2 sqrt(2)``; each step
    is an elementwise shrinkage of the gradients (:func:`_shrink`) and an FFT solve for ``x``.

    Args:
        blurry: ``(B, C, H, W)`` or ``(C, H, W)`` images.
        kernel: ``(kh, kw)`` or ``(B, kh, kw)``, odd sides, positive sum (normally 1).
        weight: the prior's weight, ``> 0``; the paper's ``1 / lambda``: ``5e-4`` is its
            ``lambda = 2000`` for images with about 1 % noise; more for noisier images.
        alpha: the prior's exponent, in ``(0, 1]`` (1: total variation).
        boundary: ``"reflect"`` (no ringing from the borders) or ``"periodic"``.
        clamp: clip the result to [0, 1].

    Returns:
        The restored images, same shape, dtype and device as ``blurry``.

    Shape:
        - blurry: ``(B, C, H, W)`` or ``(C, H, W)``
        - kernel: ``(kh, kw)``, ``(1, kh, kw)`` or ``(B, kh, kw)``
        - output: same as ``blurry``

    Example:
        >>> from deblurgan.blur import blur_image
        >>> sharp = torch.zeros(1, 1, 24, 24)
        >>> sharp[..., 8:16, 6:18] = 1.0
        >>> kernel = torch.zeros(7, 7)
        >>> kernel[3] = 1 / 7  # a 7 px horizontal streak
        >>> blurry = blur_image(sharp, kernel)
        >>> restored = hyper_laplacian_deconvolve(blurry, kernel, weight=1e-4)
        >>> [round(float((image - sharp).abs().mean()), 3) for image in (blurry, restored)]
        [0.048, 0.008]
    """
    strength = _check_number("weight", weight, minimum=0.0, strict=True)
    p = _check_number("alpha", alpha, minimum=0.0, strict=True)
    if p > 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    _check_boundary(boundary)
    images, kernels, squeeze = _prepare(blurry, kernel)
    extended, shape = _extend(images, kernels.shape[-2:], boundary)
    otf = kernel_otf(kernels, shape)
    dx, dy = _diff_otfs(shape, otf.real)
    data = otf.conj() * torch.fft.rfft2(extended)
    power = otf.real.square() + otf.imag.square()
    smooth = dx.abs().square() + dy.abs().square()
    latent = extended
    beta = 1.0
    while beta <= 256.0:
        gx, gy = _gradients(latent)
        wx, wy = _shrink(gx, 1 / beta, p), _shrink(gy, 1 / beta, p)
        numerator = data + strength * beta * (
            dx.conj() * torch.fft.rfft2(wx) + dy.conj() * torch.fft.rfft2(wy)
        )
        latent = torch.fft.irfft2(numerator / (power + strength * beta * smooth), s=shape)
        beta *= 2 * math.sqrt(2)
    return _finish(latent, blurry, clamp=clamp, squeeze=squeeze)


#: Method name (as the CLI spells it) -> function ``(blurry, kernel, **options) -> restored``.
DECONV_METHODS: Mapping[str, Callable[..., Tensor]] = MappingProxyType(
    {
        "wiener": wiener_deconvolve,
        "tikhonov": tikhonov_deconvolve,
        "richardson_lucy": richardson_lucy,
        "hyper_laplacian": hyper_laplacian_deconvolve,
    }
)

#: The options each method takes, beside ``boundary`` and ``clamp``.
DECONV_OPTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "wiener": ("nsr",),
        "tikhonov": ("weight",),
        "richardson_lucy": ("iterations",),
        "hyper_laplacian": ("weight", "alpha"),
    }
)


def method_options(name: str, **given: object) -> dict[str, object]:
    """The options of method ``name``: each one ``given`` (not ``None``), else its default.

    Options the method does not take are ignored, so one set of command-line values serves
    every method, and the defaults stay those of the functions.

    Example:
        >>> method_options("tikhonov", nsr=0.1, weight=None)
        {'weight': 0.01}
        >>> method_options("hyper_laplacian", weight=1e-3)
        {'weight': 0.001, 'alpha': 0.6666666666666666}
    """
    if name not in DECONV_METHODS:
        raise ValueError(f"unknown deconvolution {name!r}; valid: {', '.join(DECONV_METHODS)}")
    parameters = inspect.signature(DECONV_METHODS[name]).parameters
    options: dict[str, object] = {}
    for key in DECONV_OPTIONS[name]:
        value = given.get(key)
        options[key] = parameters[key].default if value is None else value
    return options
