"""How a generator runs: eager PyTorch, ``torch.compile``, or onnxruntime on an exported graph.

Each backend gives an ``nn.Module`` with the generator contract, so the same
:class:`~deblurgan.inference.Deblurrer` pads and tiles for all of them. ``channels_last`` stores
activations as ``(B, H, W, C)`` in memory, which oneDNN's convolutions prefer on many CPUs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn

from deblurgan.models.generator import arch_name, arch_spec, size_multiple

__all__ = [
    "BACKENDS",
    "CHANNELS_LAST_FASTER",
    "ONNX_BREAK_EVEN_FRAMES",
    "onnx_pays_off",
    "prepare_model",
]

BACKENDS = ("eager", "compile", "onnxruntime")

#: Frames of 1280x720 after which exporting an architecture to onnxruntime (export, parity check
#: and session start) is repaid by its faster frames, on a 2-thread CPU in fp32: ``deblur bench
#: -m NAME --backend eager --backend onnxruntime --threads 2`` (its "repaid after" note;
#: docs/performance.md). Measured 2026-12-05: lite_unet 586 -> 437 ms a frame for 4.8 s of
#: set-up (32 frames), fpn_mobilenet 1190 -> 530 ms for 15.8 s (24). Architectures not listed
#: were not measured, or onnxruntime does not pay there: nafnet ran 248 -> 241 ms after a 57 s
#: export (about 9,000 frames). ``--backend auto`` exports only what is listed here.
ONNX_BREAK_EVEN_FRAMES: dict[str, float] = {"lite_unet": 32.0, "fpn_mobilenet": 24.0}
#: Architectures that ran faster in channels-last memory format on the CPU, at no set-up cost
#: (``deblur bench -m NAME --channels-last both --threads 2``, docs/performance.md): lite_unet
#: 580 -> 414 ms at 1280x720 (1.4x). nafnet ran slower (240 -> 297 ms). ``--backend auto`` runs
#: these channels-last when it runs them eager on the CPU.
CHANNELS_LAST_FASTER: frozenset[str] = frozenset({"lite_unet"})
#: ``--backend auto`` asks for this many times the break-even work (a margin for other CPUs).
ONNX_AUTO_MARGIN = 2.0
_FRAME_720P_MEGAPIXELS = 1280 * 720 / 1e6


def onnx_pays_off(arch: str, megapixels: float) -> bool:
    """Whether exporting ``arch`` to onnxruntime is repaid within ``megapixels`` of work on the
    CPU, with :data:`ONNX_AUTO_MARGIN` to spare (:data:`ONNX_BREAK_EVEN_FRAMES`).

    Example:
        >>> onnx_pays_off("fpn_mobilenet", 100 * 0.9216), onnx_pays_off("fpn_mobilenet", 2.0)
        (True, False)
        >>> onnx_pays_off("nafnet", 1e6)  # measured: onnxruntime is no faster there
        False
    """
    frames = ONNX_BREAK_EVEN_FRAMES.get(arch)
    return frames is not None and megapixels >= ONNX_AUTO_MARGIN * frames * _FRAME_720P_MEGAPIXELS


class _ChannelsLast(nn.Module):
    """Feed the wrapped generator channels-last input (its weights were converted too)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.inner = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.size_multiple = size_multiple(model)
        self.arch_spec = {"name": arch_name(model), **arch_spec(model)}

    def forward(self, blurry: torch.Tensor) -> torch.Tensor:
        return self.inner(blurry.contiguous(memory_format=torch.channels_last)).contiguous()


def prepare_model(
    model: nn.Module | str | os.PathLike[str],
    backend: str = "eager",
    *,
    channels_last: bool = False,
    threads: int | None = None,
    onnx_size: tuple[int, int] = (320, 384),
) -> nn.Module:
    """The module that runs ``model`` on ``backend``.

    Args:
        model: a generator, or the path of an ``.onnx`` file (``backend="onnxruntime"`` only).
        backend: ``"eager"``; ``"compile"`` (``torch.compile``: the first call of each input
            size compiles, tens of seconds on a CPU); ``"onnxruntime"`` (a generator is
            exported first to a temporary file with :func:`~deblurgan.inference.export.
            export_onnx`, parity-checked).
        channels_last: channels-last memory format (eager and compile).
        threads: onnxruntime's intra-op threads.
        onnx_size: ``(height, width)`` traced when a generator is exported here.

    Example:
        >>> from deblurgan.models import build_generator
        >>> net = prepare_model(build_generator({"name": "resnet", "width": 4, "n_blocks": 1}),
        ...                     channels_last=True)
        >>> net(torch.rand(1, 3, 8, 8)).shape, net.size_multiple
        (torch.Size([1, 3, 8, 8]), 4)
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if backend == "onnxruntime":
        from deblurgan.inference.export import OnnxGenerator, export_onnx

        if isinstance(model, nn.Module):
            folder = Path(tempfile.mkdtemp(prefix="deblurgan-onnx-"))
            path = export_onnx(model, folder / "model.onnx", size=onnx_size).path
            generator = OnnxGenerator(path, threads=threads)
            path.unlink()
            folder.rmdir()
            return generator
        return OnnxGenerator(model, threads=threads)
    if not isinstance(model, nn.Module):
        raise ValueError(f"{os.fspath(model)}: an ONNX file runs only with backend onnxruntime")
    model = model.eval()
    if channels_last:
        model = _ChannelsLast(model)
    if backend == "compile":
        compiled = torch.compile(model)
        for name in ("size_multiple", "arch_spec"):  # read by Deblurrer and the commands
            if hasattr(model, name):
                setattr(compiled, name, getattr(model, name))
        return compiled  # type: ignore[return-value]
    return model
