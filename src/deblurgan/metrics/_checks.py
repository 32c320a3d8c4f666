"""Input checks shared by the metrics."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def check_pair(
    restored: Tensor,
    sharp: Tensor,
    *,
    name: str,
    channels: tuple[int, ...] | None = None,
    min_size: int = 1,
) -> None:
    """Raise ``TypeError``/``ValueError`` unless both are same-shape float (B, C, H, W) tensors.

    Args:
        restored: the images to score.
        sharp: the reference images.
        name: the metric, for the messages.
        channels: the allowed channel counts (``None``: any).
        min_size: the smallest allowed height and width.
    """
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
    if channels is not None and restored.shape[1] not in channels:
        allowed = " or ".join(str(c) for c in channels)
        raise ValueError(
            f"{name}: images must have {allowed} channels, got {restored.shape[1]} "
            f"(shape {tuple(restored.shape)})"
        )
    height, width = restored.shape[-2:]
    if height < min_size or width < min_size:
        raise ValueError(
            f"{name}: images must be at least {min_size}x{min_size} pixels, got {height}x{width}"
        )


def check_positive(value: object, *, name: str, label: str) -> float:
    """``value`` as a float, or a ``ValueError`` unless it is a positive finite number."""
    if isinstance(value, bool) or not (
        isinstance(value, (int, float)) and math.isfinite(value) and value > 0
    ):
        raise ValueError(f"{name}: {label} must be a positive finite number, got {value!r}")
    return float(value)


def check_choice(value: object, allowed: tuple[str, ...], *, name: str, label: str) -> None:
    """A ``ValueError`` naming the allowed strings unless ``value`` is one of them."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name}: {label} must be one of {choices}, got {value!r}")


def compute_dtype(image: Tensor) -> torch.dtype:
    """float64 for float64 images, float32 for every other float dtype (half included)."""
    return torch.float64 if image.dtype == torch.float64 else torch.float32
