"""deblurgan: blind motion deblurring with GANs (DeblurGAN, DeblurGAN-v2), the public facade.

The facade is small and light: ``import deblurgan`` loads neither torch nor any subpackage; the
functions below import what they need when called. Training lives in ``deblurgan.training`` and
is never imported from here.

Example:
    >>> import deblurgan
    >>> import torch
    >>> from torch import nn
    >>> deblurgan.deblur_image(torch.rand(3, 20, 30), model=nn.Identity(), device="cpu").shape
    torch.Size([3, 20, 30])
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import nn

    from deblurgan.inference import Deblurrer

__all__ = ["Deblurrer", "__version__", "deblur_image", "load_model"]


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("deblurgan")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"


__version__ = _package_version()


def __getattr__(name: str) -> Any:
    # ``deblurgan.Deblurrer`` without importing torch at ``import deblurgan`` time.
    if name == "Deblurrer":
        from deblurgan.inference import Deblurrer

        return Deblurrer
    raise AttributeError(f"module 'deblurgan' has no attribute {name!r}")


def load_model(
    name_or_path: str | os.PathLike[str] = "default", *, device: str | torch.device = "cpu"
) -> nn.Module:
    """Load a generator in eval mode: shipped or fetched weights by name, a file, or a URL.

    Args:
        name_or_path: ``"default"`` (the shipped model; see ``deblur models``), ``"maxim"``
            (after ``deblur weights fetch maxim``), a ``.safetensors`` / ``.pt`` / ``.pth``
            checkpoint, or an https URL (downloaded once into the cache, verified; see
            :func:`deblurgan.io.download.download`).
        device: ``"cpu"``, ``"cuda"``, ``"auto"``, ...

    Returns:
        The generator: ``forward(blurry) -> restored`` on ``(B, 3, H, W)`` in [0, 1].

    Raises:
        TypeError: ``name_or_path`` is not a string or path (a state dict, a number, ...).
        FileNotFoundError: no such file, the shipped weights are missing from the install, or
            the named public weights are not fetched (the message names the command).
        ValueError: not a loadable generator checkpoint.

    Example:
        >>> import os, tempfile
        >>> from deblurgan.models import build_generator, save_generator
        >>> path = os.path.join(tempfile.mkdtemp(), "tiny.safetensors")
        >>> _ = save_generator(build_generator({"name": "resnet", "width": 4, "n_blocks": 1}), path)
        >>> load_model(path).arch_spec["name"]
        'resnet'
    """
    from collections.abc import Mapping

    from deblurgan.inference.deblurrer import resolve_device
    from deblurgan.models.weights import load_generator

    if not isinstance(name_or_path, (str, os.PathLike)):
        hint = (
            "; a state dict loads into a built generator: build_generator(spec)."
            "load_state_dict(state)"
            if isinstance(name_or_path, Mapping)
            else ""
        )
        raise TypeError(
            "load_model takes a weights name ('default', 'maxim'), a checkpoint path or an "
            f"https URL, got {type(name_or_path).__name__}{hint}"
        )
    return load_generator(name_or_path, map_location=resolve_device(device))


def _file_identity(source: str) -> tuple[int, int, int] | None:
    """What changes when the file at ``source`` is replaced or rewritten (None: not a file)."""
    try:
        stat = os.stat(source)
    except (OSError, ValueError):
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


@functools.lru_cache(maxsize=4)
def _cached_model(
    name_or_path: str, device: str, identity: tuple[int, int, int] | None
) -> nn.Module:
    # ``identity`` is part of the key: a checkpoint rewritten at the same path is loaded again.
    return load_model(name_or_path, device=device)


#: How far outside [0, 1] a float image may stray (rounding, resampling overshoot) before it is
#: taken to be on another scale (0..255, [-1, 1]).
_RANGE_TOLERANCE = 1 / 255


def _check_range(image: torch.Tensor) -> None:
    """A float image must hold values in [0, 1]: refuse one on another scale, saying which.
    Call it after :meth:`Deblurrer.check_input` (a dense, non-empty, finite float tensor)."""
    import torch

    low_value, high_value = torch.aminmax(image)
    high, low = float(high_value), float(low_value)
    if high > 1 + _RANGE_TOLERANCE:
        raise ValueError(
            f"image has values up to {high:g}; expected floats in [0, 1] (an image in 0..255 "
            "needs image / 255, or pass it as uint8)"
        )
    if low < -_RANGE_TOLERANCE:
        raise ValueError(
            f"image has values down to {low:g}; expected floats in [0, 1] (an image in [-1, 1] "
            "needs (image + 1) / 2)"
        )


@overload
def deblur_image(
    image: torch.Tensor | str | os.PathLike[str],
    *,
    model: nn.Module | str | os.PathLike[str] | None = ...,
    device: str | torch.device = ...,
    precision: str = ...,
    tile_size: int = ...,
    tile_overlap: int = ...,
) -> torch.Tensor: ...


@overload
def deblur_image(
    image: np.ndarray,
    *,
    model: nn.Module | str | os.PathLike[str] | None = ...,
    device: str | torch.device = ...,
    precision: str = ...,
    tile_size: int = ...,
    tile_overlap: int = ...,
) -> np.ndarray: ...


def deblur_image(
    image: torch.Tensor | np.ndarray | str | os.PathLike[str],
    *,
    model: nn.Module | str | os.PathLike[str] | None = None,
    device: str | torch.device = "auto",
    precision: str = "fp32",
    tile_size: int = 1024,
    tile_overlap: int = 64,
) -> torch.Tensor | np.ndarray:
    """Restore one image (or a batch) with a generator; the result is of the same kind.

    Args:
        image: a float tensor ``(3, H, W)`` or ``(B, 3, H, W)`` in [0, 1] (returns float32 on the
            same device); a numpy ``(H, W, 3)`` or ``(H, W, 4)`` array, uint8, uint16 or float in
            [0, 1] (returns the same shape and dtype; a fourth, alpha channel passes through); or
            an image file path (returns a ``(3, H, W)`` float32 tensor).
        model: a generator module, a name or path for :func:`load_model` (loaded once and
            cached; a file that changes at the path is loaded again), or ``None`` for
            ``"default"``.
        device: where the model runs: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``.
        precision: ``"fp32"``, ``"fp16"`` (CUDA) or ``"bf16"``.
        tile_size: larger images are restored in overlapping tiles of this size.
        tile_overlap: overlap between tiles, blended smoothly.

    Raises:
        TypeError: not a tensor, array or path; a sparse tensor; an integer tensor; a model that
            is not a module, name or path.
        ValueError: a wrong shape, an empty or meta tensor, NaN or infinite pixels, float values
            outside [0, 1] (an image in 0..255 or [-1, 1]).

    Shape:
        - image: ``(3, H, W)``, ``(B, 3, H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``
        - output: the same as ``image`` (a ``(3, H, W)`` tensor for a path)

    Example:
        >>> import numpy as np
        >>> from torch import nn
        >>> photo = np.zeros((6, 8, 3), dtype=np.uint8)
        >>> out = deblur_image(photo, model=nn.Identity(), device="cpu")
        >>> out.shape, out.dtype
        ((6, 8, 3), dtype('uint8'))
    """
    import numpy as np
    import torch
    from torch import nn

    from deblurgan.inference import Deblurrer
    from deblurgan.inference.deblurrer import resolve_device

    resolved = resolve_device(device)
    if model is None or isinstance(model, (str, os.PathLike)):
        source = os.fspath(model or "default")
        network = _cached_model(source, str(resolved), _file_identity(source))
    elif isinstance(model, nn.Module):
        network = model
    else:
        raise TypeError(f"model must be an nn.Module, a name or a path, got {type(model).__name__}")
    deblurrer = Deblurrer(
        network,
        device=resolved,
        precision=precision,
        tile_size=tile_size,
        tile_overlap=tile_overlap,
    )

    if isinstance(image, torch.Tensor):
        deblurrer.check_input(image)
        _check_range(image)
        return deblurrer(image)
    if isinstance(image, (str, os.PathLike)):
        from deblurgan.io import read_image

        return deblurrer(read_image(image).rgb)
    if isinstance(image, np.ndarray):
        return _deblur_array(deblurrer, image)
    raise TypeError(
        f"image must be a torch.Tensor, a numpy array or a file path, got {type(image).__name__}"
    )


def _deblur_array(deblurrer: Deblurrer, array: np.ndarray) -> np.ndarray:
    import numpy as np

    from deblurgan.io import image_to_tensor, tensor_to_array

    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"a numpy image must be (H, W, 3) or (H, W, 4), got {array.shape}")
    if array.dtype not in (np.uint8, np.uint16) and not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"a numpy image must be uint8, uint16 or float, got {array.dtype}")
    pixels = image_to_tensor(array[..., :3])
    deblurrer.check_input(pixels)
    _check_range(pixels)  # uint8/uint16 are scaled to [0, 1]; a float array must already be
    restored = deblurrer(pixels)
    if array.dtype == np.uint8 or array.dtype == np.uint16:
        out = tensor_to_array(restored, bit_depth=8 if array.dtype == np.uint8 else 16)
    else:
        out = restored.permute(1, 2, 0).numpy().astype(array.dtype)
    if array.shape[2] == 4:
        out = np.concatenate([out, array[..., 3:]], axis=2)
    return out
