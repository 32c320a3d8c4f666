"""Reading pickles of numpy arrays (third-party weight files) without running code from them.

A pickle can call any importable function while it loads (``os.system`` included), so
``pickle.load`` on a downloaded file runs whatever its author wrote. :func:`load_numpy_pickle`
uses an unpickler whose ``find_class`` resolves only numpy's array reconstruction
(``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``, ``numpy.dtype``) and a few plain
containers; any other global, and any persistent id, stops the load before anything is called.
The result must be a tree of dicts, lists and tuples whose leaves are numeric arrays or plain
numbers and strings.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PickleRefusedError", "load_numpy_pickle"]


def _reconstruct() -> Any:
    # numpy 2 moved numpy.core to numpy._core; files written by numpy 1 name the old path.
    try:
        from numpy._core.multiarray import _reconstruct as found
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct as found  # type: ignore[no-redef]
    return found


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("collections", "OrderedDict"): lambda: collections.OrderedDict,
}

_NUMERIC_KINDS = frozenset("biuf")  # bool, signed, unsigned, float


class PickleRefusedError(ValueError):
    """A pickle that asks for anything beyond numpy arrays; the message is one line."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        factory = _ALLOWED.get((module, name))
        if factory is None:
            raise PickleRefusedError(
                f"refused to load the global {module}.{name}: only numpy arrays are allowed"
            )
        return factory()

    def persistent_load(self, pid: Any) -> Any:
        raise PickleRefusedError("refused a persistent id: only numpy arrays are allowed")


def _check_tree(value: Any, where: str = "") -> None:
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _NUMERIC_KINDS:
            raise PickleRefusedError(f"{where or 'value'}: array of dtype {value.dtype} refused")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise PickleRefusedError(f"{where or 'value'}: key of type {type(key).__name__}")
            _check_tree(item, f"{where}/{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_tree(item, f"{where}/{index}")
    elif value is not None and not isinstance(value, (bool, int, float, str)):
        raise PickleRefusedError(f"{where or 'value'}: {type(value).__name__} refused")


def load_numpy_pickle(source: str | os.PathLike[str] | bytes, *, max_bytes: int = 1024**3) -> Any:
    """Load a pickle of numpy arrays, refusing every other global (nothing else runs).

    Args:
        source: a file, or the pickle's bytes.
        max_bytes: refuse larger files (default 1 GiB).

    Returns:
        The unpickled tree: dicts, lists, tuples, numeric arrays, numbers and strings.

    Raises:
        PickleRefusedError: the pickle names a global other than numpy's array reconstruction,
            uses a persistent id, or holds an object array or another type.
        ValueError: the data is not a readable pickle, or is over ``max_bytes``.
        OSError: the file cannot be read.

    Example:
        >>> import pickle, numpy as np
        >>> tree = load_numpy_pickle(pickle.dumps({"conv": {"kernel": np.ones((1, 2), "f4")}}))
        >>> tree["conv"]["kernel"].shape, tree["conv"]["kernel"].dtype
        ((1, 2), dtype('float32'))
        >>> load_numpy_pickle(pickle.dumps(print))
        Traceback (most recent call last):
        ...
        deblurgan.io.numpy_pickle.PickleRefusedError: refused to load the global builtins.print: \
only numpy arrays are allowed
    """
    if isinstance(source, bytes):
        data, prefix = source, ""
    else:
        path = Path(source)
        prefix = f"{path}: "
        if path.stat().st_size > max_bytes:
            raise ValueError(f"{prefix}over the size limit of {max_bytes} bytes")
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise ValueError(f"{prefix}over the size limit of {max_bytes} bytes")
    try:
        value = _NumpyOnlyUnpickler(io.BytesIO(data)).load()
        _check_tree(value)
    except PickleRefusedError as exc:
        raise PickleRefusedError(f"{prefix}{exc}") from None
    except Exception as exc:  # a malformed pickle fails in many ways
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"{prefix}not a readable pickle of numpy arrays ({message})") from None
    return value
