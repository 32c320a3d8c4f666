"""Multi-scale content losses (MIMO-UNet, Cho et al., ICCV 2021; DeepDeblur, Nah et al., CVPR 2017):
one loss summed over a generator's outputs, coarse to fine, each against the sharp image resized
to its size.

A multi-scale generator's ``forward_multiscale(blurry)`` returns the list of outputs (MIMO-UNet:
1/4, 1/2 and full size); :class:`MultiScaleLoss` and :class:`~deblurgan.losses.WeightedLoss` take
that list where a single-output generator gives one tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["RESIZE_MODES", "MultiScaleLoss", "as_scales", "multiscale_loss"]

RESIZE_MODES = ("bilinear", "bicubic", "area", "nearest")
"""Modes of :func:`torch.nn.functional.interpolate` allowed for resizing the sharp image."""


def as_scales(restored: Tensor | Sequence[Tensor]) -> list[Tensor]:
    """The outputs as a non-empty list: a tensor becomes a one-element list.

    Raises:
        TypeError: not a tensor or a sequence of tensors.
        ValueError: an empty sequence.

    Example:
        >>> import torch
        >>> len(as_scales(torch.zeros(1, 3, 4, 4))), len(as_scales((torch.zeros(1), torch.ones(1))))
        (1, 2)
    """
    if isinstance(restored, Tensor):
        return [restored]
    if isinstance(restored, (str, bytes)) or not isinstance(restored, Sequence):
        raise TypeError(
            f"restored must be a tensor or a sequence of tensors (coarse to fine), got "
            f"{type(restored).__name__}"
        )
    scales = list(restored)
    if not scales:
        raise ValueError("restored is an empty sequence; expected at least one output")
    for index, item in enumerate(scales):
        if not isinstance(item, Tensor):
            raise TypeError(f"restored[{index}] must be a tensor, got {type(item).__name__}")
    return scales


def _size(image: Tensor) -> tuple[int, int]:
    if image.ndim < 2:
        raise ValueError(f"an output of shape {tuple(image.shape)} has no (H, W) size")
    return int(image.shape[-2]), int(image.shape[-1])


def _resize(sharp: Tensor, size: tuple[int, int], mode: str) -> Tensor:
    if tuple(sharp.shape[-2:]) == size:
        return sharp
    if sharp.ndim != 4:
        raise ValueError(
            f"cannot resize a sharp image of shape {tuple(sharp.shape)} to {size}; "
            f"expected (B, C, H, W)"
        )
    # MIMO-UNet: F.interpolate(label, scale_factor=0.5 / 0.25, mode="bilinear"), i.e.
    # align_corners=False and no antialiasing; with sizes that divide exactly, the same result.
    align = False if mode in ("bilinear", "bicubic") else None
    return F.interpolate(sharp, size=size, mode=mode, align_corners=align)


def multiscale_loss(
    loss: Callable[[Tensor, Tensor], Tensor],
    restored: Tensor | Sequence[Tensor],
    sharp: Tensor,
    *,
    mode: str = "bilinear",
) -> Tensor:
    """``sum_k loss(restored[k], resize(sharp, size of restored[k]))``.

    A single tensor is one scale: ``loss(restored, sharp)`` when the sizes agree.

    Args:
        loss: a content loss ``(restored, sharp) -> scalar``.
        restored: one output or the outputs of every scale (any order; coarse to fine by
            convention).
        sharp: the full-size sharp image.
        mode: how the sharp image is resized (:data:`RESIZE_MODES`; MIMO-UNet: bilinear).

    Shape:
        - restored: :math:`(B, C, H_k, W_k)` each; sharp: :math:`(B, C, H, W)`
        - output: scalar

    Example:
        >>> import torch
        >>> sharp = torch.zeros(1, 3, 8, 8)
        >>> outs = [torch.ones(1, 3, 4, 4), torch.full((1, 3, 8, 8), 0.5)]
        >>> multiscale_loss(lambda r, s: (r - s).abs().mean(), outs, sharp)
        tensor(1.5000)
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize mode must be one of {', '.join(RESIZE_MODES)}, got {mode!r}")
    scales = as_scales(restored)
    total = loss(scales[0], _resize(sharp, _size(scales[0]), mode))
    for output in scales[1:]:
        total = total + loss(output, _resize(sharp, _size(output), mode))
    return total


class MultiScaleLoss(nn.Module):
    """Apply one content loss at every output scale and sum, as MIMO-UNet trains its outputs.

    MIMO-UNet (chosj95/MIMO-UNet, ``train.py``) computes ``l1 + l2 + l3`` and ``f1 + f2 + f3``
    over its 1/4, 1/2 and full-size outputs against the sharp image downsampled with
    ``F.interpolate(..., mode="bilinear")``: an unweighted sum, which this reproduces.

    Args:
        loss: the content loss to apply at each scale (e.g. ``CONTENT_LOSSES.build("l1")``).
        mode: how the sharp image is resized to each output (:data:`RESIZE_MODES`).

    Shape:
        - restored: :math:`(B, C, H, W)` or a sequence of :math:`(B, C, H_k, W_k)`
        - sharp: :math:`(B, C, H, W)`
        - output: scalar

    Example:
        >>> import torch
        >>> from deblurgan.losses import L1Loss
        >>> loss = MultiScaleLoss(L1Loss())
        >>> sharp = torch.zeros(1, 3, 8, 8)
        >>> loss([torch.ones(1, 3, 2, 2), torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 8, 8)], sharp)
        tensor(2.)
    """

    def __init__(self, loss: nn.Module, *, mode: str = "bilinear") -> None:
        super().__init__()
        if not callable(loss):
            raise TypeError(f"MultiScaleLoss wraps a content loss module, got {loss!r}")
        if mode not in RESIZE_MODES:
            raise ValueError(f"resize mode must be one of {', '.join(RESIZE_MODES)}, got {mode!r}")
        self.loss = loss
        self.mode = mode

    def forward(self, restored: Tensor | Sequence[Tensor], sharp: Tensor) -> Tensor:
        return multiscale_loss(self.loss, restored, sharp, mode=self.mode)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"
