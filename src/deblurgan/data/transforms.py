"""Paired transforms that keep blurry and sharp aligned, seeded per item through a generator."""

from __future__ import annotations

import hashlib

import torch
from torch import Tensor

__all__ = [
    "crop_window",
    "item_generator",
    "item_seed",
    "random_crop_pair",
    "random_flip_pair",
]


def item_seed(seed: int, index: int) -> int:
    """A 63-bit seed mixed from ``(seed, index)``: neighbouring items get unrelated streams.

    The same pair always gives the same number, in every process (no Python ``hash``
    randomisation), so DataLoader workers reproduce the main process exactly.

    Example:
        >>> item_seed(0, 1) == item_seed(0, 1), item_seed(0, 1) == item_seed(1, 0)
        (True, False)
    """
    digest = hashlib.blake2b(f"{int(seed)}:{int(index)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def item_generator(seed: int, index: int) -> torch.Generator:
    """A fresh CPU generator seeded by :func:`item_seed` of ``(seed, index)``.

    Example:
        >>> a = torch.rand(2, generator=item_generator(0, 5))
        >>> torch.equal(a, torch.rand(2, generator=item_generator(0, 5)))
        True
    """
    return torch.Generator().manual_seed(item_seed(seed, index))


def _pair_size(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int) and not isinstance(size, bool):
        h = w = size
    elif isinstance(size, tuple | list) and len(size) == 2:
        h, w = int(size[0]), int(size[1])
    else:
        raise ValueError(f"crop size must be an int or a (height, width) pair, got {size!r}")
    if h < 1 or w < 1:
        raise ValueError(f"crop size must be positive, got {size!r}")
    return h, w


def crop_window(
    height: int, width: int, size: int | tuple[int, int], *, generator: torch.Generator
) -> tuple[int, int]:
    """Top-left corner of a uniformly random ``size`` window inside ``height x width``.

    Always draws exactly two numbers from ``generator``, whatever the sizes.

    Example:
        >>> crop_window(10, 10, 10, generator=torch.Generator().manual_seed(0))
        (0, 0)
    """
    crop_h, crop_w = _pair_size(size)
    if crop_h > height or crop_w > width:
        raise ValueError(f"crop {crop_h}x{crop_w} does not fit an image of {height}x{width}")
    u = torch.rand(2, generator=generator, dtype=torch.float64)
    top = min(int(u[0] * (height - crop_h + 1)), height - crop_h)
    left = min(int(u[1] * (width - crop_w + 1)), width - crop_w)
    return top, left


def _check_pair(blurry: Tensor, sharp: Tensor) -> None:
    if blurry.ndim < 2 or blurry.shape[-2:] != sharp.shape[-2:]:
        raise ValueError(
            f"blurry and sharp must share their height and width, got {tuple(blurry.shape)} "
            f"and {tuple(sharp.shape)}"
        )


def random_crop_pair(
    blurry: Tensor, sharp: Tensor, size: int | tuple[int, int], *, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Crop the same random window from both images.

    Args:
        blurry: ``(..., H, W)``.
        sharp: ``(..., H, W)``, same height and width.
        size: crop side, or ``(height, width)``.
        generator: source of the window position.

    Returns:
        ``(blurry, sharp)`` cropped to ``size`` (views, not copies).

    Example:
        >>> x = torch.arange(16.0).view(1, 4, 4)
        >>> b, s = random_crop_pair(x, x + 100, 2, generator=torch.Generator().manual_seed(0))
        >>> bool(torch.equal(b + 100, s)), tuple(b.shape)
        (True, (1, 2, 2))
    """
    _check_pair(blurry, sharp)
    crop_h, crop_w = _pair_size(size)
    height, width = blurry.shape[-2:]
    top, left = crop_window(height, width, (crop_h, crop_w), generator=generator)
    window = (..., slice(top, top + crop_h), slice(left, left + crop_w))
    return blurry[window], sharp[window]


def random_flip_pair(
    blurry: Tensor,
    sharp: Tensor,
    *,
    generator: torch.Generator,
    horizontal: bool = True,
    vertical: bool = True,
) -> tuple[Tensor, Tensor]:
    """Flip both images left-right and/or up-down, each with probability 1/2.

    Always draws exactly two numbers from ``generator`` (even for disabled flips), so switching a
    flip off does not change the other random choices of an item.

    Args:
        blurry: ``(..., H, W)``.
        sharp: ``(..., H, W)``, same height and width.
        generator: source of the coin flips.
        horizontal: allow left-right flips.
        vertical: allow up-down flips.

    Example:
        >>> x = torch.arange(4.0).view(1, 2, 2)
        >>> b, s = random_flip_pair(x, x.clone(), generator=torch.Generator().manual_seed(1))
        >>> bool(torch.equal(b, s))
        True
    """
    _check_pair(blurry, sharp)
    coins = torch.rand(2, generator=generator, dtype=torch.float64)
    dims = []
    if horizontal and coins[0] < 0.5:
        dims.append(-1)
    if vertical and coins[1] < 0.5:
        dims.append(-2)
    if dims:
        return blurry.flip(dims), sharp.flip(dims)
    return blurry, sharp
