"""Colour conversions that the metrics' reference implementations use (ITU-R BT.601, NTSC YIQ)."""

from __future__ import annotations

from torch import Tensor

from deblurgan.io.image import LUMA_WEIGHTS

# MATLAB rgb2ycbcr (ITU-R BT.601, studio swing): Y = 16 + 65.481 R + 128.553 G + 24.966 B for
# R, G, B in [0, 1], so Y spans [16, 235] on the 8-bit scale.
_YCBCR_Y = (65.481, 128.553, 24.966)
_YCBCR_Y_OFFSET = 16.0

# NTSC YIQ as FeatureSIM.m (Zhang et al., 2011) writes it; its Y row is the BT.601 luma.
_YIQ = (
    LUMA_WEIGHTS,
    (0.596, -0.274, -0.322),
    (0.211, -0.523, 0.312),
)


def _mix(image: Tensor, weights: tuple[float, float, float]) -> Tensor:
    r, g, b = image.unbind(dim=1)
    return (weights[0] * r + weights[1] * g + weights[2] * b).unsqueeze(1)


def ycbcr_luma(image: Tensor, data_range: float) -> Tensor:
    """BT.601 studio-swing luma of RGB in [0, L], rescaled to [0, L]: ``Y / 255 * L``.

    This is MATLAB's ``rgb2ycbcr`` Y for floating-point input, so a [0, 1] image gives Y in
    [16/255, 235/255]; no rounding (``rgb2ycbcr`` rounds only for integer input).

    Shape:
        - image: :math:`(B, 3, H, W)`; output: :math:`(B, 1, H, W)`
    """
    y = _mix(image, _YCBCR_Y)  # (B, 1, H, W), on the scale of the input
    return (y + _YCBCR_Y_OFFSET * data_range) / 255.0


def yiq(image: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The Y, I and Q planes of RGB (any scale, kept), each :math:`(B, 1, H, W)`."""
    y, i, q = (_mix(image, row) for row in _YIQ)
    return y, i, q


def grey(image: Tensor) -> Tensor:
    """One luma plane: BT.601 ``0.299 R + 0.587 G + 0.114 B``, or the single channel as is."""
    return image if image.shape[1] == 1 else _mix(image, _YIQ[0])
