"""Structural similarity (Wang, Bovik, Sheikh and Simoncelli, 2004) with a Gaussian window."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.metrics._checks import check_pair

__all__ = ["gaussian_window", "ssim"]

_K1 = 0.01
_K2 = 0.03


def gaussian_window(
    window: int, sigma: float, *, dtype: torch.dtype, device: torch.device
) -> Tensor:
    """The normalised 1-D Gaussian of ``window`` taps (odd) and standard deviation ``sigma``.

    Example:
        >>> w = gaussian_window(5, 1.0, dtype=torch.float64, device=torch.device("cpu"))
        >>> round(float(w.sum()), 6), bool(w[2] == w.max())
        (1.0, True)
    """
    x = torch.arange(window, dtype=dtype, device=device) - (window - 1) / 2
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    return g / g.sum()


def ssim(
    restored: Tensor,
    sharp: Tensor,
    *,
    data_range: float = 1.0,
    window: int = 11,
    sigma: float = 1.5,
) -> Tensor:
    """Mean SSIM of each image of a batch, averaged over channels.

    Local means, variances and the covariance are Gaussian-weighted averages over a
    ``window`` x ``window`` neighbourhood (population statistics, no ``N / (N - 1)`` factor).
    Only windows that lie fully inside the image are scored ('valid' filtering), which matches
    ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)``: scikit-image filters the whole image and then crops the
    border of half a window. Constants are ``C1 = (0.01 L)^2`` and ``C2 = (0.03 L)^2`` with
    ``L = data_range``.

    Args:
        restored: the images to score.
        sharp: the reference images, same shape.
        data_range: the span of pixel values (1 for images in [0, 1]).
        window: the side of the Gaussian window, odd; the images must be at least this large.
        sigma: the standard deviation of the Gaussian window, in pixels.

    Returns:
        One SSIM per image in [-1, 1], float32 (float64 for float64 inputs).

    Shape:
        - restored, sharp: :math:`(B, C, H, W)` with ``H, W >= window``
        - output: :math:`(B,)`

    Example:
        >>> sharp = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> ssim(sharp, sharp)
        tensor([1., 1.])
        >>> bool((ssim(sharp * 0.5, sharp) < 1).all())
        True
    """
    check_pair(restored, sharp, name="ssim")
    if isinstance(window, bool) or not isinstance(window, int) or window < 1 or window % 2 == 0:
        raise ValueError(f"ssim: window must be an odd positive integer, got {window!r}")
    if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"ssim: sigma must be a positive finite number, got {sigma!r}")
    if not (isinstance(data_range, (int, float)) and math.isfinite(data_range) and data_range > 0):
        raise ValueError(f"ssim: data_range must be a positive finite number, got {data_range!r}")
    channels, height, width = restored.shape[1:]
    if height < window or width < window:
        raise ValueError(
            f"ssim: images of {height}x{width} pixels are smaller than the {window}x{window} window"
        )

    dtype = torch.float64 if restored.dtype == torch.float64 else torch.float32
    x = restored.to(dtype)
    y = sharp.to(dtype)
    g = gaussian_window(window, sigma, dtype=dtype, device=x.device)
    # One depthwise pass over the five maps whose local averages SSIM needs.
    maps = torch.cat([x, y, x * x, y * y, x * y], dim=1)  # (B, 5C, H, W)
    groups = maps.shape[1]
    maps = F.conv2d(maps, g.view(1, 1, window, 1).expand(groups, 1, window, 1), groups=groups)
    maps = F.conv2d(maps, g.view(1, 1, 1, window).expand(groups, 1, 1, window), groups=groups)
    mu_x, mu_y, e_xx, e_yy, e_xy = maps.split(channels, dim=1)  # each (B, C, H-w+1, W-w+1)

    var_x = e_xx - mu_x * mu_x
    var_y = e_yy - mu_y * mu_y
    cov_xy = e_xy - mu_x * mu_y
    c1 = (_K1 * data_range) ** 2
    c2 = (_K2 * data_range) ** 2
    numerator = (2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)
    denominator = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    return (numerator / denominator).flatten(1).mean(dim=1)
