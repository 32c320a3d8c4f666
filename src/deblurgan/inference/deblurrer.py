"""Run a generator on images of any size: padding, tiling with smooth blending, precision.

A generator declares ``size_multiple`` (its total downsampling factor). The image is padded up to
that multiple with reflection (replication when the image is smaller than the pad) and cropped
back afterwards. Images larger than ``tile_size`` are cut into overlapping tiles; each tile's
output is weighted by a separable window (0 over the first quarter of an overlap, a raised cosine
over the rest, 1 in the centre and along the image border) and accumulated, so that memory is
bounded by the tile size and no seam shows. Where a model's receptive field fits in a quarter of
the overlap, the tiled result equals the untiled one up to float rounding.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator

import torch
from torch import Tensor, nn

from deblurgan.models.generator import arch_name, size_multiple
from deblurgan.nn.padding import pad_to_multiple

__all__ = [
    "PRECISIONS",
    "Deblurrer",
    "ModelOutputError",
    "blend_window",
    "pad_to_multiple",
    "resolve_device",
    "tile_starts",
]

logger = logging.getLogger(__name__)

PRECISIONS: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"`` (CUDA when available, else CPU) or a device name into a ``torch.device``.

    Args:
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... or a ``torch.device``.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if isinstance(device, torch.device):
        resolved = device
    elif isinstance(device, str):
        if device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            resolved = torch.device(device)
        except RuntimeError as exc:
            raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda[:N]'") from exc
    else:
        raise TypeError(f"device must be a str or torch.device, got {type(device).__name__}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(resolved)!r} requested but CUDA is not available; use 'cpu'")
    return resolved


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``tile`` covering ``[0, length)``, overlapping ``>= overlap``.

    The tiles are spread evenly, the first starting at 0 and the last ending at ``length``.

    Args:
        length: the extent to cover.
        tile: the tile extent (``length <= tile`` gives one tile at 0).
        overlap: the least overlap between neighbours, ``0 <= overlap < tile``.

    Example:
        >>> tile_starts(100, 40, 8)
        [0, 30, 60]
        >>> tile_starts(30, 40, 8)
        [0]
    """
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be in [0, tile={tile}), got {overlap}")
    if length <= tile:
        return [0]
    span = length - tile
    count = math.ceil(span / (tile - overlap)) + 1
    # integer rounding keeps every step <= tile - overlap, so overlaps never shrink below `overlap`
    return [(i * span + (count - 1) // 2) // (count - 1) for i in range(count)]


def blend_window(
    length: int,
    ramp: int,
    *,
    taper_start: bool,
    taper_end: bool,
    device: torch.device | None = None,
) -> Tensor:
    """1D blending weights of one tile: a ramp on the sides that overlap a neighbour, 1 elsewhere.

    A tapered side is 0 over its first ``ramp // 4`` samples (where a tile's output is spoiled by
    the tile border), then rises along a raised cosine to 1 at ``ramp``. Sides on the image border
    are not tapered, so every pixel keeps a positive total weight.

    Args:
        length: tile extent.
        ramp: ramp length in samples; clipped to ``length // 2``.
        taper_start: taper the low end (a neighbour tile lies before this one).
        taper_end: taper the high end (a neighbour tile lies after this one).
        device: where to create the weights.

    Shape:
        - output: ``(length,)`` float32 in [0, 1]

    Example:
        >>> blend_window(8, 4, taper_start=True, taper_end=False)
        tensor([0.0000, 0.1464, 0.5000, 0.8536, 1.0000, 1.0000, 1.0000, 1.0000])
    """
    window = torch.ones(length, dtype=torch.float32, device=device)
    ramp = min(ramp, length // 2)
    if ramp <= 0:
        return window
    dead = ramp // 4
    steps = torch.arange(1, ramp - dead + 1, dtype=torch.float64, device=device)
    rise = 0.5 - 0.5 * torch.cos(math.pi * steps / (ramp - dead + 1))
    profile = torch.cat([torch.zeros(dead, dtype=torch.float64, device=device), rise]).float()
    if taper_start:
        window[:ramp] = profile
    if taper_end:
        window[length - ramp :] = profile.flip(0)
    return window


class ModelOutputError(ValueError):
    """The model, not the image, produced an unusable result (NaN or infinite values)."""


class Deblurrer:
    """Restore images of any size with a generator: padding, tiling, precision and threads.

    The model is moved to ``device`` and put in eval mode (in place). Inputs may live on any
    device; outputs come back on the input's device as float32 in [0, 1], with the same shape.

    Args:
        model: a generator, ``forward(blurry) -> restored`` of the same shape; its attribute
            ``size_multiple`` (default 1) sets the padding.
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda[:N]"``.
        precision: ``"fp32"``, ``"fp16"`` or ``"bf16"``. Half precisions run through autocast:
            fp16 and bf16 on CUDA, bf16 on CPU; fp16 on CPU falls back to fp32 with a warning.
        tile_size: the largest height or width the model sees, rounded up to ``size_multiple``;
            larger images are processed in overlapping tiles of that size.
        tile_overlap: the least overlap between neighbouring tiles, in pixels (``< tile_size``).
            Make it at least 4x the model's receptive-field radius for an exact match with the
            untiled output.
        threads: CPU threads for torch during each call (``torch.set_num_threads``, restored
            afterwards); ``None`` leaves torch's setting alone.

    Shape:
        - image: ``(B, 3, H, W)`` or ``(3, H, W)`` float in [0, 1]
        - output: same shape, float32

    Example:
        >>> blurry = torch.rand(1, 3, 37, 53)
        >>> deblurrer = Deblurrer(nn.Identity(), device="cpu", tile_size=16, tile_overlap=4)
        >>> restored = deblurrer(blurry)
        >>> restored.shape, torch.allclose(restored, blurry)
        (torch.Size([1, 3, 37, 53]), True)
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        device: str | torch.device = "auto",
        precision: str = "fp32",
        tile_size: int = 1024,
        tile_overlap: int = 64,
        threads: int | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.device = resolve_device(device)
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
        if precision == "fp16" and self.device.type != "cuda":
            logger.warning("fp16 needs CUDA; running in fp32 on %s", self.device)
            precision = "fp32"
        if precision == "bf16" and self.device.type not in ("cuda", "cpu"):
            logger.warning("bf16 autocast is not supported on %s; running in fp32", self.device)
            precision = "fp32"
        self.precision = precision
        self.size_multiple = multiple = size_multiple(model)
        if not isinstance(tile_size, int) or tile_size < 1:
            raise ValueError(f"tile_size must be a positive int, got {tile_size!r}")
        self.tile_size = math.ceil(tile_size / multiple) * multiple
        if not isinstance(tile_overlap, int) or not 0 <= tile_overlap < self.tile_size:
            raise ValueError(
                f"tile_overlap must be an int in [0, tile_size={self.tile_size}), "
                f"got {tile_overlap!r}"
            )
        self.tile_overlap = tile_overlap
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be a positive int or None, got {threads!r}")
        self.threads = threads
        self.model = model.to(self.device).eval()

    def __repr__(self) -> str:
        return (
            f"Deblurrer({type(self.model).__name__}, device={str(self.device)!r}, "
            f"precision={self.precision!r}, tile_size={self.tile_size}, "
            f"tile_overlap={self.tile_overlap}, threads={self.threads})"
        )

    def check_input(self, image: Tensor) -> None:
        """Raise a ValueError or TypeError naming what is expected, unless ``image`` is a dense,
        non-empty, finite float tensor ``(3, H, W)`` or ``(B, 3, H, W)`` with values.

        Example:
            >>> Deblurrer(nn.Identity(), device="cpu").check_input(torch.rand(0, 3, 8, 8))
            Traceback (most recent call last):
            ...
            ValueError: image is empty: shape (0, 3, 8, 8); expected (3, H, W) or (B, 3, H, W) \
with B, H, W >= 1
        """
        if not isinstance(image, Tensor):
            raise TypeError(f"image must be a torch.Tensor, got {type(image).__name__}")
        if image.is_meta:
            raise ValueError(
                "image is a meta tensor (a shape without values); pass a tensor holding pixels"
            )
        if image.layout != torch.strided:
            raise TypeError(
                f"image must be a dense tensor, got layout {image.layout}; call image.to_dense()"
            )
        if image.dim() not in (3, 4) or image.shape[-3] != 3:
            raise ValueError(f"image must be (3, H, W) or (B, 3, H, W), got {tuple(image.shape)}")
        if not image.is_floating_point():
            raise TypeError(f"image must be a float tensor in [0, 1], got dtype {image.dtype}")
        if image.numel() == 0:
            raise ValueError(
                f"image is empty: shape {tuple(image.shape)}; expected (3, H, W) or "
                "(B, 3, H, W) with B, H, W >= 1"
            )
        if not bool(torch.isfinite(image).all()):
            raise ValueError("image contains NaN or infinite values; expected floats in [0, 1]")

    def __call__(self, image: Tensor) -> Tensor:
        """Restore ``image``; see the class docstring for shapes."""
        self.check_input(image)
        unbatched = image.dim() == 3
        batch = image.unsqueeze(0) if unbatched else image
        with self._threads(), torch.inference_mode():
            restored = self._restore(batch.float())
        # an inference tensor refuses in-place updates and autograd later: hand back a normal one
        restored = restored.clone()
        return restored.squeeze(0) if unbatched else restored

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        if self.threads is None:
            yield
            return
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=PRECISIONS[self.precision])

    def _run(self, blurry: Tensor) -> Tensor:
        """The model on one tile: pad, forward, crop; float32 on the compute device."""
        height, width = blurry.shape[-2:]
        padded = pad_to_multiple(blurry.to(self.device), self.size_multiple)
        with self._autocast():
            restored = self.model(padded)
        if not isinstance(restored, Tensor) or restored.shape != padded.shape:
            got = tuple(restored.shape) if isinstance(restored, Tensor) else type(restored).__name__
            raise ValueError(f"model returned {got} for an input of {tuple(padded.shape)}")
        if not bool(torch.isfinite(restored).all()):
            # The input was checked finite before it got here: the model is at fault.
            name = arch_name(self.model)
            raise ModelOutputError(
                f"the model ({name}) produced NaN or infinite values: its weights or its "
                f"precision ({self.precision}) are broken, not the image"
            )
        return restored[..., :height, :width].float().clamp(0.0, 1.0)

    def _restore(self, blurry: Tensor) -> Tensor:
        height, width = blurry.shape[-2:]
        size, overlap = self.tile_size, self.tile_overlap
        if height <= size and width <= size:
            return self._run(blurry).to(blurry.device)
        # the result is accumulated where it is returned: the input already fits there
        tile_h, tile_w = min(height, size), min(width, size)
        rows, cols = tile_starts(height, size, overlap), tile_starts(width, size, overlap)
        windows_y = _axis_windows(rows, tile_h, overlap, blurry.device)
        windows_x = _axis_windows(cols, tile_w, overlap, blurry.device)
        total_y = torch.zeros(height, device=blurry.device)
        total_x = torch.zeros(width, device=blurry.device)
        for top, window in zip(rows, windows_y, strict=True):
            total_y[top : top + tile_h] += window
        for left, window in zip(cols, windows_x, strict=True):
            total_x[left : left + tile_w] += window
        restored = torch.zeros_like(blurry)
        logger.debug("tiling %dx%d into %d x %d tiles", height, width, len(rows), len(cols))
        for top, window_y in zip(rows, windows_y, strict=True):
            for left, window_x in zip(cols, windows_x, strict=True):
                tile = blurry[..., top : top + tile_h, left : left + tile_w]
                out = self._run(tile).to(blurry.device)
                weight = window_y[:, None] * window_x[None, :]  # (tile_h, tile_w)
                restored[..., top : top + tile_h, left : left + tile_w] += out * weight
        # windows are separable over a product grid, so the total weight is an outer product
        restored /= total_y[:, None] * total_x[None, :]
        return restored


def _axis_windows(starts: list[int], length: int, ramp: int, device: torch.device) -> list[Tensor]:
    last = len(starts) - 1
    return [
        blend_window(length, ramp, taper_start=i > 0, taper_end=i < last, device=device)
        for i in range(len(starts))
    ]
