"""What the web server computes, without the web: models loaded once, one upload restored.

:class:`ModelPool` loads each offered model at most once and shares it between requests;
:func:`restore_upload` turns the bytes of one uploaded photo into the bytes of the restored one,
through the same reader, :class:`~deblurgan.inference.Deblurrer` and writer as ``deblur IMAGE``,
so the result keeps the format, bit depth, alpha, EXIF and ICC profile of the upload. The
client's file name is never a path: the bytes go to a fixed name in a private temporary folder
(mode 0700) that is removed before the function returns.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from torch import nn

from deblurgan.inference import Deblurrer, deblur_file, output_suffix
from deblurgan.io import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, ImageError
from deblurgan.models.generator import arch_spec

__all__ = [
    "MEDIA_TYPES",
    "ModelLoadError",
    "ModelPool",
    "RestoreOptions",
    "Restored",
    "UnknownModelError",
    "client_stem",
    "restore_upload",
]

logger = logging.getLogger(__name__)

#: Extension (lower case) of a restored file -> its media type.
MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
}

_OUTPUT_TAG = "_deblurred"


class UnknownModelError(ValueError):
    """A model name that the server does not offer."""


class ModelLoadError(RuntimeError):
    """An offered model that cannot be loaded: the server's fault, not the request's."""


class ModelPool:
    """The models a server offers, by display name; each is loaded on first use, then shared.

    Args:
        sources: display name -> what :func:`deblurgan.models.load_generator` loads (a weights
            name such as ``"default"``, or a checkpoint path). The first is the default.
        device: where the models run (``"auto"``, ``"cpu"``, ``"cuda"``...).
        loaded: models already in memory, by display name (each must also be in ``sources``,
            whose value then only describes it): for a program that serves its own module.

    Example:
        >>> import os, tempfile
        >>> from deblurgan.models import build_generator, save_generator
        >>> path = os.path.join(tempfile.mkdtemp(), "tiny.safetensors")
        >>> _ = save_generator(build_generator({"name": "resnet", "width": 4, "n_blocks": 1}), path)
        >>> pool = ModelPool({"tiny": path}, device="cpu")
        >>> pool.get("tiny") is pool.get(None)
        True
    """

    def __init__(
        self,
        sources: Mapping[str, str],
        *,
        device: str = "auto",
        loaded: Mapping[str, nn.Module] | None = None,
    ) -> None:
        if not sources:
            raise ValueError("a ModelPool needs at least one model")
        self.sources = dict(sources)
        self.default = next(iter(self.sources))
        self.device = device
        self._models: dict[str, nn.Module] = dict(loaded or {})
        unknown = set(self._models) - set(self.sources)
        if unknown:
            raise ValueError(f"loaded models {sorted(unknown)} are not among the sources")
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """The offered display names, the default first."""
        return list(self.sources)

    def is_loaded(self, name: str) -> bool:
        """Whether ``name`` has been loaded already."""
        return name in self._models

    def get(self, name: str | None) -> nn.Module:
        """The model called ``name`` (``None``: the default), loaded now if it was not yet.

        Raises:
            UnknownModelError: ``name`` is not offered (the message lists the offered names).
            ModelLoadError: the model cannot be loaded (one line).
        """
        name = self.default if name is None or name == "" else name
        if name not in self.sources:
            offered = ", ".join(self.sources)
            raise UnknownModelError(f"unknown model {name!r}; this server offers: {offered}")
        with self._lock:  # two first requests for one model load it once
            if name not in self._models:
                from deblurgan.inference.deblurrer import resolve_device
                from deblurgan.models import load_generator

                source = self.sources[name]
                try:
                    model = load_generator(source, map_location=resolve_device(self.device))
                except Exception as exc:
                    detail = " ".join(str(exc).split())
                    raise ModelLoadError(f"cannot load model {name!r}: {detail}") from exc
                self._models[name] = model
                logger.info("loaded model %s from %s", name, source)
            return self._models[name]

    def describe(self) -> list[dict[str, Any]]:
        """One record per model: ``name``, ``default``, ``loaded``, ``arch`` (when loaded)."""
        records = []
        for name in self.sources:
            model = self._models.get(name)
            arch = arch_spec(model).get("name") if model is not None else None
            records.append(
                {
                    "name": name,
                    "default": name == self.default,
                    "loaded": model is not None,
                    "arch": arch,
                }
            )
        return records


@dataclass(frozen=True)
class RestoreOptions:
    """How one upload is restored: the :class:`Deblurrer` settings and the output quality."""

    tile_size: int = 1024
    tile_overlap: int = 64
    precision: str = "fp32"
    quality: int = 95
    max_pixels: int | None = DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class Restored:
    """A restored upload: the encoded file, its media type and its download name."""

    data: bytes
    media_type: str
    filename: str


def _client_name_parts(filename: str | None) -> tuple[str, str]:
    """``(stem, suffix)`` of a client's file name, without any folder (``/`` or ``\\``)."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name.strip()
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return name or "image", ""
    return stem, f".{ext}"


def client_stem(filename: str | None) -> str:
    """The stem of a client's file name, without folders (control characters are kept: every
    message escapes them, and the download name drops them).

    Example:
        >>> client_stem("../../etc/passwd"), client_stem("C:\\\\x\\\\shot 1.JPG"), client_stem(None)
        ('passwd', 'shot 1', 'image')
    """
    return _client_name_parts(filename)[0]


def restore_upload(
    data: bytes,
    filename: str | None,
    model: nn.Module,
    *,
    device: str = "auto",
    options: RestoreOptions = RestoreOptions(),
) -> Restored:
    """Restore the bytes of one uploaded image file.

    The format of the result is the one ``deblur IMAGE`` writes for a file of that name: the
    upload's own (``.jpg .png .tif .webp``), else PNG. The download name is
    ``<stem>_deblurred<ext>``.

    Args:
        data: the uploaded file.
        filename: the client's name for it (only its stem and extension are used, never as a
            path).
        model: the generator.
        device: where it runs.
        options: tiling, precision, quality and the pixel limit.

    Returns:
        The restored file.

    Raises:
        ImageError: the upload is empty, truncated, not an image or over the pixel limit; its
            message names the client's file (escaped), as the command line names a path.
        ValueError: bad options (tile overlap not below the tile size...).

    Example:
        >>> import io, torch
        >>> from PIL import Image
        >>> buffer = io.BytesIO(); Image.new("RGB", (12, 8), "red").save(buffer, "PNG")
        >>> out = restore_upload(buffer.getvalue(), "a/red.png", torch.nn.Identity(), device="cpu")
        >>> out.filename, out.media_type, Image.open(io.BytesIO(out.data)).size
        ('red_deblurred.png', 'image/png', (12, 8))
        >>> restore_upload(b"", "empty.jpg", torch.nn.Identity(), device="cpu")
        Traceback (most recent call last):
        ...
        deblurgan.io.errors.ImageError: empty.jpg: file is empty
    """
    stem, suffix = _client_name_parts(filename)
    shown = f"{stem}{suffix}"
    deblurrer = Deblurrer(
        model,
        device=device,
        precision=options.precision,
        tile_size=options.tile_size,
        tile_overlap=options.tile_overlap,
    )
    in_suffix = suffix.lower() if suffix.lower() in IMAGE_EXTENSIONS else ""
    out_suffix = output_suffix(shown)
    with tempfile.TemporaryDirectory(prefix="deblur-serve-") as folder:  # mode 0700
        source = Path(folder) / f"upload{in_suffix}"
        target = Path(folder) / f"restored{out_suffix.lower()}"
        source.write_bytes(data)
        try:
            deblur_file(
                deblurrer, source, target, max_pixels=options.max_pixels, quality=options.quality
            )
        except ImageError as exc:
            # The same line as the command line prints, with the client's name for the path.
            problem = exc.problem.replace(folder, "")
            raise ImageError(shown, problem) from None
        result = target.read_bytes()
    media_type = MEDIA_TYPES[out_suffix.lower()]
    download = "".join(c for c in f"{stem}{_OUTPUT_TAG}{out_suffix}" if c.isprintable())
    return Restored(result, media_type, download)
