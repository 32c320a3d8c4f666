"""Loading public (ImageNet) backbone weights into our modules, only when the user asks for it."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from deblurgan.io.download import download, file_kind_for_name, is_url, redact_url

__all__ = ["load_backbone_weights"]

logger = logging.getLogger(__name__)


def _fetched_file(source: str) -> Path | None:
    """The fetched file of a backbone's name in :data:`~deblurgan.models.fetch.FETCHABLE_WEIGHTS`
    (one file, not a generator: ``efficientnet_lite0``) that is not a path here;
    ``FileNotFoundError`` naming the fetch command when it was never fetched."""
    from deblurgan.models.fetch import FETCHABLE_WEIGHTS, fetched_path

    entry = FETCHABLE_WEIGHTS.get(source)
    if entry is None or entry.generator is not None or len(entry.files) != 1:
        return None
    if Path(source).exists():
        return None
    path = fetched_path(source)
    if not path.is_file():
        raise FileNotFoundError(
            f"{source}: these weights are not fetched yet: run 'deblur weights fetch {source}'"
        )
    return path


def _read_state_dict(
    path_or_url: str | os.PathLike[str], sha256: str | None = None
) -> Mapping[str, Tensor]:
    source = os.fspath(path_or_url)
    fetched = _fetched_file(source)
    if fetched is not None:
        if sha256 is not None:
            raise ValueError("sha256 applies to a URL; fetched weights were checked when fetched")
        path_or_url = source = str(fetched)
    if isinstance(path_or_url, str) and is_url(source):
        # Fetched once into the cache by the package's one downloader (keyed by the whole URL
        # and sha256, verified before it is cached); only reached when the caller passes a URL.
        path = download(source, sha256=sha256, kind=file_kind_for_name(source) or "torch")
    else:
        if sha256 is not None:
            raise ValueError("sha256 applies to a URL; a local weights file is read as is")
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: backbone weights file does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except Exception as exc:
            raise ValueError(f"{path}: not a readable safetensors file ({exc})") from exc
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable PyTorch weights file ({exc})") from exc
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise ValueError(f"{path}: does not hold a state dict of tensors")
    return obj


def load_backbone_weights(
    module: nn.Module,
    path_or_url: str | os.PathLike[str],
    *,
    prefix: str = "",
    sha256: str | None = None,
) -> list[str]:
    """Copy public backbone weights into ``module``; file entries the module lacks are skipped.

    Every entry of ``module.state_dict()`` must be present in the file with the same shape, so a
    wrong file fails loudly; extra file entries (a classifier, unused late blocks) are skipped and
    returned.

    Args:
        module: the module to fill, e.g. a :class:`MobileNetV2` or a generator's ``backbone``.
        path_or_url: a local ``.pth``/``.pt`` (read with ``torch.load(weights_only=True)``) or
            ``.safetensors`` file, an https URL fetched once into the cache by
            :func:`deblurgan.io.download.download` (keyed by the whole URL and ``sha256``), or
            the name of weights ``deblur weights fetch`` has fetched (``"efficientnet_lite0"``).
        prefix: keep only file keys that start with it and strip it (``"features."`` to fill a
            bare ``features`` ``Sequential`` from a whole-network file).
        sha256: the expected sha256 of a URL's file.

    Returns:
        The file keys that were not used.

    Raises:
        ValueError: the file is unreadable, lacks a key of ``module`` or has a wrong shape.
        OSError: a URL cannot be downloaded (:class:`~deblurgan.io.download.DownloadError`).

    Example:
        >>> import tempfile, os
        >>> from deblurgan.models.backbones import MobileNetV2
        >>> net = MobileNetV2(width_mult=0.25)
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "mnv2.pth")
        >>> torch.save(net.state_dict(), path)
        >>> skipped = load_backbone_weights(net.features[:4], path, prefix="features.")
        >>> len(skipped), skipped[-1]  # 314 entries, 54 of them in features 0-3
        (260, 'classifier.1.bias')
        >>> tmp.cleanup()
    """
    source = os.fspath(path_or_url)
    if isinstance(path_or_url, str) and is_url(source):
        source = redact_url(source)
    file_state = _read_state_dict(path_or_url, sha256)
    own = module.state_dict()
    selected: dict[str, Tensor] = {}
    skipped: list[str] = []
    for key, value in file_state.items():
        if not key.startswith(prefix) or key[len(prefix) :] not in own:
            skipped.append(key)
            continue
        name = key[len(prefix) :]
        if tuple(value.shape) != tuple(own[name].shape):
            raise ValueError(
                f"{source}: {key!r} has shape {tuple(value.shape)}, "
                f"the module expects {tuple(own[name].shape)}"
            )
        selected[name] = value
    missing = [k for k in own if k not in selected]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ValueError(
            f"{source}: lacks {len(missing)} entries the module needs "
            f"(with prefix {prefix!r}): {shown}"
        )
    module.load_state_dict(selected)
    if skipped:
        logger.debug("%s: skipped %d entries not used by the module", source, len(skipped))
    return skipped
