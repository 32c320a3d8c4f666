"""Paired transforms that keep blurry and sharp aligned, seeded per item through a generator."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

import torch
from torch import Tensor

from deblurgan.io import rgb_to_grey

__all__ = [
    "JITTER_KEYS",
    "PairAugment",
    "crop_window",
    "item_generator",
    "item_seed",
    "random_colour_jitter_pair",
    "random_crop_pair",
    "random_flip_pair",
    "random_quarter_turns",
    "random_rot90_pair",
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


def random_rot90_pair(
    blurry: Tensor, sharp: Tensor, *, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Rotate both images by the same random multiple of 90 degrees.

    Square images take one of the four rotations with probability 1/4 each. A non-square image
    takes 0 or 180 degrees (a quarter turn would swap its height and width, and a batch of crops
    must keep one shape). Always draws exactly one number from ``generator``.

    Args:
        blurry: ``(..., H, W)``.
        sharp: ``(..., H, W)``, same height and width.
        generator: source of the rotation.

    Example:
        >>> x = torch.arange(4.0).view(1, 2, 2)
        >>> b, s = random_rot90_pair(x, x + 10, generator=torch.Generator().manual_seed(0))
        >>> bool(torch.equal(b + 10, s))
        True
    """
    _check_pair(blurry, sharp)
    turns = random_quarter_turns(*blurry.shape[-2:], generator=generator)
    if turns == 0:
        return blurry, sharp
    return torch.rot90(blurry, turns, dims=(-2, -1)), torch.rot90(sharp, turns, dims=(-2, -1))


def random_quarter_turns(height: int, width: int, *, generator: torch.Generator) -> int:
    """A random number of quarter turns that keeps a ``height x width`` image's shape.

    0-3 for a square image, 0 or 2 otherwise; always draws exactly one number.

    Example:
        >>> random_quarter_turns(4, 6, generator=torch.Generator().manual_seed(0)) in (0, 2)
        True
    """
    u = float(torch.rand(1, generator=generator, dtype=torch.float64))
    return min(int(u * 4), 3) if height == width else 2 * min(int(u * 2), 1)


#: The colour-jitter options and what each one scales.
JITTER_KEYS = ("brightness", "contrast", "saturation")


def _jitter_amount(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} jitter must be a number, got {type(value).__name__}")
    if not 0 <= value <= 1 or math.isnan(value):
        raise ValueError(
            f"{name} jitter must be in [0, 1] (a factor in [1 - x, 1 + x]), got {value}"
        )
    return float(value)


def random_colour_jitter_pair(
    blurry: Tensor,
    sharp: Tensor,
    *,
    generator: torch.Generator,
    brightness: float = 0.0,
    contrast: float = 0.0,
    saturation: float = 0.0,
) -> tuple[Tensor, Tensor]:
    """Change brightness, contrast and saturation of both images by the same random factors.

    Each factor is drawn uniformly from ``[1 - x, 1 + x]``; they apply in that order, each
    followed by clipping to [0, 1]: brightness scales the values, contrast scales them about the
    mean grey level of ``sharp`` (one number for both images, so both get the same affine
    change), saturation blends each pixel with its own grey level. Every step is the same
    function for both images, so the pair stays consistent; a disabled one (0) changes nothing.
    Always draws exactly three numbers from ``generator``.

    Args:
        blurry: ``(3, H, W)`` or ``(B, 3, H, W)`` RGB in [0, 1].
        sharp: the same shape.
        generator: source of the factors.
        brightness: amount of brightness jitter in [0, 1].
        contrast: amount of contrast jitter in [0, 1].
        saturation: amount of saturation jitter in [0, 1].

    Example:
        >>> grey = torch.full((3, 2, 2), 0.5)
        >>> b, s = random_colour_jitter_pair(grey, grey.clone(), brightness=0.5,
        ...                                  generator=torch.Generator().manual_seed(0))
        >>> bool(torch.equal(b, s)), bool((b != 0.5).all())
        (True, True)
    """
    if blurry.shape != sharp.shape or blurry.ndim not in (3, 4) or blurry.shape[-3] != 3:
        raise ValueError(
            "colour jitter needs two RGB images of one shape (3, H, W) or (B, 3, H, W), got "
            f"{tuple(blurry.shape)} and {tuple(sharp.shape)}"
        )
    amounts = [
        _jitter_amount("brightness", brightness),
        _jitter_amount("contrast", contrast),
        _jitter_amount("saturation", saturation),
    ]
    u = torch.rand(3, generator=generator, dtype=torch.float64).tolist()
    factors = [1 - a + 2 * a * x for a, x in zip(amounts, u, strict=True)]
    images = [blurry, sharp]
    if amounts[0]:
        images = [(image * factors[0]).clamp(0, 1) for image in images]
    if amounts[1]:
        mean = rgb_to_grey(images[1]).mean(dim=(-3, -2, -1), keepdim=True)
        images = [((image - mean) * factors[1] + mean).clamp(0, 1) for image in images]
    if amounts[2]:
        images = [
            ((image - rgb_to_grey(image)) * factors[2] + rgb_to_grey(image)).clamp(0, 1)
            for image in images
        ]
    return images[0], images[1]


class PairAugment:
    """The aligned augmentation of every paired dataset: crop, flips, quarter turns, colour.

    The steps run in that order with one generator; a disabled step draws no random numbers, so
    enabling a later step never changes the earlier ones (``crop_size`` and ``flip`` alone give
    exactly the crops and flips they always gave).

    Args:
        crop_size: side (or ``(height, width)``) of a random aligned crop; ``None`` keeps the
            whole image.
        flip: random left-right and up-down flips (:func:`random_flip_pair`).
        rot90: random quarter turns (:func:`random_rot90_pair`).
        jitter: colour jitter amounts ``{"brightness": x, "contrast": x, "saturation": x}``
            (any subset; see :func:`random_colour_jitter_pair`), or ``None``.

    Example:
        >>> augment = PairAugment(crop_size=4, flip=True, rot90=True, jitter={"brightness": 0.2})
        >>> x = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> b, s = augment(x, x.clone(), generator=torch.Generator().manual_seed(1))
        >>> tuple(b.shape), bool(torch.equal(b, s))
        ((3, 4, 4), True)
    """

    def __init__(
        self,
        *,
        crop_size: int | tuple[int, int] | None = None,
        flip: bool = False,
        rot90: bool = False,
        jitter: Mapping[str, float] | None = None,
    ) -> None:
        if crop_size is not None:
            try:
                height, width = _pair_size(crop_size)
            except (TypeError, ValueError):
                raise ValueError(
                    "crop_size must be a positive integer, a (height, width) pair or None, "
                    f"got {crop_size!r}"
                ) from None
            if not isinstance(crop_size, int):
                crop_size = (height, width)
        self.crop_size = crop_size
        self.flip = bool(flip)
        self.rot90 = bool(rot90)
        if jitter is not None and not isinstance(jitter, Mapping):
            raise TypeError(
                f"jitter must be a mapping {{brightness, contrast, saturation}} or None, "
                f"got {jitter!r}"
            )
        jitter = dict(jitter or {})
        unknown = sorted(set(jitter) - set(JITTER_KEYS))
        if unknown:
            raise ValueError(f"unknown jitter option(s) {unknown}; allowed: {list(JITTER_KEYS)}")
        self.jitter = {k: _jitter_amount(k, jitter[k]) for k in JITTER_KEYS if jitter.get(k)}

    @property
    def min_size(self) -> int | tuple[int, int] | None:
        """The smallest image the augmentation accepts (the crop size), or ``None``."""
        return self.crop_size

    @property
    def random(self) -> bool:
        """Whether any step is enabled (otherwise the images pass through unchanged)."""
        return self.crop_size is not None or self.flip or self.rot90 or bool(self.jitter)

    def __call__(
        self, blurry: Tensor, sharp: Tensor, *, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        """Apply the enabled steps to both images alike.

        Shape:
            - blurry, sharp: ``(3, H, W)`` (or ``(..., H, W)`` without colour jitter)
            - output: ``(3, crop_h, crop_w)``, or ``(3, H, W)`` without a crop
        """
        if self.crop_size is not None:
            blurry, sharp = random_crop_pair(blurry, sharp, self.crop_size, generator=generator)
        if self.flip:
            blurry, sharp = random_flip_pair(blurry, sharp, generator=generator)
        if self.rot90:
            blurry, sharp = random_rot90_pair(blurry, sharp, generator=generator)
        if self.jitter:
            blurry, sharp = random_colour_jitter_pair(
                blurry, sharp, generator=generator, **self.jitter
            )
        return blurry, sharp

    def __repr__(self) -> str:
        return (
            f"PairAugment(crop_size={self.crop_size!r}, flip={self.flip}, rot90={self.rot90}, "
            f"jitter={self.jitter!r})"
        )
