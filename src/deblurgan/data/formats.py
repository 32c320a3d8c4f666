"""Dataset layouts on disk: their names, and which one a folder holds.

One place answers "which dataset reads this folder?" for every caller: ``deblur data check``
(:func:`deblurgan.data.check_dataset`) and ``deblur eval``
(:func:`deblurgan.inference.evaluation.load_eval_dataset`) both go through
:func:`resolve_format`, whose answers are names of :data:`deblurgan.data.DATASETS`.
"""

from __future__ import annotations

from pathlib import Path

from deblurgan.data.gopro import GOPRO_BLUR_DIRS

__all__ = ["DATASET_FORMATS", "GOPRO_SPLITS", "detect_format", "resolve_format"]

#: The on-disk layouts, by the registered name of the dataset that reads them.
DATASET_FORMATS = ("gopro", "paired_folders", "aligned", "synthetic")
#: The split folders of the GoPro layout (``ROOT/{train,test}/<scene>/{blur,sharp}``).
GOPRO_SPLITS = ("train", "test")


def _has_pair_dirs(folder: Path) -> bool:
    return (folder / "sharp").is_dir() and any((folder / blur).is_dir() for blur in GOPRO_BLUR_DIRS)


def detect_format(root: str | Path) -> str:
    """Guess the layout of a dataset folder.

    ``"gopro"`` if ``root/train`` or ``root/test`` holds scene folders with ``sharp`` and
    ``blur``/``blur_gamma``; ``"paired_folders"`` if ``root`` (or a folder below it) has ``blur``
    and ``sharp`` folders; otherwise ``"synthetic"`` (a folder of photos). A|B images cannot be
    told from photos by their files: name ``"aligned"`` explicitly.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "test" / "GOPR0001_00" / "sharp").mkdir(parents=True)
        >>> (root / "test" / "GOPR0001_00" / "blur").mkdir()
        >>> detect_format(root)
        'gopro'
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    for split in GOPRO_SPLITS:
        folder = root / split
        if folder.is_dir() and any(_has_pair_dirs(s) for s in folder.iterdir() if s.is_dir()):
            return "gopro"
    if (root / "blur").is_dir() or (root / "sharp").is_dir():
        return "paired_folders"
    if any(p.is_dir() for p in root.rglob("sharp")):
        return "paired_folders"
    return "synthetic"


def resolve_format(root: str | Path, format: str = "auto") -> str:
    """The layout of the dataset folder ``root``: ``format`` once checked, or the detected one.

    Args:
        root: the dataset folder (read only for ``"auto"``).
        format: ``"auto"`` (:func:`detect_format`) or one of :data:`DATASET_FORMATS`.

    Returns:
        A name of :data:`DATASET_FORMATS` (and of :data:`deblurgan.data.DATASETS`). ``"auto"``
        gives ``"synthetic"`` for a folder with neither layout: callers that cannot take photos
        for pairs check ``format == "auto" and detected == "synthetic"``.

    Raises:
        ValueError: an unknown ``format``, or ``"auto"`` and ``root`` is not a folder.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "blur").mkdir()
        >>> resolve_format(root), resolve_format(root, "aligned")
        ('paired_folders', 'aligned')
    """
    if format != "auto" and format not in DATASET_FORMATS:
        raise ValueError(f"format must be 'auto' or one of {DATASET_FORMATS}, got {format!r}")
    return detect_format(root) if format == "auto" else format
