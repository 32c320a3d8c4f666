"""Model complexity: multiply-accumulate operations (MACs) counted with forward hooks.

One MAC is one multiplication and one addition (a "FLOP" in most deblurring papers' tables,
half a FLOP in others). Convolutions, transposed convolutions and linear layers are counted;
biases, normalisations, activations and element-wise sums are not, as in the usual counters
(thop, ptflops, fvcore). A module can add what hooks cannot see (the matrix products of
:class:`deblurgan.nn.SelfAttention2d`) by defining ``macs(x) -> int``. The model runs on the
``meta`` device when its parameters live there, so a 60 M-parameter network is counted at
1280x720 in milliseconds without allocating memory.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from deblurgan.models.generator import size_multiple
from deblurgan.models.registries import GENERATORS
from deblurgan.registry import UnknownNameError

__all__ = ["count_macs", "generator_macs", "module_macs"]

logger = logging.getLogger(__name__)


def module_macs(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> int:
    """MACs of one call of a single layer, from its input and output shapes.

    - ``Conv2d``: ``numel(output) * (C_in / groups) * k_h * k_w``;
    - ``ConvTranspose2d``: ``numel(input) * (C_out / groups) * k_h * k_w`` (each input value
      scatters one kernel slice);
    - ``Linear``: ``numel(output) * in_features``;
    - a module with a ``macs(x)`` method: what it returns; anything else: 0.

    Args:
        module: the layer.
        inputs: the positional inputs of the call (as a forward hook receives them).
        output: its output.

    Returns:
        The MAC count.

    Example:
        >>> conv = nn.Conv2d(4, 8, 3, padding=1, groups=2)
        >>> x = torch.zeros(1, 4, 5, 5)
        >>> module_macs(conv, (x,), conv(x))  # 8 * 25 outputs, 2 * 3 * 3 products each
        3600
    """
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return int(output.numel() * (module.in_channels // module.groups) * kh * kw)
    if isinstance(module, nn.ConvTranspose2d):
        kh, kw = module.kernel_size
        return int(inputs[0].numel() * (module.out_channels // module.groups) * kh * kw)
    if isinstance(module, nn.Linear):
        return int(output.numel() * module.in_features)
    extra = getattr(module, "macs", None)
    if callable(extra) and inputs and isinstance(inputs[0], Tensor):
        return int(extra(inputs[0]))
    return 0


def count_macs(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    device: str | torch.device | None = None,
) -> int:
    """Multiply-accumulates of one forward pass of ``model`` on a zero tensor.

    Every submodule is hooked (see :func:`module_macs`); a module called twice counts twice.
    The model runs in eval mode under ``torch.no_grad`` and gets its mode back afterwards.

    Args:
        model: any module taking one tensor.
        input_shape: the input's shape, batch included, e.g. ``(1, 3, 720, 1280)``.
        device: where the input is made; by default that of the model's first parameter
            (``meta`` for a model built under ``torch.device("meta")``), else the CPU.

    Returns:
        The MAC count.

    Raises:
        ValueError: an empty or non-positive ``input_shape``.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 1))
        >>> count_macs(net, (1, 3, 10, 10))  # 100 * (8 * 27 + 3 * 8)
        24000
    """
    shape = tuple(int(s) for s in input_shape)
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"input_shape must hold positive sizes, got {tuple(input_shape)!r}")
    if device is None:
        first = next(iter(model.parameters()), None)
        device = first.device if first is not None else torch.device("cpu")
    first_float = next((p for p in model.parameters() if p.is_floating_point()), None)
    dtype = first_float.dtype if first_float is not None else torch.float32
    total = 0

    def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        nonlocal total
        total += module_macs(module, inputs, output)

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(shape, dtype=dtype, device=device))
    finally:
        for handle in handles:
            handle.remove()
        for m, mode in modes.items():
            m.training = mode
    return total


def _round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)


def generator_macs(
    name: str,
    kwargs: Mapping[str, Any] | None = None,
    *,
    height: int = 720,
    width: int = 1280,
) -> int:
    """MACs of a registered generator on one ``height x width`` RGB image, padded as inference
    pads it (up to multiples of ``size_multiple``).

    The generator is built and run on the ``meta`` device. If its forward cannot run there,
    it is run on the CPU at a quarter of the size (also padded) and the count scaled by the ratio
    of padded pixel counts: exact for convolutional networks, an underestimate for global
    attention (which grows with the square of the pixels).

    Args:
        name: registered generator name.
        kwargs: its keyword arguments (defaults when None).
        height: image height in pixels.
        width: image width in pixels.

    Returns:
        The MAC count.

    Example:
        >>> generator_macs("resnet", {"width": 4, "n_blocks": 1}, height=8, width=8) > 0
        True
    """
    if name not in GENERATORS:
        raise UnknownNameError(f"unknown generator {name!r}; valid names: {', '.join(GENERATORS)}")
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be positive, got {height}x{width}")
    kwargs = dict(kwargs or {})
    with torch.device("meta"):
        model = GENERATORS.build(name, **kwargs)
    multiple = size_multiple(model)
    full = (_round_up(height, multiple), _round_up(width, multiple))
    try:
        return count_macs(model, (1, 3, *full))
    except (NotImplementedError, RuntimeError) as exc:
        logger.debug("%s does not run on the meta device (%s); counting on the CPU", name, exc)
    model = GENERATORS.build(name, **kwargs)
    small = (_round_up(max(1, height // 4), multiple), _round_up(max(1, width // 4), multiple))
    macs = count_macs(model, (1, 3, *small), device="cpu")
    return round(macs * (full[0] * full[1]) / (small[0] * small[1]))
