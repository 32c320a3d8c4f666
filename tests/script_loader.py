"""Load a file of the repository that is not in the package (a script, a benchmark, a test
helper) as a module, for its tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_script(path: Path, name: str | None = None) -> ModuleType:
    """Import ``path`` as module ``name`` (default: the file's stem), registered in sys.modules.

    Registering it lets dataclasses and pickling resolve the module by name.
    """
    name = name or path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
