"""Shared blur types: a batch of blur kernels together with the parameters that made them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

__all__ = ["BlurSample", "KernelSampler"]


@dataclass
class BlurSample:
    """A batch of blur kernels and the random parameters that produced them.

    Args:
        kernels: ``(B, k, k)`` float32 kernels, non-negative, each summing to 1, with the centre of
            mass at the kernel centre (so blurring does not shift the image).
        params: named per-kernel parameters, each a tensor whose first dimension is ``B``.

    Example:
        >>> sample = BlurSample(torch.full((2, 3, 3), 1 / 9), {"length": torch.zeros(2)})
        >>> len(sample), sample.kernel_size
        (2, 3)
    """

    kernels: Tensor
    params: dict[str, Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kernels.ndim != 3 or self.kernels.shape[-1] != self.kernels.shape[-2]:
            raise ValueError(f"kernels must have shape (B, k, k), got {tuple(self.kernels.shape)}")
        batch = self.kernels.shape[0]
        for name, value in self.params.items():
            if value.ndim == 0 or value.shape[0] != batch:
                raise ValueError(
                    f"param {name!r} must have first dimension {batch}, got {tuple(value.shape)}"
                )

    def __len__(self) -> int:
        return int(self.kernels.shape[0])

    @property
    def kernel_size(self) -> int:
        """The side ``k`` of the square kernels."""
        return int(self.kernels.shape[-1])

    def to(self, device: torch.device | str) -> BlurSample:
        """A copy with kernels and params moved to ``device``."""
        return BlurSample(
            self.kernels.to(device), {k: v.to(device) for k, v in self.params.items()}
        )


@runtime_checkable
class KernelSampler(Protocol):
    """What a blur sampler provides: a kernel size and seeded batched sampling."""

    kernel_size: int

    def sample(self, batch: int, *, generator: torch.Generator) -> BlurSample:
        """Draw ``batch`` kernels using only ``generator`` for randomness."""
        ...
