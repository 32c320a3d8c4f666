"""The generator contract: what every registered generator provides, and one place to read it.

A generator is an ``nn.Module`` mapping a blurry batch ``(B, 3, H, W)`` in [0, 1] to a restored
batch of the same shape. It may declare:

- ``size_multiple``: inputs must have sides divisible by it (the :class:`Deblurrer` pads to it);
  1 when not declared;
- ``forward_multiscale(blurry)``: every scale's output, coarse to fine (MIMO-UNet, DeepDeblur,
  MAXIM), which training supervises when ``optim.multiscale`` is on;
- ``arch_spec``: ``{"name": registered name, **settings}``, attached by
  :func:`deblurgan.models.build_generator`, which saving and exporting record;
- ``inference_settings`` (on the class): the names of settings that change how it runs but not
  its weights or training (nafnet's ``tlc``), which a resumed run or an export may change.

:class:`Generator` states this as a protocol; the functions below read it from any module (ours,
an exported ONNX adapter or a user's), so no other code looks the attributes up by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from torch import Tensor

__all__ = [
    "Generator",
    "arch_name",
    "arch_spec",
    "inference_settings",
    "multiscale_forward",
    "size_multiple",
]


@runtime_checkable
class Generator(Protocol):
    """A deblurring generator: (B, 3, H, W) in [0, 1] to the same shape, padded to a multiple."""

    size_multiple: int

    def __call__(self, blurry: Tensor) -> Tensor:
        """The restored batch."""
        ...


def size_multiple(model: object) -> int:
    """The side multiple ``model`` needs its inputs padded to (1 when it declares none).

    Raises:
        ValueError: it declares one that is not a positive int.

    Example:
        >>> from torch import nn
        >>> size_multiple(nn.Identity())
        1
    """
    value = getattr(model, "size_multiple", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"model.size_multiple must be a positive int, got {value!r}")
    return value


def arch_spec(model: object) -> dict[str, Any]:
    """``model``'s ``{"name": ..., **settings}`` (empty when it was not built by name)."""
    spec = getattr(model, "arch_spec", None)
    return dict(spec) if isinstance(spec, Mapping) else {}


def inference_settings(constructor: object) -> frozenset[str]:
    """The settings of a generator class (or module) that change inference but not the weights.

    Example:
        >>> from deblurgan.models.registries import GENERATORS
        >>> sorted(inference_settings(GENERATORS.get("nafnet")))
        ['tlc', 'train_size']
        >>> inference_settings(GENERATORS.get("lite_unet"))
        frozenset()
    """
    names = getattr(constructor, "inference_settings", ())
    return frozenset(names) if isinstance(names, (set, frozenset, tuple, list)) else frozenset()


def arch_name(model: object) -> str:
    """The registered name of ``model``'s architecture, else its class name.

    Example:
        >>> from deblurgan.models import build_generator
        >>> arch_name(build_generator({"name": "lite_unet", "width": 4, "blocks": 1}))
        'lite_unet'
    """
    name = arch_spec(model).get("name")
    return name if isinstance(name, str) else type(model).__name__


def multiscale_forward(model: object) -> Callable[[Tensor], list[Tensor]] | None:
    """``model.forward_multiscale`` when it has one (every scale's output), else ``None``."""
    method = getattr(model, "forward_multiscale", None)
    return method if callable(method) else None
