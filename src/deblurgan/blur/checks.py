"""Argument checks shared by the blur models, the datasets and the losses: one of each."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["check_generator", "check_range"]


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
