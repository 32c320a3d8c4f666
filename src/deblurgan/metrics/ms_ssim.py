"""Multi-scale SSIM (Wang, Simoncelli and Bovik, Asilomar 2003), as Wang's ``msssim.m``.

At each of five scales the images are compared by SSIM's contrast-structure term ``cs`` (the
first four) or by the full SSIM (the last, which adds luminance), each the mean of its map over
the 'valid' windows, and the scores are combined as ``prod_j cs_j^w_j * ssim_5^w_5`` with the
paper's weights. Between scales both images are averaged over 2 x 2 blocks and subsampled by 2,
``imfilter(im, ones(2)/4, 'symmetric', 'same')`` then ``im(1:2:end, 1:2:end)``: an odd side
repeats its last row or column and rounds up, ``ceil(n / 2)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.metrics._checks import check_pair, check_positive, compute_dtype
from deblurgan.metrics.ssim import gaussian_window, ssim_maps

__all__ = ["MS_SSIM_WEIGHTS", "ms_ssim", "ms_ssim_min_size"]

#: Per-scale exponents, fine to coarse (Wang, Simoncelli and Bovik, 2003, and ``msssim.m``).
MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim_min_size(window: int = 11, scales: int = len(MS_SSIM_WEIGHTS)) -> int:
    """The smallest side that leaves a full ``window`` at the coarsest of ``scales`` scales.

    Each 2x downsampling maps a side ``n`` to ``ceil(n / 2)``, so after ``s - 1`` of them the
    side is ``ceil(n / 2^(s-1))``, which is at least ``window`` exactly when
    ``n >= (window - 1) 2^(s-1) + 1``: 161 for the default 11 taps and 5 scales. (``msssim.m``
    itself refuses sides below ``window * 2^(s-1) = 176``, a stricter check than its arithmetic
    needs; pytorch-msssim asks for more than 160.)

    Example:
        >>> ms_ssim_min_size()
        161
    """
    return (window - 1) * 2 ** (scales - 1) + 1


def _downsample(image: Tensor) -> Tensor:
    """2x2 block means with the last row/column repeated on odd sides: ``ceil(n / 2)`` out."""
    height, width = image.shape[-2:]
    if height % 2 or width % 2:
        image = F.pad(image, (0, width % 2, 0, height % 2), mode="replicate")
    return F.avg_pool2d(image, kernel_size=2)


def ms_ssim(
    restored: Tensor,
    sharp: Tensor,
    *,
    data_range: float = 1.0,
    window: int = 11,
    sigma: float = 1.5,
    weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
) -> Tensor:
    """MS-SSIM of each image of a batch, computed per channel and averaged over channels.

    Negative ``cs`` (or final SSIM) values, which the product of fractional powers cannot take
    (``msssim.m`` would return a complex number), are clamped to 0 before the powers, as
    pytorch-msssim does (its ``relu``): an image whose structure is anti-correlated with the
    reference at some scale then scores 0. Clamping happens per image and channel, on the mean
    of each map.

    Args:
        restored: the images to score.
        sharp: the reference images, same shape.
        data_range: the span of pixel values (1 for images in [0, 1]).
        window: the side of the Gaussian window, odd.
        sigma: the standard deviation of the Gaussian window, in pixels.
        weights: one exponent per scale, fine to coarse; their count sets the scales.

    Returns:
        One MS-SSIM per image in [0, 1], float32 (float64 for float64 inputs).

    Shape:
        - restored, sharp: :math:`(B, C, H, W)`, ``C`` 1 or 3,
          ``H, W >= ms_ssim_min_size(window, len(weights))`` (161 by default)
        - output: :math:`(B,)`

    Example:
        >>> sharp = torch.rand(2, 3, 161, 170, generator=torch.Generator().manual_seed(0))
        >>> ms_ssim(sharp, sharp)
        tensor([1., 1.])
        >>> bool((ms_ssim(sharp * 0.8, sharp) < 1).all())
        True
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 1 or window % 2 == 0:
        raise ValueError(f"ms_ssim: window must be an odd positive integer, got {window!r}")
    sigma = check_positive(sigma, name="ms_ssim", label="sigma")
    data_range = check_positive(data_range, name="ms_ssim", label="data_range")
    if not weights or any(
        isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0 for w in weights
    ):
        raise ValueError(
            "ms_ssim: weights must be a non-empty sequence of non-negative numbers, "
            f"got {weights!r}"
        )
    check_pair(restored, sharp, name="ms_ssim", channels=(1, 3))
    min_size = ms_ssim_min_size(window, len(weights))
    height, width = restored.shape[-2:]
    if height < min_size or width < min_size:
        raise ValueError(
            f"ms_ssim: {len(weights)} scales with a {window}-tap window need images of at least "
            f"{min_size}x{min_size} pixels, got {height}x{width}"
        )

    dtype = compute_dtype(restored)
    x = restored.to(dtype)
    y = sharp.to(dtype)
    g = gaussian_window(window, sigma, dtype=dtype, device=x.device)
    scores = []
    for scale in range(len(weights)):
        if scale > 0:
            x, y = _downsample(x), _downsample(y)
        ssim_map, cs_map = ssim_maps(x, y, g, data_range=data_range)
        last = scale == len(weights) - 1
        scores.append((ssim_map if last else cs_map).flatten(2).mean(dim=2))  # (B, C)
    stacked = torch.stack(scores).clamp_min(0)  # (S, B, C)
    exponents = torch.tensor(weights, dtype=dtype, device=x.device).view(-1, 1, 1)
    return stacked.pow(exponents).prod(dim=0).mean(dim=1)
