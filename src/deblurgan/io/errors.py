"""The one error type of ``deblurgan.io``: a bad image file, reported as ``"<path>: <problem>"``."""

from __future__ import annotations

import os

__all__ = ["ImageError", "describe_failure", "one_line", "printable"]

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str | os.PathLike[str]) -> str:
    r"""``text`` with every control character escaped (``\n``, ``\x1b``, ...), for messages.

    A file name may hold a newline or a terminal escape; printed raw, it would break a
    one-line report or forge lines of it.

    Example:
        >>> print(printable("bad\n1 restored, 0 failed.png"))
        bad\n1 restored, 0 failed.png
        >>> print(printable("\x1b[2Jx.png"))
        \x1b[2Jx.png
    """
    out = []
    for char in os.fspath(text):
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or 0x7F <= code < 0xA0 or char in "\u2028\u2029":
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def one_line(text: object) -> str:
    r"""``str(text)`` with every run of whitespace (newlines included) made one space.

    Example:
        >>> one_line("no such file:\n  photo.jpg")
        'no such file: photo.jpg'
    """
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
        self.problem = one_line(problem)
        super().__init__(f"{printable(self.path)}: {printable(self.problem)}")

    def __reduce__(self) -> tuple[type[ImageError], tuple[str, str]]:
        # Custom __init__ arguments: keep the error picklable (e.g. across DataLoader workers).
        return (type(self), (self.path, self.problem))


def describe_failure(source: object, exc: BaseException) -> str:
    r"""One report line ``"<source>: <problem>"`` for a file that failed, control characters of
    the name escaped (a newline in a file name must not forge report lines).

    Example:
        >>> print(describe_failure("a\nb.png", ValueError("not an image")))
        a\nb.png: not an image
    """
    raw = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    message = " ".join(str(raw).split()) or type(exc).__name__
    name = printable(str(source))
    if message.startswith(name) or message.startswith(str(source)):
        return printable(message)
    return f"{name}: {printable(message)}"
