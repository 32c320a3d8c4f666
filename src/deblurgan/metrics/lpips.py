"""LPIPS (Zhang, Isola, Efros, Shechtman and Wang, CVPR 2018) as a metric over a given network.

The network (``deblurgan.models.lpips.LPIPSNetwork`` or any look-alike) is passed in, so this
layer never imports models and never loads weights.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

from deblurgan.metrics._checks import check_pair

__all__ = ["PairDistance", "lpips"]


class PairDistance(Protocol):
    """A network mapping two (B, 3, H, W) batches in [0, 1] to B distances.

    It may return them as :math:`(B,)` or with singleton dimensions, e.g. :math:`(B, 1, 1, 1)`
    as the ``lpips`` package does.
    """

    def __call__(self, x: Tensor, y: Tensor, /) -> Tensor: ...


def lpips(restored: Tensor, sharp: Tensor, network: PairDistance) -> Tensor:
    """LPIPS distance of each image of a batch to its reference (lower is better).

    Runs ``network(restored, sharp)`` under ``torch.no_grad()`` and flattens its answer to one
    value per image. Nothing is moved or converted: the images and the network must already be
    on one device and in a dtype the network takes, and the network should be in eval mode
    (LPIPS's dropout would otherwise make the distance random).

    Args:
        restored: the images to score, RGB in [0, 1].
        sharp: the reference images, same shape.
        network: the LPIPS network, called as ``network(restored, sharp)``.

    Returns:
        One distance per image, in the network's output dtype, detached.

    Shape:
        - restored, sharp: :math:`(B, 3, H, W)`, H and W as large as the network needs
        - output: :math:`(B,)`

    Example:
        >>> def mean_abs(x, y):  # a stand-in with the LPIPS network's call signature
        ...     return (x - y).abs().mean(dim=(1, 2, 3), keepdim=True)
        >>> sharp = torch.zeros(2, 3, 8, 8)
        >>> lpips(sharp + 0.25, sharp, mean_abs)
        tensor([0.2500, 0.2500])
    """
    check_pair(restored, sharp, name="lpips", channels=(3,))
    if not callable(network):
        raise TypeError(
            f"lpips: network must be callable as network(restored, sharp), "
            f"got {type(network).__name__}"
        )
    with torch.no_grad():
        distances = network(restored, sharp)
    if not isinstance(distances, Tensor):
        raise TypeError(
            f"lpips: the network must return a torch.Tensor, got {type(distances).__name__}"
        )
    batch = restored.shape[0]
    if distances.ndim == 0 or distances.shape[0] != batch or distances.numel() != batch:
        raise ValueError(
            f"lpips: the network must return one distance per image, (B,) or (B, 1, 1, 1) with "
            f"B = {batch}, got shape {tuple(distances.shape)}"
        )
    return distances.reshape(batch)
