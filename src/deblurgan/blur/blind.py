"""Blind deconvolution of uniform camera shake: estimate the kernel, then deconvolve.

For a photo blurred by one kernel over the whole frame (camera shake without rotation, as Lai et
al.'s uniform benchmark), the kernel is estimated from the photo alone, coarse to fine, by
alternating two steps (the scheme of Cho and Lee, "Fast motion deblurring", SIGGRAPH Asia 2009,
with the L0 gradient prior of Xu, Zheng and Jia, "Unnatural L0 sparse representation for natural
image deblurring", CVPR 2013, and Pan, Hu, Su and Yang, "Deblurring text images via
L0-regularized intensity and gradient prior", CVPR 2014):

1. **Latent image**: the minimiser of ``||k * x - y||^2 + lambda ||grad x||_0`` by half-quadratic
   splitting (each step an FFT solve), which keeps strong edges and flattens the rest: the
   "unnatural" intermediate image whose edges carry the kernel's information.
2. **Kernel**: the minimiser of ``sum_d ||d(x) * k - d(y)||^2 + gamma ||k||^2`` over ``d`` the
   horizontal and vertical derivatives, with only the strongest gradients of ``x`` kept (Cho and
   Lee's orientation-balanced selection), solved by conjugate gradients on the kernel's support;
   then small values and small disconnected blobs are removed, the kernel re-centred on its
   centre of mass, made non-negative and normalised.

``lambda`` shrinks by 1.1 per iteration; the pyramid's scales differ by ``sqrt(2)`` down to a
kernel of 5 px. The kernel is estimated on the grey image; every channel is then deconvolved
with it (:func:`deblurgan.blur.deconv.wiener_deconvolve`, smooth periodic extension of the
borders). Blur of a photo's stored (gamma-encoded) values is assumed, as in Lai et al.'s set and
GoPro's ``blur`` folder; non-uniform blur (rotation, moving objects) is outside this model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.blur.checks import as_batch
from deblurgan.blur.deconv import (
    _diff_otfs,
    _extend,
    _gradients,
    kernel_otf,
    wiener_deconvolve,
)

__all__ = [
    "BlindSettings",
    "blind_deconvolve",
    "check_kernel_size",
    "default_kernel_size",
    "estimate_kernel",
]

# BT.601 luma, the weights of deblurgan.io.image.LUMA_WEIGHTS (blur and io are independent
# modules of one layer, so blur cannot import them) and of Pan et al.'s rgb2gray.
_GREY = (0.299, 0.587, 0.114)
_WORK = torch.float64  # the estimate's precision
#: The default kernel support as a fraction of the photo's longer side: camera shake in a
#: 1280 px frame spans up to about 80 px (issue 12), Lai et al.'s kernels 21 to 65 px at 1024.
DEFAULT_FRACTION = 0.08


def _odd(value: float) -> int:
    n = max(math.ceil(value), 1)
    return n if n % 2 else n + 1


def check_kernel_size(kernel_size: object, name: str = "kernel_size") -> int:
    """``kernel_size`` as an odd integer ``>= 3``, or a ``ValueError`` naming ``name`` and the
    problem (the command line passes its flag as ``name``).

    Example:
        >>> check_kernel_size(10, "--kernel-size")
        Traceback (most recent call last):
        ...
        ValueError: --kernel-size must be odd, got 10
    """
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 3:
        raise ValueError(f"{name} must be an integer >= 3, got {kernel_size!r}")
    if kernel_size % 2 == 0:
        raise ValueError(f"{name} must be odd, got {kernel_size}")
    return kernel_size


def default_kernel_size(height: int, width: int) -> int:
    """The kernel support used when none is given: 8 % of the longer side, odd, from 9 px, and
    at most half the shorter side.

    Example:
        >>> [default_kernel_size(h, w) for h, w in ((720, 1280), (683, 1024), (30, 40))]
        [103, 83, 9]
    """
    size = _odd(max(DEFAULT_FRACTION * max(height, width), 9))
    limit = max(min(height, width) // 2, 3)
    if size > limit:
        size = limit if limit % 2 else limit - 1
    return size


@dataclass(frozen=True)
class BlindSettings:
    """The parameters of :func:`estimate_kernel` (defaults as Pan et al.'s public code).

    Args:
        iterations: alternations of latent image and kernel per scale.
        lambda_grad: the initial weight of the L0 gradient prior (shrinks by 1.1 per iteration,
            down to ``lambda_min``).
        lambda_min: its floor.
        gamma: the kernel's Tikhonov weight.
        cg_iterations: conjugate-gradient steps per kernel update.
        floor: after each kernel update, values under this are set to zero.
        prune: at the end, values under this fraction of the maximum are set to zero.
        min_blob: connected parts of the kernel holding less than this fraction of its mass are
            removed.
        select: fit the kernel to the latent image's strongest gradients only (Cho and Lee's
            rule); ``False`` fits it to all of them.
    """

    iterations: int = 5
    lambda_grad: float = 4e-3
    lambda_min: float = 1e-4
    gamma: float = 2.0
    cg_iterations: int = 20
    floor: float = 3e-4
    prune: float = 0.05
    min_blob: float = 0.1
    select: bool = True

    def __post_init__(self) -> None:
        for name in ("iterations", "cg_iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("lambda_grad", "lambda_min", "gamma"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value > 0 or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        for name in ("floor", "prune", "min_blob"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value < 1:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")


def _l0_restore(blurry: Tensor, otf: Tensor, lam: float, kappa: float = 2.0) -> Tensor:
    """``argmin ||k * x - y||^2 + lam ||grad x||_0`` by half-quadratic splitting (Xu et al.)."""
    shape = (blurry.shape[-2], blurry.shape[-1])
    dx, dy = _diff_otfs(shape, blurry)
    spectrum = torch.fft.rfft2(blurry)
    data = otf.conj() * spectrum
    power = otf.abs().square()
    smooth = dx.abs().square() + dy.abs().square()
    latent = blurry
    beta = 2 * lam
    while beta < 1e5:
        gx, gy = _gradients(latent)
        keep = (gx.square() + gy.square()) >= lam / beta
        gx, gy = gx * keep, gy * keep
        numerator = data + beta * (
            dx.conj() * torch.fft.rfft2(gx) + dy.conj() * torch.fft.rfft2(gy)
        )
        latent = torch.fft.irfft2(numerator / (power + beta * smooth), s=shape)
        beta *= kappa
    return latent


def _select_gradients(
    gx: Tensor, gy: Tensor, kernel_size: int, threshold: float | None
) -> tuple[Tensor, Tensor, float]:
    """Keep the strongest gradients, enough in each of 4 orientations (Cho and Lee, 2009)."""
    magnitude = gx.square() + gy.square()
    if threshold is None:
        angle = torch.atan2(gy, gx).remainder(math.pi)  # orientation in [0, pi)
        bins = (angle / (math.pi / 4)).long().clamp(max=3)
        wanted = max(kernel_size * 20, 10)
        levels = []
        for b in range(4):
            values = magnitude[bins == b]
            if values.numel() == 0:
                continue
            count = min(wanted, values.numel())
            levels.append(float(torch.topk(values, count).values[-1]))
        threshold = min(levels) if levels else 0.0
    keep = magnitude >= threshold
    while not keep.any() and threshold > 0:
        threshold *= 0.81
        keep = magnitude >= threshold
    return gx * keep, gy * keep, threshold / 1.1


def _otf_to_kernel(spectrum: Tensor, shape: tuple[int, int], size: int) -> Tensor:
    """The ``size x size`` window around the origin of a circular signal given by its rfft."""
    signal = torch.fft.irfft2(spectrum, s=shape)
    r = size // 2
    return torch.roll(signal, shifts=(r, r), dims=(-2, -1))[..., :size, :size]


def _estimate_psf(
    latent_grads: tuple[Tensor, Tensor],
    blurry_grads: tuple[Tensor, Tensor],
    size: int,
    gamma: float,
    iterations: int,
) -> Tensor:
    """``argmin_k sum_d ||d(x) * k - d(y)||^2 + gamma ||k||^2`` over ``size x size`` kernels,
    by conjugate gradients from a flat kernel (as Pan et al.'s code)."""
    shape = (latent_grads[0].shape[-2], latent_grads[0].shape[-1])
    lat = [torch.fft.rfft2(g) for g in latent_grads]
    blr = [torch.fft.rfft2(g) for g in blurry_grads]
    gram = sum(f.abs().square() for f in lat)
    rhs = _otf_to_kernel(sum(a.conj() * b for a, b in zip(lat, blr, strict=True)), shape, size)

    def apply(k: Tensor) -> Tensor:
        return _otf_to_kernel(gram * kernel_otf(k[None], shape)[0, 0], shape, size) + gamma * k

    k = latent_grads[0].new_full((size, size), 1.0 / size**2)
    residual = rhs - apply(k)
    direction = residual.clone()
    rs = float((residual * residual).sum())
    for _ in range(iterations):
        if rs < 1e-20:
            break
        ad = apply(direction)
        alpha = rs / float((direction * ad).sum())
        k = k + alpha * direction
        residual = residual - alpha * ad
        rs_new = float((residual * residual).sum())
        direction = residual + (rs_new / rs) * direction
        rs = rs_new
    return k


def _components(mask: Tensor) -> Tensor:
    """8-connected component labels of a 2-D boolean mask (0 for background)."""
    cells = mask.cpu().tolist()  # plain lists: element access on tensors is slow
    h, w = len(cells), len(cells[0]) if cells else 0
    labels = [[0] * w for _ in range(h)]
    current = 0
    for i0 in range(h):
        for j0 in range(w):
            if not cells[i0][j0] or labels[i0][j0]:
                continue
            current += 1
            labels[i0][j0] = current
            stack = [(i0, j0)]
            while stack:
                i, j = stack.pop()
                for a in (i - 1, i, i + 1):
                    if not 0 <= a < h:
                        continue
                    for b in (j - 1, j, j + 1):
                        if 0 <= b < w and cells[a][b] and not labels[a][b]:
                            labels[a][b] = current
                            stack.append((a, b))
    return torch.tensor(labels, dtype=torch.long).reshape(h, w)


def _clean_kernel(kernel: Tensor, floor: float, min_blob: float) -> Tensor:
    """Non-negative, values under ``floor`` and blobs under ``min_blob`` of the mass removed."""
    k = kernel.clamp_min(0.0)
    k = k * (k >= floor)
    if float(k.sum()) <= 0:
        return _delta(k.shape[-1], k)
    k = k / k.sum()
    labels = _components(k > 0).to(k.device)
    for label in range(1, int(labels.max()) + 1):
        part = labels == label
        if float(k[part].sum()) < min_blob:
            k = k * ~part
    if float(k.sum()) <= 0:
        return _delta(k.shape[-1], k)
    return k / k.sum()


def _delta(size: int, like: Tensor) -> Tensor:
    out = like.new_zeros(size, size)
    out[size // 2, size // 2] = 1.0
    return out


def _centre(kernel: Tensor) -> Tensor:
    """Shift the kernel so that its centre of mass is on the centre pixel (integer shift)."""
    size = kernel.shape[-1]
    grid = torch.arange(size, device=kernel.device, dtype=kernel.dtype)
    cy = float((kernel.sum(1) * grid).sum())
    cx = float((kernel.sum(0) * grid).sum())
    sy, sx = round(size // 2 - cy), round(size // 2 - cx)
    if sy or sx:
        kernel = torch.roll(kernel, shifts=(sy, sx), dims=(0, 1))
    return kernel


def _resize(image: Tensor, size: tuple[int, int]) -> Tensor:
    if tuple(image.shape[-2:]) == size:
        return image
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)


def _resize_kernel(kernel: Tensor, size: int) -> Tensor:
    k = F.interpolate(kernel[None, None], size=(size, size), mode="bilinear", align_corners=False)
    k = k[0, 0].clamp_min(0.0)
    return k / k.sum()


def estimate_kernel(
    blurry: Tensor, kernel_size: int, settings: BlindSettings | None = None
) -> Tensor:
    """Estimate the uniform blur kernel of a photo, coarse to fine.

    Args:
        blurry: ``(C, H, W)`` or ``(1, C, H, W)`` in [0, 1]; colour is converted to grey.
        kernel_size: the side of the kernel's support, odd, at least the blur's extent (too
            large costs time and a little accuracy; too small cannot fit the blur).
        settings: the algorithm's parameters (:class:`BlindSettings`).

    Returns:
        ``(kernel_size, kernel_size)`` float kernel, non-negative, summing to 1, its centre of
        mass on the centre pixel (to within a pixel).

    Example:
        >>> from deblurgan.blur import blur_image
        >>> sharp = torch.rand(1, 1, 64, 64, generator=torch.Generator().manual_seed(0))
        >>> line = torch.zeros(9, 9)
        >>> line[4, 2:7] = 0.2
        >>> kernel = estimate_kernel(blur_image(sharp, line), 9)
        >>> kernel.shape, round(float(kernel.sum()), 4)
        (torch.Size([9, 9]), 1.0)
    """
    settings = settings or BlindSettings()
    check_kernel_size(kernel_size)
    images, _ = as_batch(blurry, "blurry")
    if images.shape[0] != 1:
        raise ValueError(f"estimate_kernel takes one image, got a batch of {images.shape[0]}")
    h, w = images.shape[-2:]
    if min(h, w) < 2 * kernel_size:
        raise ValueError(
            f"the image ({w}x{h}) must be at least twice the kernel size ({kernel_size}) per side"
        )
    image = images.to(_WORK)
    if image.shape[1] == 3:
        weights = image.new_tensor(_GREY).view(1, 3, 1, 1)
        image = (image * weights).sum(1, keepdim=True)
    elif image.shape[1] != 1:
        raise ValueError(f"blurry must have 1 or 3 channels, got {image.shape[1]}")

    ratio = math.sqrt(0.5)
    scales = max(math.floor(math.log(5 / kernel_size) / math.log(ratio)), 0) + 1
    lam = settings.lambda_grad
    threshold: float | None = None
    kernel = torch.zeros(1, 1, dtype=_WORK)
    for s in range(scales - 1, -1, -1):
        factor = ratio**s
        size = _odd(kernel_size * factor)
        if s == scales - 1:
            kernel = torch.zeros(size, size, dtype=_WORK)
            kernel[size // 2, size // 2 - 1 : size // 2 + 1] = 0.5
        else:
            kernel = _resize_kernel(kernel, size)
        shape = (max(round(h * factor), 2 * size), max(round(w * factor), 2 * size))
        scaled = _resize(image, shape)
        extended, ext = _extend(scaled, (size, size))
        # Gradients inside the photo only (no wrap-around), zero-padded to the FFT size.
        pad = (0, ext[1] - shape[1] + 1, 0, ext[0] - shape[0] + 1)
        blurry_grads = tuple(F.pad(g[..., :-1, :-1], pad)[0, 0] for g in _gradients(scaled))
        for _ in range(settings.iterations):
            otf = kernel_otf(kernel[None].to(extended.dtype), ext)
            latent = _l0_restore(extended, otf, lam)[..., : shape[0], : shape[1]]
            gx, gy = _gradients(latent)
            gx, gy = gx[..., :-1, :-1], gy[..., :-1, :-1]
            if settings.select:
                gx, gy, threshold = _select_gradients(gx, gy, size, threshold)
            kernel = _estimate_psf(
                (F.pad(gx, pad)[0, 0], F.pad(gy, pad)[0, 0]),
                (blurry_grads[0], blurry_grads[1]),
                kernel.shape[-1],
                settings.gamma,
                settings.cg_iterations,
            )
            kernel = _clean_kernel(kernel, settings.floor, settings.min_blob)
            lam = max(lam / 1.1, settings.lambda_min)
        kernel = _centre(kernel)
    kernel = kernel * (kernel >= settings.prune * kernel.max())
    kernel = kernel / kernel.sum()
    return kernel.to(blurry.dtype if blurry.is_floating_point() else torch.float32)


def blind_deconvolve(
    blurry: Tensor,
    kernel_size: int,
    *,
    nsr: float = 1e-2,
    settings: BlindSettings | None = None,
) -> tuple[Tensor, Tensor]:
    """Estimate the kernel (:func:`estimate_kernel`), then Wiener-deconvolve every channel.

    Args:
        blurry: ``(C, H, W)`` or ``(1, C, H, W)`` in [0, 1].
        kernel_size: the kernel's support, odd, at least the blur's extent.
        nsr: Wiener's noise-to-signal ratio (the estimated kernel is not exact: larger values
            ring less).
        settings: the estimation's parameters.

    Returns:
        ``(restored, kernel)``: the restored image, shape and dtype of ``blurry``, clipped to
        [0, 1], and the estimated ``(kernel_size, kernel_size)`` kernel.
    """
    kernel = estimate_kernel(blurry, kernel_size, settings)
    restored = wiener_deconvolve(blurry, kernel, nsr=nsr, boundary="reflect", clamp=True)
    return restored, kernel
