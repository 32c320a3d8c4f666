"""Blur kernel files: one reader and one writer for every command and dataset.

A kernel file is an image (grey, or colour converted to grey with the BT.601 luma weights; a
float TIFF keeps its raw values; 16-bit files keep their precision) or a 2-D ``.npy`` array (read
without pickles), scaled in any way: :func:`read_kernel` checks its weights and normalises them
to sum 1. :func:`write_kernel` writes one as a 16-bit grey PNG with its peak white, which
``read_kernel`` reads back to the same kernel within 16-bit rounding. ``deblur blur`` writes the
kernels of its pairs this way, ``deblur deconv --blind --save-kernels`` its estimates, and
``deblur deconv --kernel`` and ``deblur eval`` read them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.io.errors import ImageError
from deblurgan.io.image import DEFAULT_MAX_PIXELS, read_image, rgb_to_grey, write_image

__all__ = ["check_kernel", "read_kernel", "write_kernel"]


def _kernel_values(path: Path) -> np.ndarray:
    """The kernel's weights as stored: a ``.npy`` array, a float TIFF's raw samples (which may be
    negative or NaN), or an image's grey levels in [0, 1]."""
    if path.suffix.lower() == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise ImageError(path, "no such file") from None
        except (OSError, ValueError) as exc:
            raise ImageError(path, f"cannot read the kernel array ({exc})") from exc
        if values.ndim == 3 and values.shape[-1] == 1:
            values = values[..., 0]
        if values.ndim != 2 or not (
            np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)
        ):
            raise ImageError(
                path,
                f"a kernel array must be 2-D numbers (kh, kw), got {values.dtype} {values.shape}",
            )
        return values.astype(np.float64)
    decoded = read_image(path, max_pixels=DEFAULT_MAX_PIXELS)
    if decoded.mode == "F":  # read_image clips float samples to [0, 1]; a kernel needs them raw
        from PIL import Image

        with Image.open(path) as image:
            raw = np.asarray(image, dtype=np.float64)
        if raw.shape == tuple(decoded.rgb.shape[-2:]):
            return raw
    return rgb_to_grey(decoded.rgb.double())[0].numpy()


def check_kernel(path: str | Path, values: np.ndarray) -> None:
    """Refuse weights that no blur kernel has, saying exactly what is wrong: NaN or infinite
    values, all zeros, negative values (all of them, or some among positive ones: never clipped).

    Raises:
        ImageError: ``"<path>: <what is wrong with the kernel>"``.

    Example:
        >>> check_kernel("k.npy", np.array([[0.5, -0.1], [0.3, 0.3]]))
        Traceback (most recent call last):
        ...
        deblurgan.io.errors.ImageError: k.npy: the kernel has 1 negative value (as low as -0.1) \
among positive ones; a blur kernel's weights are >= 0, and negative ones are not clipped: fix \
the kernel
    """
    if values.size == 0:
        raise ImageError(path, "the kernel is empty (0 values)")
    nan = int(np.isnan(values).sum())
    infinite = int(np.isinf(values).sum())
    if nan or infinite:
        raise ImageError(
            path,
            f"the kernel has {nan} NaN and {infinite} infinite value(s) of {values.size}; "
            "a kernel's weights must be finite",
        )
    negative = int((values < 0).sum())
    if not values.any():
        raise ImageError(
            path, "the kernel is all zeros (an all-black image sums to 0); a kernel needs weight"
        )
    if negative and not (values > 0).any():
        raise ImageError(
            path,
            f"the kernel is all negative or zero (min {values.min():.4g}); a blur kernel's "
            "weights are >= 0 (saved with the wrong sign?)",
        )
    if negative:
        plural = "value" if negative == 1 else "values"
        raise ImageError(
            path,
            f"the kernel has {negative} negative {plural} (as low as {values.min():.4g}) among "
            "positive ones; a blur kernel's weights are >= 0, and negative ones are not "
            "clipped: fix the kernel",
        )


def read_kernel(path: str | os.PathLike[str]) -> Tensor:
    """Read a blur kernel: an image (grey, or colour converted to grey; a float TIFF keeps its
    raw values) or a ``.npy`` array; checked (:func:`check_kernel`), odd sides, sum 1.

    Colour kernels are converted to grey with the BT.601 luma weights; 16-bit files keep their
    precision. An even side gets a zero row (column) at the bottom (right), which keeps the
    centre convention ``floor(k / 2)`` of MATLAB's ``psf2otf`` and scikit-image.

    Args:
        path: the kernel image or ``.npy`` file.

    Returns:
        ``(kh, kw)`` float64, odd sides, sum 1.

    Raises:
        ImageError: the file cannot be read, or its weights are not a kernel's (NaN or infinite,
            all zeros, negative).

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> file = Path(tempfile.mkdtemp()) / "k.png"
        >>> Image.new("L", (2, 2), 255).save(file)
        >>> read_kernel(file)
        tensor([[0.2500, 0.2500, 0.0000],
                [0.2500, 0.2500, 0.0000],
                [0.0000, 0.0000, 0.0000]], dtype=torch.float64)
    """
    path = Path(path)
    values = _kernel_values(path)
    check_kernel(path, values)
    kernel = torch.from_numpy(np.ascontiguousarray(values))
    kh, kw = kernel.shape
    kernel = F.pad(kernel, (0, 1 - kw % 2, 0, 1 - kh % 2))
    return kernel / kernel.sum()


def write_kernel(path: str | os.PathLike[str], kernel: Tensor, *, replace: bool = True) -> Path:
    """Write a kernel ``(kh, kw)`` as a 16-bit grey PNG scaled to a white peak, atomically.

    Args:
        path: the ``.png`` to write.
        kernel: non-negative weights with a positive peak (any scale).
        replace: overwrite an existing file (as :func:`write_image`).

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> file = Path(tempfile.mkdtemp()) / "k.png"
        >>> _ = write_kernel(file, torch.tensor([[1.0, 3.0, 0.0]]))
        >>> read_kernel(file)
        tensor([[0.2500, 0.7500, 0.0000]], dtype=torch.float64)
    """
    kernel = kernel.detach().double().cpu()
    if kernel.ndim != 2 or not float(kernel.max()) > 0:
        raise ValueError(f"{path}: a kernel to write must be 2-D with a positive peak")
    return write_image(
        Path(path), (kernel / kernel.max())[None].float(), bit_depth=16, replace=replace
    )
