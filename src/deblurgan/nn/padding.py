"""Padding an image to the size multiple a generator needs: one function for every caller.

Training's validation (:class:`deblurgan.training.GANModule`), the sample grids, the
:class:`deblurgan.inference.Deblurrer` and so ``deblur eval`` pad the same way, so a small image
scores the same in all of them.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["pad_to_multiple"]


def pad_to_multiple(image: Tensor, multiple: int) -> Tensor:
    """Pad the bottom and right of ``image`` up to height and width multiples of ``multiple``.

    Reflection padding, or replication along an axis shorter than or equal to its pad (where a
    reflection is undefined). Crop with ``padded[..., :H, :W]`` to undo.

    Args:
        image: ``(..., H, W)`` tensor.
        multiple: the size multiple, ``>= 1``.

    Shape:
        - image: ``(B, C, H, W)`` or ``(C, H, W)``
        - output: ``(..., ceil(H / m) * m, ceil(W / m) * m)``

    Example:
        >>> import torch
        >>> pad_to_multiple(torch.arange(6.0).view(1, 2, 3), 4)  # reflect W, replicate H
        tensor([[[0., 1., 2., 1.],
                 [3., 4., 5., 4.],
                 [3., 4., 5., 4.],
                 [3., 4., 5., 4.]]])
        >>> pad_to_multiple(torch.ones(1, 2, 2), 8).shape
        torch.Size([1, 8, 8])
    """
    if not isinstance(multiple, int) or multiple < 1:
        raise ValueError(f"multiple must be a positive int, got {multiple!r}")
    height, width = image.shape[-2:]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    squeeze = image.dim() == 3  # F.pad's reflect/replicate need a batch dimension
    padded = image.unsqueeze(0) if squeeze else image
    if pad_w:
        mode = "reflect" if pad_w < width else "replicate"
        padded = F.pad(padded, (0, pad_w, 0, 0), mode=mode)
    if pad_h:
        mode = "reflect" if pad_h < height else "replicate"
        padded = F.pad(padded, (0, 0, 0, pad_h), mode=mode)
    return padded.squeeze(0) if squeeze else padded
