"""Plain containers from configs: one conversion for hyperparameters, configs and data specs."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """Plain, JSON-ready dicts, lists and scalars from (possibly OmegaConf) containers.

    Mappings become dicts with string keys, sequences other than strings become lists, paths
    become strings; anything else is returned as it is.

    Example:
        >>> from pathlib import Path
        >>> plain({1: (Path("a"), [2, "b"])})
        {'1': ['a', [2, 'b']]}
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value
