"""Which metrics score an image pair, how large the pair must be for each, and their network.

Part of the evaluation protocol of :mod:`deblurgan.inference.evaluation`: every entry of
:data:`deblurgan.metrics.METRICS` that applies. Metrics whose ``min_size`` an image does not
reach are skipped for that image, and ``lpips`` runs only with a network
(:func:`load_lpips_network`). Identical images score ``psnr``'s cap (``max_db``, 100 dB) and
SSIM 1, so a perfect method and the mean over a data set stay finite.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from deblurgan.inference.deblurrer import resolve_device
from deblurgan.metrics import METRICS, PairDistance, psnr

__all__ = [
    "PSNR_MAX_DB",
    "check_metrics",
    "load_lpips_network",
    "metric_min_size",
    "network_device",
    "score_pair",
]

#: The cap of :func:`deblurgan.metrics.psnr` (the score of identical images).
PSNR_MAX_DB = float(inspect.signature(psnr).parameters["max_db"].default)


def check_metrics(metrics: Sequence[str] | str | None, network: PairDistance | None) -> list[str]:
    """The metrics to score, in :data:`~deblurgan.metrics.METRICS` order.

    Args:
        metrics: names of :data:`~deblurgan.metrics.METRICS`, or ``None`` for all that apply
            (``lpips`` only with a network).
        network: the LPIPS network, if any.

    Raises:
        ValueError: an unknown name, or a metric that needs a network without one.

    Example:
        >>> check_metrics(["ssim", "psnr"], None)
        ['psnr', 'ssim']
    """
    if metrics is None:
        return [name for name in METRICS if network is not None or not METRICS[name].needs_network]
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; valid: {', '.join(METRICS)}")
    chosen = set(metrics)
    for name in chosen:
        if METRICS[name].needs_network and network is None:
            raise ValueError(f"metric {name!r} needs a network (LPIPS weights); none was given")
    return [name for name in METRICS if name in chosen]


def metric_min_size(name: str, network: PairDistance | None) -> int:
    """The smallest side metric ``name`` scores (with ``network``'s own minimum for LPIPS)."""
    size = METRICS[name].min_size
    if name == "lpips" and network is not None:
        size = max(size, int(getattr(network, "min_size", 0) or 0))
    return size


def network_device(network: PairDistance | None) -> torch.device | None:
    """The device of a network's parameters (where its inputs go), or ``None``."""
    if isinstance(network, nn.Module):
        first = next(iter(network.parameters()), None)
        if first is not None:
            return first.device
    return None


def score_pair(
    restored: Tensor,
    sharp: Tensor,
    metric_names: Sequence[str],
    *,
    network: PairDistance | None = None,
    device: torch.device | None = None,
) -> dict[str, float]:
    """Every metric of ``metric_names`` on one pair; network metrics run on ``device``.

    Shape:
        - restored, sharp: :math:`(1, 3, H, W)` in [0, 1]

    Example:
        >>> image = torch.full((1, 3, 16, 16), 0.5)
        >>> score_pair(image, image, ["psnr", "ssim"])
        {'psnr': 100.0, 'ssim': 1.0}
    """
    scores = {}
    for metric in metric_names:
        spec = METRICS[metric]
        if spec.needs_network:
            x, y = restored, sharp
            if device is not None:
                x, y = x.to(device), y.to(device)
            value = spec(x, y, network=network)
        else:
            value = spec(restored, sharp)
        scores[metric] = float(value.reshape(-1)[0])
    return scores


def load_lpips_network(
    net: str = "vgg",
    *,
    lin_weights: str | os.PathLike[str] | None = None,
    backbone_weights: str | os.PathLike[str] | None = None,
    device: str | torch.device = "auto",
) -> PairDistance | None:
    """The LPIPS network of the given weight files, else of the fetched weights, else ``None``.

    Args:
        net: the LPIPS trunk, ``"vgg"`` or ``"alex"``.
        lin_weights: the calibrated lin layers (``vgg.pth``); with ``backbone_weights``.
        backbone_weights: the ImageNet weights of the trunk.
        device: where the network runs (``"auto"``, ``"cpu"``, ``"cuda[:N]"``).

    Returns:
        :class:`~deblurgan.models.lpips.LPIPSNetwork` on ``device``, or ``None`` when no files
        are given and ``deblur weights fetch lpips`` has not been run.

    Raises:
        ValueError: an unknown trunk.

    Example:
        >>> load_lpips_network("squeeze")
        Traceback (most recent call last):
        ...
        ValueError: unknown LPIPS trunk 'squeeze'; valid: vgg, alex
    """
    from deblurgan.models.fetch import lpips_weight_files
    from deblurgan.models.lpips import LPIPSNetwork

    if lin_weights is not None:
        network = LPIPSNetwork(net, lin_weights=lin_weights, backbone_weights=backbone_weights)
    elif lpips_weight_files(net) is not None:
        network = LPIPSNetwork.pretrained(net)
    else:
        return None
    return network.to(resolve_device(device))
