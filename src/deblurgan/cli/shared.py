"""What several ``deblur`` subcommands share: the library's log on stderr, names of models."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["log_to_stderr", "unique_names"]


@contextlib.contextmanager
def log_to_stderr(prog: str, quiet: bool) -> Iterator[None]:
    """Show the library's warnings (``deblurgan.*`` loggers) on stderr while a command runs.

    Args:
        prog: the prefix of each line (``"deblur"``).
        quiet: errors only.
    """
    logger = logging.getLogger("deblurgan")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prog}: %(levelname)s: %(message)s"))
    handler.setLevel(logging.ERROR if quiet else logging.WARNING)
    previous_level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > handler.level:
        logger.setLevel(handler.level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def unique_names(models: Sequence[str]) -> list[str]:
    """A display name per model: the shipped name or the file stem, with parents when equal.

    Example:
        >>> unique_names(["default", "runs/a/generator.safetensors", "b/x.pt", "c/x.pt"])
        ['default', 'a', 'b/x', 'c/x']
    """
    from deblurgan.models import SHIPPED_WEIGHTS

    def name_at(source: str, depth: int) -> str:
        if source in SHIPPED_WEIGHTS:
            return source
        path = Path(source)
        if path.stem == "generator" and path.parent.name:
            # A training run's export (<run>/generator.safetensors): the run names it.
            path = path.parent
        parts = [*path.parent.parts[-depth:], path.stem] if depth else [path.stem]
        return "/".join(parts) or source

    names = [name_at(s, 0) for s in models]
    for depth in range(1, 8):
        clashes = {n for n in names if names.count(n) > 1}
        if not clashes:
            break
        names = [
            name_at(s, depth) if n in clashes else n for s, n in zip(models, names, strict=True)
        ]
    return names
