"""ONNX export of generators with dynamic height and width, and an onnxruntime-backed generator.

:func:`export_onnx` tries PyTorch's dynamo-based exporter (``torch.export``) first and the legacy
TorchScript-based one where it fails, then checks the exported graph against PyTorch with
onnxruntime on a random image of *another* size than the one traced, so that a graph which only
holds at the traced size is caught. :class:`OnnxGenerator` wraps an exported file as an
``nn.Module`` with the generator contract (``forward``, ``size_multiple``), so
:class:`~deblurgan.inference.Deblurrer` pads and tiles for it exactly as for PyTorch models.

The batch dimension is exported as 1 (instance normalisation cannot be exported for a symbolic
batch by the legacy exporter); :class:`OnnxGenerator` runs a batch one image at a time.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from deblurgan.io.atomic import atomic_write
from deblurgan.models.generator import arch_name, arch_spec, size_multiple

__all__ = ["EXPORTERS", "ExportError", "ExportResult", "OnnxGenerator", "export_onnx"]

logger = logging.getLogger(__name__)

EXPORTERS = ("auto", "dynamo", "legacy")
#: Parity tolerance against PyTorch (images in [0, 1]).
TOLERANCE = 1e-3
_OPSET = 18


class ExportError(ValueError):
    """The model cannot be exported, or its exported graph disagrees with PyTorch."""


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_onnx` wrote: the file, the exporter that worked, the parity check."""

    path: Path
    exporter: str
    max_abs_diff: float
    traced_size: tuple[int, int]
    checked_size: tuple[int, int]


def _import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError(
            f"running ONNX models needs onnxruntime: pip install 'deblurgan[onnx]' ({exc})"
        ) from exc
    return onnxruntime


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _operator(message: str) -> str:
    """The operator an exporter names in its error, or the error's first line."""
    message = message.split("Torch IR graph at exception")[0]
    for pattern in (
        r"Occurred when translating ([A-Za-z_0-9]+)",
        r"running ([A-Za-z]+) node",
        r"(aten[:.]{1,2}[A-Za-z_0-9.]+)",
        r"ONNX export of ([A-Za-z_ ]+?)(?: for| is| in|\.|$)",
        r"operator[: ]+'?([A-Za-z_:.0-9]+)",
    ):
        found = re.search(pattern, message)
        if found:
            return found.group(1).strip()
    return " ".join(message.split())[:160]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporters print progress, warnings and whole graphs on the process's stdout/stderr
    (partly from C++): send file descriptors 1 and 2 to a temporary file, kept in the log."""
    import sys
    import tempfile

    with tempfile.TemporaryFile(mode="w+b") as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
        sink.seek(0)
        text = sink.read(20000).decode("utf-8", "replace")
        if text.strip():
            logger.debug("exporter output: %s", text)


def _export(model: nn.Module, example: Tensor, exporter: str) -> bytes:
    buffer = io.BytesIO()
    with _quiet():
        if exporter == "dynamo":
            dims = {2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
            program = torch.onnx.export(
                model,
                (example,),
                dynamo=True,
                dynamic_shapes=(dims,),
                input_names=["blurry"],
                output_names=["restored"],
                opset_version=_OPSET,
                optimize=True,
                verbose=False,
            )
            if program is None:
                raise RuntimeError("the dynamo exporter returned no program")
            program.save(buffer)  # type: ignore[arg-type]
        else:
            axes = {2: "height", 3: "width"}
            torch.onnx.export(
                model,
                (example,),
                buffer,  # type: ignore[arg-type]
                dynamo=False,
                input_names=["blurry"],
                output_names=["restored"],
                dynamic_axes={"blurry": axes, "restored": axes},
                opset_version=17,
            )
    return buffer.getvalue()


def _metadata(data: bytes, props: dict[str, str]) -> bytes:
    import onnx

    proto = onnx.load_from_string(data)
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return bytes(proto.SerializeToString())


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    exporter: str = "auto",
    size: tuple[int, int] = (320, 384),
    seed: int = 0,
    tolerance: float = TOLERANCE,
) -> ExportResult:
    """Export a generator to ONNX (dynamic height and width) and check it against PyTorch.

    Args:
        model: a generator (``forward(blurry) -> restored``); its ``size_multiple`` and
            ``arch_spec`` are stored in the file's metadata.
        path: the ``.onnx`` file to write (atomically; only after the parity check passed).
        exporter: ``"dynamo"``, ``"legacy"`` (TorchScript) or ``"auto"`` (dynamo, then legacy
            where dynamo fails or its graph disagrees).
        size: ``(height, width)`` traced, rounded up to ``size_multiple``. The parity check runs
            at a size 1/4 larger in each direction. Models whose graph depends on the size (such
            as NAFNet's local statistics beyond its training crop) hold for sizes that take the
            same branches as the traced one: trace above the training crop size.
        seed: seeds the random images.
        tolerance: the largest absolute difference allowed, for outputs in [0, 1].

    Returns:
        The written file, the exporter used and the measured difference.

    Raises:
        ImportError: onnx or onnxruntime missing (``pip install 'deblurgan[onnx]'``).
        ExportError: no exporter can express the model (the message names the operator), or
            the graph's output differs from PyTorch's by more than ``tolerance``.

    Example:
        >>> import tempfile
        >>> from deblurgan.models import build_generator
        >>> net = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
        >>> result = export_onnx(net, Path(tempfile.mkdtemp()) / "r.onnx", exporter="legacy",
        ...                      size=(32, 40))
        >>> result.exporter, result.max_abs_diff < 1e-3, result.checked_size
        ('legacy', True, (40, 52))
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"unknown exporter {exporter!r}; valid: {', '.join(EXPORTERS)}")
    ort = _import_onnxruntime()
    multiple = size_multiple(model)
    height, width = (_round_up(v, multiple) for v in size)
    check = (_round_up(height + height // 4, multiple), _round_up(width + width // 4, multiple))
    generator = torch.Generator().manual_seed(seed)
    example = torch.rand(1, 3, height, width, generator=generator)
    probe = torch.rand(1, 3, *check, generator=generator)
    model = model.eval().cpu()
    with torch.no_grad():
        expected = model(probe).float()
    spec = {"name": arch_name(model), **arch_spec(model)}
    props = {
        "deblurgan.size_multiple": str(multiple),
        "deblurgan.arch": json.dumps(spec, sort_keys=True, default=str),
    }
    problems: list[str] = []
    order = ("dynamo", "legacy") if exporter == "auto" else (exporter,)
    for name in order:
        try:
            data = _export(model, example, name)
        except Exception as exc:  # each exporter fails in its own way; the next one may work
            problems.append(f"{name}: {_operator(str(exc))}")
            logger.info("%s exporter failed: %s", name, exc)
            continue
        try:
            session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
            (got,) = session.run(None, {session.get_inputs()[0].name: probe.numpy()})
            diff = float((torch.from_numpy(got).float() - expected).abs().max())
        except Exception as exc:  # a graph that only holds at the traced size fails here
            problems.append(
                f"{name}: onnxruntime cannot run it at {check[0]}x{check[1]} "
                f"({_operator(str(exc))})"
            )
            continue
        if not diff <= tolerance:
            problems.append(f"{name}: max abs difference {diff:.3g} > {tolerance:g}")
            continue
        payload = _metadata(data, props)
        target = atomic_write(path, lambda file: file.write(payload))  # noqa: B023 (returns now)
        return ExportResult(target, name, diff, (height, width), check)
    raise ExportError(f"cannot export {spec.get('name', '?')} to ONNX: {'; '.join(problems)}")


class OnnxGenerator(nn.Module):
    """An exported generator run by onnxruntime, shaped like a PyTorch generator.

    ``size_multiple`` and ``arch_spec`` come from the file's metadata (written by
    :func:`export_onnx`), so :class:`~deblurgan.inference.Deblurrer` pads and tiles as for the
    PyTorch model. Inputs are run one image at a time (the graph's batch is 1).

    Args:
        path: an ``.onnx`` file.
        providers: onnxruntime execution providers; default CUDA where onnxruntime-gpu has it,
            then CPU.
        threads: intra-op threads (``None``: onnxruntime's choice).

    Shape:
        - blurry: ``(B, 3, H, W)`` float32, H and W multiples of ``size_multiple``
        - output: same shape, on the input's device

    Example:
        >>> import tempfile
        >>> from deblurgan.models import build_generator
        >>> net = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
        >>> path = export_onnx(net, Path(tempfile.mkdtemp()) / "r.onnx", exporter="legacy",
        ...                    size=(32, 32)).path
        >>> onnx_net = OnnxGenerator(path)
        >>> x = torch.rand(2, 3, 24, 36)
        >>> bool((onnx_net(x) - net(x)).abs().max() < 1e-3), onnx_net.size_multiple
        (True, 4)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        providers: list[str] | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__()
        ort = _import_onnxruntime()
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: no such ONNX file")
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        available = ort.get_available_providers()
        wanted = providers or ["CUDAExecutionProvider", "CPUExecutionProvider"]
        chosen = [p for p in wanted if p in available] or ["CPUExecutionProvider"]
        try:
            self.session = ort.InferenceSession(os.fspath(path), options, providers=chosen)
        except Exception as exc:
            raise ValueError(f"{path}: not an ONNX model onnxruntime can load ({exc})") from exc
        meta = self.session.get_modelmeta().custom_metadata_map
        self.size_multiple = int(meta.get("deblurgan.size_multiple", "1"))
        self.arch_spec: dict[str, Any] = json.loads(meta.get("deblurgan.arch", "{}")) or {
            "name": path.stem
        }
        self.arch_spec = {**self.arch_spec, "name": f"{self.arch_spec.get('name', '?')}, onnx"}
        self.input_name = self.session.get_inputs()[0].name
        self.providers = self.session.get_providers()

    def forward(self, blurry: Tensor) -> Tensor:
        outputs = []
        for image in blurry.detach().float().cpu().numpy():
            (restored,) = self.session.run(None, {self.input_name: image[None]})
            outputs.append(torch.from_numpy(restored))
        return torch.cat(outputs).to(blurry.device)
