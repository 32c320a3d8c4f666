"""Check a dataset folder before training: detect its layout, validate every file, summarise it.

This is what ``deblur data check ROOT`` runs. It uses the datasets' own start-up validation
(:mod:`deblurgan.data.validation`), so it reports exactly the problems that would stop training,
all at once, and never decodes pixels unless asked to.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deblurgan.data.aligned import scan_aligned_images
from deblurgan.data.files import list_image_files
from deblurgan.data.formats import DATASET_FORMATS, GOPRO_SPLITS, detect_format, resolve_format
from deblurgan.data.gopro import GOPRO_BLUR_DIRS
from deblurgan.data.paired import scan_pairs
from deblurgan.data.validation import check_image, check_min_size
from deblurgan.io import IMAGE_EXTENSIONS, printable

__all__ = ["DATASET_FORMATS", "DatasetPart", "DatasetReport", "check_dataset", "detect_format"]


@dataclass
class DatasetPart:
    """One checked part of a dataset (a GoPro split and blur kind, or the whole folder).

    Attributes:
        name: ``"train/blur"`` for GoPro, else ``""``.
        root: the folder that was read.
        count: usable items (pairs, A|B images or photos).
        sizes: how many items have each ``(height, width)`` (per half for A|B images).
    """

    name: str
    root: Path
    count: int
    sizes: Counter[tuple[int, int]] = field(default_factory=Counter)


@dataclass
class DatasetReport:
    """What :func:`check_dataset` found: the layout, the parts and every problem."""

    root: Path
    format: str
    parts: list[DatasetPart] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problems, and at least one usable item."""
        return not self.problems and any(part.count for part in self.parts)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "root": str(self.root),
            "format": self.format,
            "ok": self.ok,
            "parts": [
                {
                    "name": part.name,
                    "root": str(part.root),
                    "count": part.count,
                    "sizes": [
                        {"height": h, "width": w, "count": n}
                        for (h, w), n in part.sizes.most_common()
                    ],
                }
                for part in self.parts
            ],
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def _sizes(items: Sequence[Any]) -> Counter[tuple[int, int]]:
    return Counter(item.size for item in items)


def _run(report: DatasetReport, name: str, root: Path, scan: Any, noun: str) -> None:
    """Run one scan; record its good items and its problems."""
    try:
        items, problems = scan()
    except ValueError as exc:  # no such folder, no pair folders, no images
        items, problems = [], [str(exc)]
    if not items and not problems:
        problems = [f"{root}: no {noun} found"]
    report.problems.extend(problems)
    report.parts.append(DatasetPart(name, root, len(items), _sizes(items)))


def _refuse_unreadable_folders(root: Path) -> None:
    """Raise OSError naming the first folder under ``root`` that cannot be listed: the scans
    below (``Path.rglob``) would skip it without a word and check a partial dataset."""
    unreadable: list[OSError] = []
    for _ in os.walk(root, onerror=unreadable.append):
        pass
    if unreadable:
        first = unreadable[0]
        reason = "permission denied" if isinstance(first, PermissionError) else first.strerror
        more = f"; and {len(unreadable) - 1} other folder(s)" if len(unreadable) > 1 else ""
        raise OSError(first.errno, f"{reason or first}{more}", first.filename)


def check_dataset(
    root: str | Path,
    *,
    format: str = "auto",
    crop_size: int | None = None,
    decode: bool = False,
    blur: str | None = None,
    recursive: bool = False,
    extensions: Sequence[str] = tuple(IMAGE_EXTENSIONS),
) -> DatasetReport:
    """Validate a dataset folder the way its dataset would at start-up, and summarise it.

    Args:
        root: the dataset folder.
        format: one of :data:`DATASET_FORMATS`, or ``"auto"``
            (:func:`~deblurgan.data.formats.resolve_format`).
        crop_size: also report images too small for crops of this side.
        decode: decode every image, not only its header (slow; finds truncated files).
        blur: GoPro only: ``"blur"`` or ``"blur_gamma"``; ``None`` checks each one present.
        recursive: A|B and photo folders: include sub-folders.
        extensions: image file extensions to consider.

    Returns:
        The report; problems are listed, never raised.

    Raises:
        ValueError: ``root`` is not a folder or cannot be read, or an unknown ``format`` /
            ``blur``.
        OSError: a folder inside ``root`` cannot be listed (its ``filename`` names it).

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> for side in ("blur", "sharp"):
        ...     (root / side).mkdir()
        ...     Image.new("RGB", (8, 6)).save(root / side / "a.png")
        >>> (root / "blur" / "b.png").write_bytes(b"not an image")
        12
        >>> report = check_dataset(root)
        >>> report.format, report.ok, len(report.problems)
        ('paired_folders', False, 1)
    """
    root = Path(root)
    if blur is not None and blur not in GOPRO_BLUR_DIRS:
        raise ValueError(f"blur must be one of {GOPRO_BLUR_DIRS} or None, got {blur!r}")
    if not root.is_dir():
        raise ValueError(f"{printable(root)}: not a folder")
    try:
        with os.scandir(root):
            pass
    except OSError as exc:
        reason = "permission denied" if isinstance(exc, PermissionError) else exc.strerror
        raise ValueError(f"{printable(root)}: cannot be read ({reason or exc})") from exc
    _refuse_unreadable_folders(root)
    detected = resolve_format(root, format)
    report = DatasetReport(root, detected)
    if format == "auto" and detected == "synthetic":
        report.notes.append(
            "checked as a folder of sharp photos (synthetic); A|B images need the format 'aligned'"
        )
    if detected == "gopro":
        _check_gopro(report, root, blur, crop_size, decode, extensions)
    elif detected == "paired_folders":
        _run(
            report,
            "",
            root,
            lambda: scan_pairs(root, min_size=crop_size, decode=decode, extensions=extensions),
            "image pairs",
        )
    elif detected == "aligned":
        _run(
            report,
            "",
            root,
            lambda: scan_aligned_images(
                root,
                min_size=crop_size,
                decode=decode,
                recursive=recursive,
                extensions=extensions,
            ),
            "A|B images",
        )
    else:
        _check_photos(report, root, crop_size, decode, recursive, extensions)
    return report


def _check_gopro(
    report: DatasetReport,
    root: Path,
    blur: str | None,
    crop_size: int | None,
    decode: bool,
    extensions: Sequence[str],
) -> None:
    splits = [s for s in GOPRO_SPLITS if (root / s).is_dir()]
    if not splits:
        report.problems.append(
            f"{root}: no 'train' or 'test' folder (GoPro layout: "
            "ROOT/{train,test}/<scene>/{blur,blur_gamma,sharp}/*.png)"
        )
        return
    for split in splits:
        folder = root / split
        kinds = [blur] if blur else [b for b in GOPRO_BLUR_DIRS if any(folder.rglob(b))]
        for kind in kinds or ["blur"]:
            _run(
                report,
                f"{split}/{kind}",
                folder,
                lambda folder=folder, kind=kind: scan_pairs(
                    folder,
                    blur_dir=kind,
                    sharp_dir="sharp",
                    min_size=crop_size,
                    decode=decode,
                    extensions=extensions,
                ),
                "image pairs",
            )


@dataclass(frozen=True)
class _Photo:
    path: Path
    size: tuple[int, int]


def _check_photos(
    report: DatasetReport,
    root: Path,
    crop_size: int | None,
    decode: bool,
    recursive: bool,
    extensions: Sequence[str],
) -> None:
    photos: list[_Photo] = []
    files = list_image_files(root, extensions=extensions, recursive=recursive)
    if not files:
        report.problems.append(f"{root}: no images with extensions {sorted(set(extensions))}")
    for path in files:
        size = check_image(path, report.problems, decode=decode)
        if size is not None and check_min_size(path, size, crop_size, report.problems):
            photos.append(_Photo(path, size))
    report.parts.append(DatasetPart("", root, len(photos), _sizes(photos)))
