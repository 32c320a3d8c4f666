"""Peak signal-to-noise ratio, per image, on (B, C, H, W) tensors."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from deblurgan.metrics._checks import check_pair

__all__ = ["psnr"]


def psnr(
    restored: Tensor, sharp: Tensor, *, data_range: float = 1.0, max_db: float = 100.0
) -> Tensor:
    """PSNR in decibels of each image of a batch: ``10 log10(data_range^2 / MSE)``.

    The mean squared error is taken over channels and pixels of each image, as
    ``skimage.metrics.peak_signal_noise_ratio`` does for one image. Identical images (MSE 0)
    score ``max_db`` instead of infinity, so that averages over a data set stay finite.

    Args:
        restored: the images to score.
        sharp: the reference images, same shape.
        data_range: the span of pixel values (1 for images in [0, 1], 255 for uint8 values).
        max_db: the cap on the score, reached by identical images.

    Returns:
        One PSNR per image, float32 (float64 for float64 inputs).

    Shape:
        - restored, sharp: :math:`(B, C, H, W)`
        - output: :math:`(B,)`

    Example:
        >>> sharp = torch.zeros(2, 3, 4, 4)
        >>> psnr(sharp + 0.5, sharp)
        tensor([6.0206, 6.0206])
        >>> psnr(sharp, sharp)
        tensor([100., 100.])
    """
    check_pair(restored, sharp, name="psnr")
    if not (isinstance(data_range, (int, float)) and math.isfinite(data_range) and data_range > 0):
        raise ValueError(f"psnr: data_range must be a positive finite number, got {data_range!r}")
    if not (isinstance(max_db, (int, float)) and math.isfinite(max_db)):
        raise ValueError(f"psnr: max_db must be a finite number, got {max_db!r}")
    dtype = torch.float64 if restored.dtype == torch.float64 else torch.float32
    diff = restored.to(dtype) - sharp.to(dtype)
    mse = diff.square().flatten(1).mean(dim=1)  # (B,)
    # mse == 0 gives +inf here, then the cap; clamp_min keeps log10 away from 0 / 0 warnings.
    score = 10.0 * torch.log10(data_range**2 / mse.clamp_min(torch.finfo(dtype).tiny))
    return score.clamp(max=max_db)
