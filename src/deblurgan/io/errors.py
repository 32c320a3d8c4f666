"""The one error type of ``deblurgan.io``: a bad image file, reported as ``"<path>: <problem>"``."""

from __future__ import annotations

import os

__all__ = ["ImageError"]


def _one_line(text: str) -> str:
    """Collapse every run of whitespace (newlines included) into a single space."""
    return " ".join(str(text).split())


class ImageError(ValueError):
    """An image file that cannot be found, read, decoded or written.

    The message is always one line, ``"<path>: <problem>"``, so the command line can print it as is.

    Args:
        path: the file (or input pattern) at fault.
        problem: what is wrong with it, and where useful what to do about it.

    Example:
        >>> err = ImageError("photos/cat.png", "file is empty")
        >>> str(err)
        'photos/cat.png: file is empty'
        >>> isinstance(err, ValueError), err.problem
        (True, 'file is empty')
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = _one_line(problem)
        super().__init__(f"{self.path}: {self.problem}".replace("\n", "\\n").replace("\r", "\\r"))

    def __reduce__(self) -> tuple[type[ImageError], tuple[str, str]]:
        # Custom __init__ arguments: keep the error picklable (e.g. across DataLoader workers).
        return (type(self), (self.path, self.problem))
