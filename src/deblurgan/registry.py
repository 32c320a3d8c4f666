"""Name -> constructor registries: how configs, checkpoints and the CLI build things.

Registered names are public and stable. They appear in configs, checkpoints and the command line,
so renaming one breaks old runs; add an alias instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["Registry", "UnknownNameError"]


class UnknownNameError(KeyError, ValueError):
    """A name that a registry (or any table of public names) does not hold.

    One error type for every unknown name, whether of a generator, a loss, a dataset format,
    shipped weights or a metric; it is both a ``KeyError`` and a ``ValueError``, so code written
    against either keeps working. Its message lists the valid names.

    Example:
        >>> str(UnknownNameError("unknown shape 'circle'; valid names: square"))
        "unknown shape 'circle'; valid names: square"
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """A typed mapping from public names to constructors.

    Args:
        kind: what the registry holds, used in error messages (``"generator"``).

    Example:
        >>> SHAPES: Registry[object] = Registry("shape")
        >>> @SHAPES.register("square")
        ... class Square:
        ...     def __init__(self, side: int = 1) -> None:
        ...         self.side = side
        >>> SHAPES.build("square", side=3).side
        3
        >>> SHAPES.from_spec({"name": "square", "side": 2}).side
        2
        >>> sorted(SHAPES)
        ['square']
        >>> SHAPES.build("circle")
        Traceback (most recent call last):
        ...
        deblurgan.registry.UnknownNameError: unknown shape 'circle'; valid names: square
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator that registers a constructor under ``name``; refuses duplicates."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")

        def decorator(constructor: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = constructor
            return constructor

        return decorator

    def get(self, name: str) -> Callable[..., T]:
        """The constructor registered under ``name``; an unknown name lists the valid ones."""
        try:
            return self._entries[name]
        except KeyError:
            valid = ", ".join(sorted(self._entries)) or "(none registered)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid names: {valid}") from None

    def build(self, name: str, /, **kwargs: Any) -> T:
        """Build the entry registered under ``name`` with keyword arguments."""
        constructor = self.get(name)
        try:
            return constructor(**kwargs)
        except TypeError as exc:
            raise TypeError(f"cannot build {self.kind} {name!r} with {kwargs}: {exc}") from exc

    def from_spec(self, spec: Mapping[str, Any] | str) -> T:
        """Build from ``{"name": ..., **kwargs}`` (or a bare name)."""
        if isinstance(spec, str):
            return self.build(spec)
        if not isinstance(spec, Mapping) or "name" not in spec:
            raise ValueError(f"a {self.kind} spec needs a 'name' key, got {spec!r}")
        kwargs = {k: v for k, v in spec.items() if k != "name"}
        return self.build(str(spec["name"]), **kwargs)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {sorted(self._entries)})"
