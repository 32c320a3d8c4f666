"""Inference speed of generators as ``deblur bench`` measures it: latency, memory, parameters, MACs.

One :func:`measure` call times one model on one backend at one size, in this process, through
:class:`~deblurgan.inference.Deblurrer` (padding included; tiling only above ``tile_size``):
``warmup`` untimed calls after the first (whose time, compilation included, is reported on its
own, as is the setup: the ONNX export for onnxruntime), then ``runs`` timed calls, synchronised
on CUDA. The peak memory is the rise of the
process's peak resident set size over its size before the first call on CPU (run each
measurement in a fresh process for it to be the model's own: ``deblur bench`` does), and
``torch.cuda.max_memory_allocated`` on CUDA. Backends other than eager are compared with eager
on the same input (``max_abs_diff``).
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from deblurgan.inference.backends import BACKENDS, prepare_model
from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.models.generator import arch_name, arch_spec
from deblurgan.models.weights import load_or_build_generator

__all__ = ["BASELINE", "BenchResult", "measure"]

#: The in-run baseline: DeblurGAN-v2's FPN-MobileNetV2 at its published width.
BASELINE = "fpn_mobilenet"


@dataclass
class BenchResult:
    """One measurement; times in seconds, memory in bytes. See the module docstring."""

    model: str
    arch: str
    backend: str
    memory_format: str
    device: str
    precision: str
    width: int
    height: int
    parameters: int
    macs: int | None
    setup_s: float
    first_call_s: float
    times_s: list[float]
    peak_memory_bytes: int
    max_abs_diff: float | None = None
    threads: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["median_s"] = self.median_s
        data["fps"] = 1 / self.median_s if self.median_s > 0 else None
        return data


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # Linux reports KiB


def _current_rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return _peak_rss_bytes()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    name: str,
    *,
    size: tuple[int, int] = (1280, 720),
    backend: str = "eager",
    channels_last: bool = False,
    device: str = "cpu",
    precision: str = "fp32",
    runs: int = 5,
    warmup: int = 1,
    threads: int | None = None,
    tile_size: int = 0,
    compare: bool = True,
) -> BenchResult:
    """Time model ``name`` on one ``(width, height)`` frame; see the module docstring.

    Args:
        name: see :func:`deblurgan.models.load_or_build_generator`.
        size: ``(width, height)``.
        backend: ``eager``, ``compile`` or ``onnxruntime`` (exported here, parity-checked).
        channels_last: channels-last memory format (eager and compile).
        device: ``cpu``, ``cuda``, ``cuda:N``.
        precision: ``fp32``, ``fp16`` (CUDA) or ``bf16``.
        runs: timed calls.
        warmup: untimed calls after the first.
        threads: torch (and onnxruntime) threads; ``None`` leaves the default.
        tile_size: tile side; 0 runs the whole frame at once.
        compare: for a backend other than eager, also run eager once for ``max_abs_diff``.

    Example:
        >>> r = measure("resnet", size=(16, 16), runs=2, warmup=0, compare=False)
        >>> len(r.times_s), r.parameters > 0, r.macs > 0
        (2, True, True)
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if threads is not None:
        torch.set_num_threads(threads)
    width, height = size
    model = load_or_build_generator(name).eval()
    spec = {"name": arch_name(model), **arch_spec(model)}
    arch = str(spec.pop("name"))
    parameters = sum(p.numel() for p in model.parameters())
    macs: int | None
    try:
        from deblurgan.models.complexity import generator_macs

        macs = generator_macs(arch, spec, height=height, width=width)
    except Exception:  # a MAC count is a bonus; an exotic layer must not stop the timing
        macs = None
    whole = max(width, height)
    tiles = (
        {"tile_size": tile_size, "tile_overlap": 32}
        if 0 < tile_size < whole
        else {
            "tile_size": whole,
            "tile_overlap": 0,
        }
    )
    blurry = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    notes: list[str] = []
    reference = None
    if compare and (backend != "eager" or channels_last):
        reference = Deblurrer(model, device=device, precision=precision, **tiles)(blurry)
    setup = time.perf_counter()
    runner = prepare_model(
        model,
        backend,
        channels_last=channels_last,
        threads=threads,
        onnx_size=(min(height, 512), min(width, 512)),
    )
    deblurrer = Deblurrer(runner, device=device, precision=precision, **tiles)
    setup = time.perf_counter() - setup  # the ONNX export for onnxruntime; ~0 otherwise
    dev = deblurrer.device
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
    else:
        base = _current_rss_bytes()
    start = time.perf_counter()
    first = deblurrer(blurry)
    _sync(dev)
    first_call = time.perf_counter() - start
    for _ in range(warmup):
        deblurrer(blurry)
    _sync(dev)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        deblurrer(blurry)
        _sync(dev)
        times.append(time.perf_counter() - start)
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated(dev) - base
    else:
        peak = _peak_rss_bytes() - base
    diff = None if reference is None else float((first - reference).abs().max())
    return BenchResult(
        model=name,
        arch=arch,
        backend=backend,
        memory_format="channels_last"
        if channels_last and backend != "onnxruntime"
        else "contiguous",
        device=str(dev),
        precision=deblurrer.precision,
        width=width,
        height=height,
        parameters=parameters,
        macs=macs,
        setup_s=setup,
        first_call_s=first_call,
        times_s=times,
        peak_memory_bytes=max(int(peak), 0),
        max_abs_diff=diff,
        threads=torch.get_num_threads(),
        notes=notes,
    )
