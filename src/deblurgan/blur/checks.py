"""Argument checks shared by the blur models, the datasets and the losses: one of each."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

__all__ = ["as_batch", "check_generator", "check_range"]


def check_range(
    name: str, value: Any, *, low: float, high: float = math.inf
) -> tuple[float, float]:
    """A fixed value or a ``(lo, hi)`` pair inside ``[low, high]``, as ``(lo, hi)`` floats.

    Example:
        >>> check_range("scale", [0.25, 1], low=0.0)
        (0.25, 1.0)
        >>> check_range("angle", 3, low=-180, high=180)
        (3.0, 3.0)
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        lo = hi = float(value)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes) and len(value) == 2:
        lo, hi = float(value[0]), float(value[1])
    else:
        raise ValueError(f"{name} must be a number or a (low, high) pair, got {value!r}")
    if not (low <= lo <= hi <= high) or math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"{name} must satisfy {low} <= low <= high <= {high}, got {value!r}")
    return lo, hi


def check_generator(generator: object, *, owner: str | None = None, optional: bool = False) -> Any:
    """``generator`` if it is a :class:`torch.Generator` (or ``None`` where ``optional``).

    Random draws take an explicit generator, never the global random state, so that a blur, a
    degradation or a loss is a function of its seed.
    """
    if isinstance(generator, torch.Generator) or (optional and generator is None):
        return generator
    where = f"{owner}: " if owner else ""
    wanted = "a torch.Generator or None" if optional else "a torch.Generator"
    raise TypeError(
        f"{where}generator must be {wanted}, got {generator!r} (no global random state is used)"
    )


def as_batch(images: object, name: str = "sharp") -> tuple[Tensor, bool]:
    """``(images as (B, C, H, W), whether a (C, H, W) image was given)``: undo with ``[0]``.

    Example:
        >>> batch, single = as_batch(torch.zeros(3, 4, 5))
        >>> tuple(batch.shape), single
        ((1, 3, 4, 5), True)
    """
    if not isinstance(images, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images)}")
    single = images.ndim == 3
    batch = images.unsqueeze(0) if single else images
    if batch.ndim != 4:
        raise ValueError(f"{name} must be (B, C, H, W) or (C, H, W), got {tuple(images.shape)}")
    return batch, single
