"""Real blurry/sharp pairs stored in parallel folders (the GoPro layout of Nah et al., 2017)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor
from torch.utils.data import Dataset

from deblurgan.data.files import normalise_extensions
from deblurgan.data.registries import DATASETS
from deblurgan.data.transforms import PairAugment, item_generator
from deblurgan.data.validation import check_image, check_min_size, raise_if_problems
from deblurgan.io import IMAGE_EXTENSIONS, read_image

__all__ = [
    "ImagePair",
    "PairListDataset",
    "PairedFolderDataset",
    "find_pairs",
    "load_pair",
    "scan_pairs",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImagePair:
    """One blurry/sharp pair: both paths, a display name and the ``(height, width)`` size."""

    blurry: Path
    sharp: Path
    name: str
    size: tuple[int, int]


def _image_files(folder: Path, extensions: frozenset[str]) -> dict[str, Path]:
    return {
        p.name: p
        for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in extensions
    }


def find_pairs(
    root: str | Path,
    *,
    blur_dir: str = "blur",
    sharp_dir: str = "sharp",
    extensions: Sequence[str] = tuple(IMAGE_EXTENSIONS),
    min_size: int | tuple[int, int] | None = None,
    decode: bool = False,
) -> list[ImagePair]:
    """Pair ``root/blur_dir/NAME`` with ``root/sharp_dir/NAME`` and validate every pair.

    If ``root`` has no ``blur_dir``/``sharp_dir`` of its own, every folder below it that holds
    them is a sequence (GoPro: ``train/<sequence>/blur/000047.png``); names are then prefixed with
    the sequence path. Validation reads image headers only, unless ``decode``.

    Args:
        root: dataset folder.
        blur_dir: name of the blurry folder(s).
        sharp_dir: name of the sharp folder(s).
        extensions: image file extensions to pair (case-insensitive).
        min_size: if given, images smaller than this in either side are errors.
        decode: decode every image (slow; also catches truncated files).

    Returns:
        The pairs, sorted by name.

    Raises:
        DatasetError: (a ``ValueError``) listing every file without a partner, pairs of different
            sizes, unreadable or too small files.
        ValueError: ``root`` is not a folder, has no pair folders, or no pairs.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> for side in ("blur", "sharp"):
        ...     (root / side).mkdir()
        ...     Image.new("RGB", (8, 6)).save(root / side / "a.png")
        >>> [(p.name, p.size) for p in find_pairs(root)]
        [('a', (6, 8))]
    """
    root = Path(root)
    pairs, problems = scan_pairs(
        root,
        blur_dir=blur_dir,
        sharp_dir=sharp_dir,
        extensions=extensions,
        min_size=min_size,
        decode=decode,
    )
    raise_if_problems(problems, f"paired dataset {root}")
    if not pairs:
        raise ValueError(f"{root}: no image pairs found in '{blur_dir}'/'{sharp_dir}'")
    return pairs


def scan_pairs(
    root: str | Path,
    *,
    blur_dir: str = "blur",
    sharp_dir: str = "sharp",
    extensions: Sequence[str] = tuple(IMAGE_EXTENSIONS),
    min_size: int | tuple[int, int] | None = None,
    decode: bool = False,
) -> tuple[list[ImagePair], list[str]]:
    """:func:`find_pairs` without raising on bad files: ``(good pairs, problem lines)``.

    Raises:
        ValueError: ``root`` is not a folder or has no ``blur_dir``/``sharp_dir`` folders.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "blur").mkdir()
        >>> scan_pairs(root)[1]  # doctest: +ELLIPSIS
        ['.../sharp: missing folder']
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    exts = normalise_extensions(extensions)
    if (root / blur_dir).is_dir() or (root / sharp_dir).is_dir():
        groups = [root]
    else:
        candidates = {p.parent for p in root.rglob(blur_dir) if p.is_dir()}
        candidates |= {p.parent for p in root.rglob(sharp_dir) if p.is_dir()}
        groups = sorted(candidates)
    if not groups:
        raise ValueError(f"{root}: no '{blur_dir}' or '{sharp_dir}' folders found")

    problems: list[str] = []
    pairs: list[ImagePair] = []
    for group in groups:
        blur_folder, sharp_folder = group / blur_dir, group / sharp_dir
        for folder in (blur_folder, sharp_folder):
            if not folder.is_dir():
                problems.append(f"{folder}: missing folder")
        if not (blur_folder.is_dir() and sharp_folder.is_dir()):
            continue
        blurry_files = _image_files(blur_folder, exts)
        sharp_files = _image_files(sharp_folder, exts)
        for name in sorted(blurry_files.keys() - sharp_files.keys()):
            problems.append(f"{blurry_files[name]}: no sharp partner {sharp_folder / name}")
        for name in sorted(sharp_files.keys() - blurry_files.keys()):
            problems.append(f"{sharp_files[name]}: no blurry partner {blur_folder / name}")
        prefix = "" if group == root else group.relative_to(root).as_posix() + "/"
        for name in sorted(blurry_files.keys() & sharp_files.keys()):
            blurry_path, sharp_path = blurry_files[name], sharp_files[name]
            blurry_size = check_image(blurry_path, problems, decode=decode)
            sharp_size = check_image(sharp_path, problems, decode=decode)
            if blurry_size is None or sharp_size is None:
                continue
            if blurry_size != sharp_size:
                problems.append(
                    f"{blurry_path}: size {blurry_size[1]}x{blurry_size[0]} differs from "
                    f"its sharp partner's {sharp_size[1]}x{sharp_size[0]}"
                )
                continue
            if check_min_size(blurry_path, blurry_size, min_size, problems):
                stem = Path(name).stem
                pairs.append(ImagePair(blurry_path, sharp_path, prefix + stem, blurry_size))
    return sorted(pairs, key=lambda p: p.name), problems


def load_pair(pair: ImagePair) -> tuple[Tensor, Tensor]:
    """Decode both images of a pair as ``(3, H, W)`` float32; their shapes must agree."""
    blurry = read_image(pair.blurry, max_pixels=None).rgb
    sharp = read_image(pair.sharp, max_pixels=None).rgb
    if blurry.shape != sharp.shape:
        raise ValueError(
            f"{pair.blurry}: decoded shape {tuple(blurry.shape)} differs from "
            f"{pair.sharp}'s {tuple(sharp.shape)}"
        )
    return blurry, sharp


class PairListDataset(Dataset[dict[str, Any]]):
    """Shared item logic of the paired datasets: a list of pairs, a loader and a PairAugment.

    Item ``i`` decodes pair ``i`` and applies the augmentation with a generator seeded by
    ``(seed, i)``, so items are the same in every epoch, process and DataLoader worker.
    Subclasses set ``pairs``, ``augment`` and ``seed`` and may override :meth:`load`.
    """

    pairs: Sequence[Any]
    augment: PairAugment
    seed: int

    def load(self, index: int) -> tuple[Tensor, Tensor]:
        """Decode pair ``index`` as ``(blurry, sharp)``, each ``(3, H, W)``."""
        return load_pair(self.pairs[index])

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)} pairs")
        index %= len(self)
        blurry, sharp = self.load(index)
        if self.augment.random:
            blurry, sharp = self.augment(blurry, sharp, generator=item_generator(self.seed, index))
        return {
            "blurry": blurry.contiguous().float(),
            "sharp": sharp.contiguous().float(),
            "name": self.pairs[index].name,
        }


@DATASETS.register("paired_folders")
class PairedFolderDataset(PairListDataset):
    """Blurry/sharp pairs from parallel folders, e.g. GoPro's ``<sequence>/blur`` and ``/sharp``.

    Files pair by name (stem and extension). Every pair is validated at construction from the
    image headers: one ``ValueError`` lists all missing partners, size mismatches, unreadable
    files and images smaller than ``crop_size``.

    Args:
        root: dataset folder holding ``blur_dir`` and ``sharp_dir``, or sequence folders that do.
        blur_dir: name of the blurry folder.
        sharp_dir: name of the sharp folder.
        crop_size: if given, a random aligned square crop of this side (training); else whole
            images (evaluation).
        flip: random horizontal and vertical flips applied to both images.
        rot90: random quarter turns applied to both images.
        jitter: colour jitter ``{"brightness": x, "contrast": x, "saturation": x}`` applied
            identically to both images (see :class:`~deblurgan.data.transforms.PairAugment`).
        seed: base seed; item ``i``'s augmentation depends on ``(seed, i)`` only.
        extensions: image file extensions to pair.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> for side in ("blur", "sharp"):
        ...     (root / side).mkdir()
        ...     Image.new("RGB", (20, 16), (10, 20, 30)).save(root / side / "0001.png")
        >>> item = PairedFolderDataset(root, crop_size=8)[0]
        >>> item["blurry"].shape, item["sharp"].shape, item["name"]
        (torch.Size([3, 8, 8]), torch.Size([3, 8, 8]), '0001')
    """

    def __init__(
        self,
        root: str | Path,
        *,
        blur_dir: str = "blur",
        sharp_dir: str = "sharp",
        crop_size: int | None = None,
        flip: bool = False,
        rot90: bool = False,
        jitter: Mapping[str, float] | None = None,
        seed: int = 0,
        extensions: Sequence[str] = tuple(IMAGE_EXTENSIONS),
    ) -> None:
        self.root = Path(root)
        self.augment = PairAugment(crop_size=crop_size, flip=flip, rot90=rot90, jitter=jitter)
        self.crop_size = crop_size
        self.seed = int(seed)
        self.pairs = find_pairs(
            self.root,
            blur_dir=blur_dir,
            sharp_dir=sharp_dir,
            extensions=extensions,
            min_size=self.augment.min_size,
        )
        logger.info(
            "%s: %d pairs under %s, %r",
            type(self).__name__,
            len(self.pairs),
            self.root,
            self.augment,
        )
