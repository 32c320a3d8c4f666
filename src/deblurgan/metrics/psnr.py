"""Peak signal-to-noise ratio per image on (B, C, H, W) tensors, on RGB or on BT.601 luma."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from deblurgan.metrics._checks import check_choice, check_pair, check_positive, compute_dtype
from deblurgan.metrics._color import ycbcr_luma

__all__ = ["PSNRChannel", "psnr"]

PSNRChannel = Literal["rgb", "y"]


def psnr(
    restored: Tensor,
    sharp: Tensor,
    *,
    data_range: float = 1.0,
    max_db: float = 100.0,
    channel: PSNRChannel = "rgb",
    round_y: bool = False,
) -> Tensor:
    """PSNR in decibels of each image of a batch: ``10 log10(data_range^2 / MSE)``.

    The mean squared error is taken over channels and pixels of each image, as
    ``skimage.metrics.peak_signal_noise_ratio`` does for one image. Identical images (MSE 0)
    score ``max_db`` instead of infinity, so that averages over a data set stay finite.

    ``channel="y"`` scores the luma of MATLAB's ``rgb2ycbcr`` instead (BT.601:
    ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` for R, G, B in [0, 1], peak 255 on Y's 8-bit
    scale), as super-resolution papers and BasicSR's ``test_y_channel`` do. Y is not rounded
    unless ``round_y`` (MATLAB's ``rgb2ycbcr`` rounds it for uint8 input, i.e. when papers
    evaluate 8-bit files in MATLAB).

    Args:
        restored: the images to score.
        sharp: the reference images, same shape.
        data_range: the span of pixel values (1 for images in [0, 1], 255 for uint8 values).
        max_db: the cap on the score, reached by identical images.
        channel: ``"rgb"`` (every channel; any channel count) or ``"y"`` (RGB only).
        round_y: with ``channel="y"``, round Y to integers on its 8-bit scale first.

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
        >>> psnr(sharp + 0.5, sharp, channel="y")  # Y moves by 219 * 0.5 of its 255 span
        tensor([7.3425, 7.3425])
    """
    check_pair(restored, sharp, name="psnr")
    data_range = check_positive(data_range, name="psnr", label="data_range")
    if not (isinstance(max_db, (int, float)) and math.isfinite(max_db)):
        raise ValueError(f"psnr: max_db must be a finite number, got {max_db!r}")
    check_choice(channel, ("rgb", "y"), name="psnr", label="channel")
    if channel == "y" and restored.shape[1] != 3:
        raise ValueError(
            f"psnr: channel='y' needs RGB images (3 channels), got {restored.shape[1]} channels"
        )
    if not isinstance(round_y, bool):
        raise TypeError(f"psnr: round_y must be a bool, got {type(round_y).__name__}")
    if round_y and channel != "y":
        raise ValueError(f"psnr: round_y=True needs channel='y', got channel={channel!r}")
    dtype = compute_dtype(restored)
    x = restored.to(dtype)
    y = sharp.to(dtype)
    if channel == "y":
        # Y / 255 * data_range: the same peak (data_range) on the luma's 8-bit scale.
        x, y = ycbcr_luma(x, data_range), ycbcr_luma(y, data_range)
        if round_y:  # on the 8-bit scale, halves away from zero as MATLAB (Y > 0)
            step = data_range / 255.0
            x, y = torch.floor(x / step + 0.5) * step, torch.floor(y / step + 0.5) * step
    diff = x - y
    mse = diff.square().flatten(1).mean(dim=1)  # (B,)
    # mse == 0 gives +inf here, then the cap; clamp_min keeps log10 away from 0 / 0 warnings.
    score = 10.0 * torch.log10(data_range**2 / mse.clamp_min(torch.finfo(dtype).tiny))
    return score.clamp(max=max_db)
