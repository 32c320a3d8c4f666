"""Pixel content losses between the restored and the sharp image: L1, MSE and Charbonnier
(Charbonnier et al., 1994; the smooth L1 of LapSRN and MPRNet)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from deblurgan.losses.registries import CONTENT_LOSSES

__all__ = ["CharbonnierLoss", "L1Loss", "MSELoss"]


def _check_pair(restored: Tensor, sharp: Tensor, name: str) -> None:
    if restored.shape != sharp.shape:
        raise ValueError(
            f"{name}: restored and sharp must have the same shape, got "
            f"{tuple(restored.shape)} and {tuple(sharp.shape)}"
        )


@CONTENT_LOSSES.register("l1")
class L1Loss(nn.Module):
    """Mean absolute error over all elements.

    Shape:
        - restored, sharp: :math:`(B, C, H, W)` (any equal shapes)
        - output: scalar

    Example:
        >>> L1Loss()(torch.full((1, 3, 2, 2), 0.5), torch.zeros(1, 3, 2, 2))
        tensor(0.5000)
    """

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_pair(restored, sharp, "l1")
        return (restored - sharp).abs().mean()


@CONTENT_LOSSES.register("mse")
class MSELoss(nn.Module):
    """Mean squared error over all elements.

    Shape:
        - restored, sharp: :math:`(B, C, H, W)` (any equal shapes)
        - output: scalar

    Example:
        >>> MSELoss()(torch.full((1, 3, 2, 2), 0.5), torch.zeros(1, 3, 2, 2))
        tensor(0.2500)
    """

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_pair(restored, sharp, "mse")
        return (restored - sharp).square().mean()


@CONTENT_LOSSES.register("charbonnier")
class CharbonnierLoss(nn.Module):
    """Charbonnier loss ``mean(sqrt((restored - sharp)^2 + eps^2))``: L1 with a smooth minimum.

    Args:
        eps: the smoothing scale; below it the loss is quadratic, above it linear.

    Shape:
        - restored, sharp: :math:`(B, C, H, W)` (any equal shapes)
        - output: scalar

    Example:
        >>> CharbonnierLoss(eps=0.3)(torch.full((1, 1, 2, 2), 0.4), torch.zeros(1, 1, 2, 2))
        tensor(0.5000)
    """

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
            raise ValueError(f"charbonnier: eps must be a positive finite number, got {eps!r}")
        self.eps = float(eps)

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_pair(restored, sharp, "charbonnier")
        return torch.sqrt((restored - sharp).square() + self.eps**2).mean()

    def extra_repr(self) -> str:
        return f"eps={self.eps}"
