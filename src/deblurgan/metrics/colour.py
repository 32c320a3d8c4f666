"""Colour shift: does a restoration change the colours of a photo, beyond its sharpness?

Deblurring moves light back to where it came from; it should not change the colour of a region,
add a cast, or bleed one colour into its neighbours. ``colour_shift`` compares the mean colour of
each block of ``block`` px (32) in two images: each block's mean in linear light (the average of
the light, which a blur or a deblur redistributes within about its own extent) is converted to
CIELAB (CIE 1976; sRGB primaries and D65 white, IEC 61966-2-1), and the distance of the two
chroma coordinates ``(a*, b*)``, without lightness, is averaged over the blocks. The unit is that
of Delta E*ab: about 2.3 is a just noticeable difference (Sharma and Trussell, "Digital color
imaging", IEEE TIP 1997). Light moved across a block's border by the blur itself changes the
means a little, so compare methods measured in the same run, against the same reference (the
blurry input, the sharp image, or a proxy such as MAXIM-3S's output). Not a published metric.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.blur import srgb_to_linear
from deblurgan.metrics._checks import check_pair

__all__ = ["COLOUR_BLOCK", "colour_shift", "lab_chroma"]

#: The side of the blocks whose mean colours are compared, and so the smallest image scored.
COLOUR_BLOCK = 32

# Linear sRGB to CIE XYZ (D65), IEC 61966-2-1, each row divided by the white point's X, Y, Z
# (0.95047, 1, 1.08883) so that grey maps to X = Y = Z.
_RGB_TO_XYZ_WHITE = (
    (0.4124564 / 0.95047, 0.3575761 / 0.95047, 0.1804375 / 0.95047),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339 / 1.08883, 0.1191920 / 1.08883, 0.9503041 / 1.08883),
)
_DELTA = 6.0 / 29.0


def _lab_f(t: Tensor) -> Tensor:
    cube_root = t.clamp_min(_DELTA**3) ** (1.0 / 3.0)
    return torch.where(t > _DELTA**3, cube_root, t / (3 * _DELTA**2) + 4.0 / 29.0)


def lab_chroma(light: Tensor) -> Tensor:
    """CIELAB ``(a*, b*)`` of linear-light sRGB values (D65).

    Shape:
        - light: :math:`(B, 3, H, W)`, linear RGB in [0, 1]
        - output: :math:`(B, 2, H, W)`

    Example:
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
        >>> [round(float(v), 1) for v in lab_chroma(red).flatten()]  # sRGB red: a* 80.1, b* 67.2
        [80.1, 67.2]
        >>> float(lab_chroma(torch.full((1, 3, 1, 1), 0.3)).abs().max()) < 1e-4  # grey
        True
    """
    matrix = torch.tensor(_RGB_TO_XYZ_WHITE, dtype=light.dtype, device=light.device)
    xyz = torch.einsum("ij,bjhw->bihw", matrix, light)
    fx, fy, fz = _lab_f(xyz).unbind(dim=1)
    return torch.stack([500.0 * (fx - fy), 200.0 * (fy - fz)], dim=1)


def colour_shift(restored: Tensor, reference: Tensor, *, block: int = COLOUR_BLOCK) -> Tensor:
    """The mean chroma distance (Delta E*ab without lightness) of the two images' block colours.

    Lower is better; 0 when every block has the same mean colour (whatever its sharpness).

    Args:
        restored: the images to score, sRGB in [0, 1].
        reference: the images to compare with, same shape.
        block: the side of the blocks (a trailing part under one block is left out).

    Shape:
        - restored, reference: :math:`(B, 3, H, W)`, H and W at least ``block``
        - output: :math:`(B,)`

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> photo = torch.rand(1, 3, 64, 64, generator=g)
        >>> blurred = F.avg_pool2d(F.pad(photo, (2, 2, 2, 2), mode="replicate"), 5, stride=1)
        >>> float(colour_shift(photo, photo)), float(colour_shift(blurred, photo)) < 1.0
        (0.0, True)
        >>> cast = photo * torch.tensor([1.0, 1.0, 0.8]).view(1, 3, 1, 1)  # less blue
        >>> float(colour_shift(cast, photo)) > 2.3
        True
    """
    check_pair(restored, reference, name="colour_shift", channels=(3,), min_size=block)
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"colour_shift: block must be a positive int, got {block!r}")
    means = [
        lab_chroma(F.avg_pool2d(srgb_to_linear(image.double()), block))
        for image in (restored, reference)
    ]
    distance = (means[0] - means[1]).square().sum(dim=1).sqrt()  # (B, H / block, W / block)
    return distance.mean(dim=(1, 2)).to(restored.dtype)
