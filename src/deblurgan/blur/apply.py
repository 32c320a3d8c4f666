"""Apply the blur model ``blurry = kernel * sharp + noise``: convolution, noise and sRGB gamma."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.blur.checks import as_batch

__all__ = [
    "add_gaussian_noise",
    "blur_image",
    "convolve_valid",
    "linear_to_srgb",
    "srgb_to_linear",
]

_PADDINGS = {"reflect": "reflect", "replicate": "replicate", "circular": "circular", "zeros": None}
_METHODS = ("auto", "direct", "fft")
# Above this kernel side the FFT is cheaper than a direct convolution on CPU and GPU alike.
_FFT_FROM = 15


def blur_image(
    sharp: Tensor,
    kernels: Tensor,
    *,
    padding: str = "reflect",
    method: str = "auto",
) -> Tensor:
    """Convolve each image with its own kernel (true convolution, same kernel for every channel).

    Args:
        sharp: images ``(B, C, H, W)`` (or one image ``(C, H, W)``).
        kernels: one kernel ``(k, k)`` for all images, or ``(B, k, k)`` (``(1, k, k)`` is
            broadcast); ``k`` must be odd so the output stays aligned with the input.
        padding: border handling: ``"reflect"``, ``"replicate"``, ``"circular"`` or ``"zeros"``.
        method: ``"direct"`` (grouped ``conv2d`` with the flipped kernel), ``"fft"`` or
            ``"auto"`` (FFT for ``k >= 15``). Both give the same result up to float round-off.

    Returns:
        The blurred images, same shape, dtype and device as ``sharp``.

    Shape:
        - sharp: ``(B, C, H, W)`` or ``(C, H, W)``
        - kernels: ``(k, k)``, ``(1, k, k)`` or ``(B, k, k)``
        - output: same as ``sharp``

    Example:
        >>> sharp = torch.zeros(1, 1, 5, 5)
        >>> sharp[0, 0, 2, 2] = 1.0
        >>> kernel = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])
        >>> blur_image(sharp, kernel)[0, 0, 2]  # true convolution: the impulse spreads right
        tensor([0.0000, 0.0000, 0.5000, 0.5000, 0.0000])
    """
    images, squeeze = as_batch(sharp, "sharp")
    if not isinstance(kernels, Tensor):
        raise TypeError(f"kernels must be a torch.Tensor, got {type(kernels)}")
    if padding not in _PADDINGS:
        raise ValueError(f"padding must be one of {sorted(_PADDINGS)}, got {padding!r}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if kernels.ndim == 2:
        kernels = kernels.unsqueeze(0)
    if kernels.ndim != 3 or kernels.shape[-1] != kernels.shape[-2]:
        raise ValueError(f"kernels must be (k, k) or (B, k, k), got {tuple(kernels.shape)}")
    k = kernels.shape[-1]
    if k % 2 == 0:
        raise ValueError(f"kernel size must be odd so the image stays aligned, got {k}")
    b, c, h, w = images.shape
    if kernels.shape[0] not in (1, b):
        raise ValueError(f"got {kernels.shape[0]} kernels for a batch of {b} images")
    pad = k // 2
    if padding == "reflect" and pad >= min(h, w):
        raise ValueError(
            f"reflect padding needs images larger than half the kernel: image {h}x{w}, "
            f"kernel {k}x{k}; use a smaller kernel or padding='replicate'"
        )
    out_dtype = images.dtype
    work = torch.float64 if out_dtype == torch.float64 else torch.float32
    x = images.to(work)
    kern = kernels.to(device=x.device, dtype=work).expand(b, k, k)
    if pad > 0:
        mode = _PADDINGS[padding]
        x = F.pad(x, (pad, pad, pad, pad), mode=mode) if mode else F.pad(x, (pad,) * 4)
    use_fft = method == "fft" or (method == "auto" and k >= _FFT_FROM)
    if use_fft:
        blurred = _fft_valid_convolution(x, kern)
    else:
        # conv2d is a correlation: flip the kernel for a true convolution; one group per channel.
        weight = kern.flip(-1, -2).repeat_interleave(c, dim=0).unsqueeze(1)  # (B*C, 1, k, k)
        blurred = F.conv2d(x.reshape(1, b * c, *x.shape[-2:]), weight, groups=b * c)
        blurred = blurred.view(b, c, h, w)
    blurred = blurred.to(out_dtype)
    return blurred.squeeze(0) if squeeze else blurred


def convolve_valid(image: Tensor, kernel: Tensor, *, method: str = "auto") -> Tensor:
    """The 'valid' part of a true convolution: no padding, ``k - 1`` pixels smaller.

    Every output pixel sees only real pixels of ``image``, so a caller that cuts a margin of
    ``k // 2`` around its crop never blurs in a padded border. The FFT pays from ``k >= 15``.

    Args:
        image: ``(C, H, W)`` or ``(B, C, H, W)``.
        kernel: ``(k, k)`` (odd ``k``), applied to every channel (and image).
        method: ``"direct"``, ``"fft"`` or ``"auto"``, as for :func:`blur_image`.

    Shape:
        - image: ``(..., C, H, W)``; output: ``(..., C, H - k + 1, W - k + 1)``

    Example:
        >>> image = torch.arange(25.0).reshape(1, 5, 5)
        >>> convolve_valid(image, torch.full((3, 3), 1 / 9)).round()
        tensor([[[ 6.,  7.,  8.],
                 [11., 12., 13.],
                 [16., 17., 18.]]])
    """
    images, squeeze = as_batch(image, "image")
    if not isinstance(kernel, Tensor) or kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"kernel must be a (k, k) tensor, got {getattr(kernel, 'shape', kernel)}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    k = kernel.shape[-1]
    b, c, h, w = images.shape
    if k % 2 == 0 or k > min(h, w):
        raise ValueError(f"kernel side must be odd and at most {min(h, w)}, got {k}")
    work = torch.float64 if images.dtype == torch.float64 else torch.float32
    x = images.to(work)
    kern = kernel.to(device=x.device, dtype=work)
    if method == "fft" or (method == "auto" and k >= _FFT_FROM):
        out = _fft_valid_convolution(x, kern.expand(b, k, k))
    else:
        weight = kern.flip(-1, -2).expand(c, 1, k, k)
        out = F.conv2d(x, weight, groups=c)
    out = out.to(images.dtype)
    return out.squeeze(0) if squeeze else out


def _fft_valid_convolution(padded: Tensor, kernels: Tensor) -> Tensor:
    """'Valid' true convolution of ``(B, C, M, N)`` with ``(B, k, k)`` via one circular FFT.

    A circular convolution of size ``(M, N)`` equals the linear one at every output index
    ``>= k - 1``, which is exactly the valid region, so no extra zero padding is needed.
    """
    m, n = padded.shape[-2:]
    k = kernels.shape[-1]
    spectrum = torch.fft.rfft2(padded, s=(m, n))
    kernel_spectrum = torch.fft.rfft2(kernels, s=(m, n)).unsqueeze(1)  # (B, 1, M, N/2+1)
    full = torch.fft.irfft2(spectrum * kernel_spectrum, s=(m, n))
    return full[..., k - 1 :, k - 1 :]


def add_gaussian_noise(
    image: Tensor,
    std: float | Tensor,
    *,
    generator: torch.Generator,
    clamp: bool = True,
) -> Tensor:
    """Add white Gaussian noise of standard deviation ``std`` (per image when a tensor).

    Args:
        image: ``(B, C, H, W)`` (or ``(C, H, W)``) in [0, 1].
        std: a number, or a ``(B,)`` tensor with one standard deviation per image.
        generator: the only source of randomness; must live on ``image``'s device.
        clamp: clip the result to [0, 1] (images stay valid images).

    Returns:
        The noisy image, same shape, dtype and device.

    Example:
        >>> noisy = add_gaussian_noise(torch.full((2, 3, 8, 8), 0.5), torch.tensor([0.0, 0.1]),
        ...                            generator=torch.Generator().manual_seed(0))
        >>> bool((noisy[0] == 0.5).all()), bool((noisy[1] != 0.5).any())
        (True, True)
    """
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator)}")
    images, squeeze = as_batch(image, "image")
    b = images.shape[0]
    sigma = torch.as_tensor(std, dtype=images.dtype, device=images.device)
    if sigma.ndim == 0:
        sigma = sigma.expand(b)
    if sigma.ndim != 1 or sigma.shape[0] not in (1, b):
        raise ValueError(f"std must be a number or a ({b},) tensor, got shape {tuple(sigma.shape)}")
    if (sigma < 0).any() or not torch.isfinite(sigma).all():
        raise ValueError(f"std must be finite and non-negative, got {std!r}")
    noise = torch.randn(images.shape, generator=generator, device=images.device, dtype=images.dtype)
    noisy = images + sigma.view(-1, 1, 1, 1) * noise
    if clamp:
        noisy = noisy.clamp(0.0, 1.0)
    return noisy.squeeze(0) if squeeze else noisy


def srgb_to_linear(image: Tensor) -> Tensor:
    """Decode sRGB values in [0, 1] to linear light (IEC 61966-2-1 transfer function).

    Blur is a physical average of light, so synthesising it in linear light and re-encoding
    gives the bright streaks of real photos (as GoPro's frame averaging does).

    Example:
        >>> srgb_to_linear(torch.tensor([0.0, 0.04045, 0.5, 1.0]))
        tensor([0.0000, 0.0031, 0.2140, 1.0000])
    """
    x = image.clamp(0.0, 1.0)
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(image: Tensor) -> Tensor:
    """Encode linear-light values in [0, 1] to sRGB (inverse of :func:`srgb_to_linear`).

    Example:
        >>> linear_to_srgb(torch.tensor([0.0, 0.0031308, 0.214041, 1.0]))
        tensor([0.0000, 0.0404, 0.5000, 1.0000])
    """
    x = image.clamp(0.0, 1.0)
    # Clamp inside the power so its gradient stays finite where the linear branch is used.
    curve = 1.055 * x.clamp_min(0.0031308) ** (1 / 2.4) - 0.055
    return torch.where(x <= 0.0031308, 12.92 * x, curve)
