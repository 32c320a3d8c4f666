"""A|B pairs side by side in one image, the "aligned" format of Pix2Pix (Isola et al., 2017).

DeblurGAN (Kupyn et al., 2018) trained on GoPro frames combined this way: each file holds the
blurry frame in its left half and the sharp one in its right half (``order="blur_sharp"``), or
the reverse (``order="sharp_blur"``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from deblurgan.data.files import list_image_files, normalise_extensions
from deblurgan.data.paired import PairListDataset
from deblurgan.data.registries import DATASETS
from deblurgan.data.transforms import PairAugment
from deblurgan.data.validation import check_image, check_min_size, raise_if_problems
from deblurgan.io import IMAGE_EXTENSIONS, read_image

__all__ = [
    "ALIGNED_ORDERS",
    "AlignedImage",
    "AlignedPairDataset",
    "find_aligned_images",
    "scan_aligned_images",
]

logger = logging.getLogger(__name__)

#: Which half holds which image: ``"blur_sharp"`` (blurry left) or ``"sharp_blur"``.
ALIGNED_ORDERS = ("blur_sharp", "sharp_blur")


@dataclass(frozen=True)
class AlignedImage:
    """One A|B file: its path, a display name and the ``(height, width)`` of each half."""

    path: Path
    name: str
    size: tuple[int, int]


def find_aligned_images(
    root: str | Path,
    *,
    extensions: Sequence[str] = tuple(IMAGE_EXTENSIONS),
    recursive: bool = False,
    min_size: int | tuple[int, int] | None = None,
    decode: bool = False,
) -> list[AlignedImage]:
    """List and validate the A|B images of a folder (headers only, unless ``decode``).

    Args:
        root: folder of A|B images.
        extensions: image file extensions to take (case-insensitive).
        recursive: also take images in sub-folders (names keep the sub-folder).
        min_size: if given, images whose halves are smaller than this are errors.
        decode: decode every image (slow; also catches truncated files).

    Returns:
        The images, sorted by name.

    Raises:
        DatasetError: (a ``ValueError``) listing unreadable files, files of odd width (no two
            equal halves) and files too small for ``min_size``.
        ValueError: ``root`` is not a folder or holds no images.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (16, 6)).save(root / "a.png")
        >>> [(i.name, i.size) for i in find_aligned_images(root)]
        [('a', (6, 8))]
    """
    root = Path(root)
    images, problems = scan_aligned_images(
        root, extensions=extensions, recursive=recursive, min_size=min_size, decode=decode
    )
    raise_if_problems(problems, f"A|B dataset {root}")
    return images


def scan_aligned_images(
    root: str | Path,
    *,
    extensions: Sequence[str] = tuple(IMAGE_EXTENSIONS),
    recursive: bool = False,
    min_size: int | tuple[int, int] | None = None,
    decode: bool = False,
) -> tuple[list[AlignedImage], list[str]]:
    """:func:`find_aligned_images` without raising on bad files: ``(good images, problems)``.

    Raises:
        ValueError: ``root`` is not a folder or holds no images.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (15, 6)).save(root / "odd.png")
        >>> scan_aligned_images(root)[1]  # doctest: +ELLIPSIS
        ['.../odd.png: width 15 is odd; an A|B pair needs two halves of equal width']
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    files = list_image_files(root, extensions=extensions, recursive=recursive)
    if not files:
        allowed = sorted(normalise_extensions(extensions))
        raise ValueError(f"{root}: no images with extensions {allowed}")
    problems: list[str] = []
    images: list[AlignedImage] = []
    for path in files:
        size = check_image(path, problems, decode=decode)
        if size is None:
            continue
        height, width = size
        if width % 2:
            problems.append(
                f"{path}: width {width} is odd; an A|B pair needs two halves of equal width"
            )
            continue
        half = (height, width // 2)
        if check_min_size(path, half, min_size, problems, what="the crop size (per half)"):
            name = path.relative_to(root).with_suffix("").as_posix()
            images.append(AlignedImage(path, name, half))
    return sorted(images, key=lambda image: image.name), problems


@DATASETS.register("aligned")
class AlignedPairDataset(PairListDataset):
    """Blurry/sharp pairs stored as one A|B image each (Pix2Pix's aligned format).

    Every file is validated at construction from its header: one ``ValueError`` lists all
    unreadable files, odd widths and images too small for ``crop_size``.

    Args:
        root: folder of A|B images (``split`` picks a sub-folder, e.g. Pix2Pix's ``train``).
        order: ``"blur_sharp"`` (blurry in the left half) or ``"sharp_blur"``.
        split: optional sub-folder of ``root`` to read.
        crop_size: if given, a random aligned square crop of this side; else whole halves.
        flip: random flips of both images.
        rot90: random quarter turns of both images.
        jitter: colour jitter ``{"brightness": x, "contrast": x, "saturation": x}``, identical for
            both images.
        seed: base seed; item ``i``'s augmentation depends on ``(seed, i)`` only.
        extensions: image file extensions to take.
        recursive: also take images in sub-folders.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> ab = Image.new("RGB", (20, 8), (255, 255, 255))
        >>> ab.paste((0, 0, 0), (0, 0, 10, 8))  # A (left): black, B (right): white
        >>> ab.save(root / "0001.png")
        >>> item = AlignedPairDataset(root, order="sharp_blur")[0]
        >>> item["name"], tuple(item["sharp"].shape)
        ('0001', (3, 8, 10))
        >>> float(item["sharp"].max()), float(item["blurry"].min())
        (0.0, 1.0)
    """

    def __init__(
        self,
        root: str | Path,
        *,
        order: str = "blur_sharp",
        split: str | None = None,
        crop_size: int | None = None,
        flip: bool = False,
        rot90: bool = False,
        jitter: Mapping[str, float] | None = None,
        seed: int = 0,
        extensions: Sequence[str] = tuple(IMAGE_EXTENSIONS),
        recursive: bool = False,
    ) -> None:
        if order not in ALIGNED_ORDERS:
            raise ValueError(f"order must be one of {ALIGNED_ORDERS}, got {order!r}")
        self.order = order
        self.root = Path(root) if split is None else Path(root) / split
        self.augment = PairAugment(crop_size=crop_size, flip=flip, rot90=rot90, jitter=jitter)
        self.crop_size = crop_size
        self.seed = int(seed)
        self.pairs: list[AlignedImage] = find_aligned_images(
            self.root, extensions=extensions, recursive=recursive, min_size=self.augment.min_size
        )
        logger.info(
            "AlignedPairDataset: %d A|B images under %s, %r",
            len(self.pairs),
            self.root,
            self.augment,
        )

    def load(self, index: int) -> tuple[Tensor, Tensor]:
        """Decode image ``index`` and split it into ``(blurry, sharp)``."""
        image = self.pairs[index]
        rgb = read_image(image.path, max_pixels=None).rgb
        width = rgb.shape[-1]
        if width % 2 or (rgb.shape[-2], width // 2) != image.size:
            raise ValueError(
                f"{image.path}: decoded size {width}x{rgb.shape[-2]} differs from the "
                f"{2 * image.size[1]}x{image.size[0]} checked at start-up"
            )
        left, right = rgb[..., : width // 2], rgb[..., width // 2 :]
        return (left, right) if self.order == "blur_sharp" else (right, left)
