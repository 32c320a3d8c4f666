"""What a call costs: its latency and its peak memory, on GPU and on CPU.

Part of the evaluation protocol of :mod:`deblurgan.inference.evaluation`. Latency is one timed
call, the input already on the device and the clock between two ``torch.cuda.synchronize`` calls
on GPU. Peak memory is ``torch.cuda.max_memory_allocated`` on GPU (weights, input and
activations: everything torch holds), and on CPU the rise of the process's resident set above its
level before the call (Linux's ``VmHWM`` after a reset through ``/proc/self/clear_refs``; where
that reset is unavailable, the rise of ``ru_maxrss``, which stays 0 below an earlier peak).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch import Tensor

from deblurgan.inference.evaluation.methods import Method

__all__ = ["MemoryProbe", "timed_restore"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _proc_status() -> dict[str, int] | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])  # kB
    return values if len(values) == 2 else None


def _reset_peak_rss() -> bool:
    """Reset Linux's peak resident set (``VmHWM``) to the current one; False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
    except OSError:
        return False
    return True


def _maxrss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else kB


class MemoryProbe:
    """Peak memory of one call, in MiB: see the module docstring for what is measured."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cpu_mode = "none"
        self._base = 0.0
        if device.type == "cuda":
            self.description = (
                "torch.cuda.max_memory_allocated during the call (weights, input, activations)"
            )
            return
        if _proc_status() is not None and _reset_peak_rss():
            self.cpu_mode = "hwm"
            self.description = (
                "rise of the resident set above its level before the call (Linux VmHWM after a "
                "reset through /proc/self/clear_refs, minus VmRSS before)"
            )
        elif _maxrss_mb() is not None:
            self.cpu_mode = "maxrss"
            self.description = (
                "rise of the process's ru_maxrss during the call (0 below an earlier peak)"
            )
        else:
            self.description = "not measured on this platform"

    def start(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        elif self.cpu_mode == "hwm":
            _reset_peak_rss()
            status = _proc_status()
            self._base = status["VmRSS"] / 1024 if status else 0.0
        elif self.cpu_mode == "maxrss":
            self._base = _maxrss_mb() or 0.0

    def stop(self) -> float | None:
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        if self.cpu_mode == "hwm":
            status = _proc_status()
            return max(0.0, status["VmHWM"] / 1024 - self._base) if status else None
        if self.cpu_mode == "maxrss":
            now = _maxrss_mb()
            return max(0.0, now - self._base) if now is not None else None
        return None


def timed_restore(
    method: Method, blurry: Tensor, kernel: Tensor | None, probe: MemoryProbe
) -> tuple[Tensor, float, float | None]:
    """Run ``method`` once: ``(restored on the CPU, milliseconds, peak MiB)``."""
    device = method.device
    on_device = blurry.to(device)
    kernel_on = kernel.to(device) if kernel is not None else None
    _sync(device)
    probe.start()
    start = time.perf_counter()
    restored = method.restore(on_device, kernel_on)
    _sync(device)
    elapsed = (time.perf_counter() - start) * 1000.0
    peak = probe.stop()
    if not isinstance(restored, Tensor) or restored.shape != blurry.shape:
        got = tuple(restored.shape) if isinstance(restored, Tensor) else type(restored).__name__
        raise ValueError(f"{method.name} returned {got} for an input of {tuple(blurry.shape)}")
    return restored.detach().to("cpu", torch.float32), elapsed, peak
