"""A weighted sum of content losses built from a config mapping of registry names to weights,
applied to one output or, summed over scales, to the outputs of a multi-scale generator."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from deblurgan.losses.multiscale import as_scales, multiscale_loss
from deblurgan.losses.registries import CONTENT_LOSSES
from deblurgan.registry import UnknownNameError

__all__ = ["WeightedLoss"]


def _parse_term(
    label: str, spec: float | Mapping[str, Any]
) -> tuple[str, float, bool, dict[str, Any]]:
    """(registry name, weight, every scale?, constructor kwargs) of one term of the config."""
    if isinstance(spec, bool):
        raise TypeError(f"content loss {label!r}: weight must be a number, got {spec!r}")
    every_scale = True
    if isinstance(spec, (int, float)):
        name, weight, kwargs = label, spec, {}
    elif isinstance(spec, Mapping):
        kwargs = {str(k): v for k, v in spec.items()}
        weight = kwargs.pop("weight", 1.0)
        name = kwargs.pop("name", label)
        every_scale = kwargs.pop("multiscale", True)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise TypeError(f"content loss {label!r}: weight must be a number, got {weight!r}")
        if not isinstance(every_scale, bool):
            raise TypeError(
                f"content loss {label!r}: multiscale must be true or false, got {every_scale!r}"
            )
    else:
        raise TypeError(
            f"content loss {label!r}: expected a weight or a mapping with 'weight' and keyword "
            f"arguments, got {type(spec).__name__}"
        )
    if not math.isfinite(weight) or weight < 0:
        raise ValueError(
            f"content loss {label!r}: weight must be finite and non-negative, got {weight!r}"
        )
    if name not in CONTENT_LOSSES:
        raise UnknownNameError(
            f"unknown content loss {name!r}; valid names: {', '.join(CONTENT_LOSSES)}"
        )
    return str(name), float(weight), every_scale, kwargs


class WeightedLoss(nn.Module):
    """``sum_i w_i * loss_i(restored, sharp)`` over content losses named in a config.

    Each key of ``terms`` names a registered content loss (``l1``, ``mse``, ``charbonnier``,
    ``fft``, ``ssim``, ``edge``, ``perceptual``, ``lpips``, ...) and maps to its weight, or to a
    mapping with ``weight`` (default 1) plus keyword arguments for the loss. A mapping may also
    carry ``name`` to use one loss twice under two labels, and ``multiscale: false`` to apply the
    term to the finest output only (below). Terms are evaluated in the order given.

    ``restored`` may be the list of outputs of a multi-scale generator, coarse to fine, as its
    ``forward_multiscale`` returns them (MIMO-UNet, DeepDeblur): each term is then summed over the
    scales, each scale against ``sharp`` resized (bilinear) to its size, as MIMO-UNet trains
    (:func:`~deblurgan.losses.multiscale.multiscale_loss`); a term with ``multiscale: false``
    sees only the last (finest) output. ``parts`` stays keyed by term label.

    Args:
        terms: ``{"l1": 1.0}``, ``{"charbonnier": {"weight": 1.0, "eps": 1e-3}}``,
            ``{"l1": 1.0, "fft": 0.1}``, ``{"lpips": {"weight": 0.1, "multiscale": False}}``, ...

    Returns:
        ``(total, parts)``: the weighted sum (scalar, differentiable) and, for logging, each
        term's unweighted value (summed over scales), detached, keyed by its label.

    Shape:
        - restored: :math:`(B, C, H, W)`, or a sequence of :math:`(B, C, H_k, W_k)`
        - sharp: :math:`(B, C, H, W)`
        - total: scalar

    Example:
        >>> loss = WeightedLoss({"l1": 1.0, "mse": {"weight": 2.0}})
        >>> total, parts = loss(torch.full((1, 3, 2, 2), 0.5), torch.zeros(1, 3, 2, 2))
        >>> total, parts
        (tensor(1.), {'l1': tensor(0.5000), 'mse': tensor(0.2500)})
        >>> coarse, fine = torch.full((1, 3, 1, 1), 0.5), torch.full((1, 3, 2, 2), 0.5)
        >>> loss([coarse, fine], torch.zeros(1, 3, 2, 2))[1]  # each term summed over 2 scales
        {'l1': tensor(1.), 'mse': tensor(0.5000)}
    """

    def __init__(self, terms: Mapping[str, float | Mapping[str, Any]]) -> None:
        super().__init__()
        if not isinstance(terms, Mapping):
            raise TypeError(
                f"WeightedLoss terms must be a mapping of loss names to weights, got "
                f"{type(terms).__name__}"
            )
        if not terms:
            raise ValueError("WeightedLoss needs at least one term, e.g. {'l1': 1.0}")
        self.weights: dict[str, float] = {}
        self.every_scale: dict[str, bool] = {}
        self.losses = nn.ModuleDict()
        for label, spec in terms.items():
            if not isinstance(label, str) or not label or "." in label:
                raise ValueError(
                    f"content loss labels must be non-empty strings without '.', got {label!r}"
                )
            name, weight, every_scale, kwargs = _parse_term(label, spec)
            self.losses[str(label)] = CONTENT_LOSSES.build(name, **kwargs)
            self.weights[str(label)] = weight
            self.every_scale[str(label)] = every_scale

    def forward(
        self, restored: Tensor | Sequence[Tensor], sharp: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        scales = as_scales(restored)
        finest = scales[-1]
        total = torch.zeros((), dtype=finest.dtype, device=finest.device)
        parts: dict[str, Tensor] = {}
        for label, loss in self.losses.items():
            if isinstance(restored, Tensor):
                value = loss(restored, sharp)
            else:
                value = multiscale_loss(
                    loss, scales if self.every_scale[label] else scales[-1:], sharp
                )
            total = total + self.weights[label] * value
            parts[label] = value.detach()
        return total, parts

    def extra_repr(self) -> str:
        return ", ".join(
            f"{label}={weight:g}" + ("" if self.every_scale[label] else " (finest only)")
            for label, weight in self.weights.items()
        )
