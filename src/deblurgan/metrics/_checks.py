"""Input checks shared by the metrics."""

from __future__ import annotations

import torch
from torch import Tensor


def check_pair(restored: Tensor, sharp: Tensor, *, name: str) -> None:
    """Raise ``TypeError``/``ValueError`` unless both are same-shape float (B, C, H, W) tensors."""
    for label, value in (("restored", restored), ("sharp", sharp)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: {label} must be a torch.Tensor, got {type(value).__name__}")
        if not torch.is_floating_point(value):
            raise TypeError(f"{name}: {label} must be a floating-point tensor, got {value.dtype}")
        if value.ndim != 4:
            raise ValueError(
                f"{name}: {label} must have shape (B, C, H, W), got {tuple(value.shape)}"
            )
    if restored.shape != sharp.shape:
        raise ValueError(
            f"{name}: restored and sharp must have the same shape, got "
            f"{tuple(restored.shape)} and {tuple(sharp.shape)}"
        )
