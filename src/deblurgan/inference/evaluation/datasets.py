"""Opening datasets for evaluation: whole images, items decoded one by one, true kernels.

Part of the evaluation protocol of :mod:`deblurgan.inference.evaluation`. The layout of a folder
comes from the data layer (:func:`deblurgan.data.formats.resolve_format`) and the dataset is built
through its registry (:data:`deblurgan.data.DATASETS`), read without crops, flips or noise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from deblurgan.blur.realistic import build_degradation
from deblurgan.data import DATASETS
from deblurgan.data.formats import resolve_format
from deblurgan.data.validation import DatasetError
from deblurgan.io import read_kernel

__all__ = ["KERNEL_DIR", "EvalDataset", "EvalItem", "load_eval_dataset"]

#: The folder next to ``blur/`` and ``sharp/`` that holds one kernel per pair (``deblur blur``).
KERNEL_DIR = "kernel"
_KERNEL_SUFFIXES = (".png", ".tif", ".tiff", ".npy")


@dataclass(frozen=True)
class EvalItem:
    """One evaluation item at full size.

    Args:
        name: the item's name (``"GOPR0384_11_00/000001"``), unique within the dataset.
        blurry: the input, ``(3, H, W)`` float in [0, 1].
        sharp: the reference, same shape.
        kernel: the true blur kernel ``(kh, kw)`` (odd sides, sum 1), when known.
        source: the file the item comes from, for messages.
    """

    name: str
    blurry: Tensor
    sharp: Tensor
    kernel: Tensor | None = None
    source: str = ""


def _kernel_file(blurry: Path) -> Path | None:
    folder = blurry.parent.parent / KERNEL_DIR
    stem = blurry.stem
    for suffix in _KERNEL_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


class EvalDataset:
    """A dataset read for evaluation: whole images, items decoded one by one when asked for.

    Build it with :func:`load_eval_dataset`. Indexing decodes item ``i`` (and its kernel file,
    if any) and raises ``ValueError``/``OSError`` naming the file when that fails, so that an
    evaluation can skip it and go on.

    Args:
        dataset: a dataset of :data:`deblurgan.data.DATASETS` whose items are
            ``{"blurry", "sharp", "name"}`` (and ``"kernel"`` for synthetic data).
        info: what describes the dataset in a protocol (root, format, split, ...).
        sources: the file of each item (for messages), as many as the dataset has items.
        kernel_files: the kernel file of each item, when kernels come from files.
        has_kernels: whether every item carries its true kernel.
        limit: evaluate only the first ``limit`` items.
    """

    def __init__(
        self,
        dataset: Any,
        *,
        info: Mapping[str, Any],
        sources: Sequence[str],
        kernel_files: Sequence[Path] | None = None,
        has_kernels: bool = False,
        limit: int | None = None,
    ) -> None:
        self.dataset = dataset
        self.info = dict(info)
        self.sources = list(sources)
        self.kernel_files = list(kernel_files) if kernel_files is not None else None
        self.has_kernels = bool(has_kernels)
        total = len(dataset)
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
        self.length = total if limit is None else min(total, limit)
        self.info["items"] = total
        self.info["evaluated"] = self.length
        #: name -> the degradation parameters of each item read so far (realistic synthetic data).
        self.item_params: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return self.length

    def source(self, index: int) -> str:
        """The file item ``index`` comes from (for messages)."""
        return self.sources[index] if index < len(self.sources) else f"item {index}"

    def __getitem__(self, index: int) -> EvalItem:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} items")
        item = self.dataset[index]
        kernel = item.get("kernel")
        if self.kernel_files is not None:
            kernel = read_kernel(self.kernel_files[index]).float()
        if item.get("params") is not None:
            self.item_params[str(item["name"])] = item["params"]
        return EvalItem(
            name=str(item["name"]),
            blurry=item["blurry"],
            sharp=item["sharp"],
            kernel=kernel,
            source=self.source(index),
        )

    def __repr__(self) -> str:
        return f"EvalDataset({self.info.get('format')!r}, {self.info.get('root')!r}, {len(self)})"


def load_eval_dataset(
    root: str | os.PathLike[str],
    *,
    format: str = "auto",
    split: str = "test",
    blur: str = "blur",
    order: str = "blur_sharp",
    crop_size: int | None = 256,
    sampler: Any = None,
    seed: int = 0,
    kernels: bool = False,
    limit: int | None = None,
    degradation: Any = None,
    length: int | None = None,
) -> EvalDataset:
    """Open a dataset folder for evaluation, whole images, validated up front.

    Args:
        root: the dataset folder.
        format: ``"auto"`` or one of :data:`deblurgan.data.DATASET_FORMATS`. ``"auto"`` knows the
            GoPro layout (``ROOT/{train,test}/<scene>/{blur,sharp}``) and paired folders
            (``ROOT/blur`` + ``ROOT/sharp``, or sequence folders holding them); A|B images
            (``"aligned"``) and sharp photos to blur (``"synthetic"``) must be named.
        split: GoPro: the split folder (``"test"``); aligned: an optional sub-folder.
        blur: GoPro: ``"blur"`` or ``"blur_gamma"``.
        order: aligned: ``"blur_sharp"`` (blurry left) or ``"sharp_blur"``.
        crop_size: synthetic: the side of the square crop taken from each photo at scale 1 (the
            only format that crops); ``None``: whole photos (realistic pipeline only).
        sampler: synthetic: a blur sampler spec selects the known-kernel protocol with it.
        seed: synthetic: the base seed; item ``i`` depends on ``(seed, i)`` only.
        kernels: load each item's true kernel (for the classical methods): from the synthetic
            known-kernel protocol (default sampler camera shake, ``trajectory``), or from
            ``<pair folder>/kernel/<stem>.{png,tif,tiff,npy}``.
        limit: evaluate only the first ``limit`` items.
        degradation: synthetic: the realistic pipeline's settings (see
            :func:`~deblurgan.blur.build_degradation`; default its defaults).
        length: synthetic: the number of items (default one per photo; item ``i`` uses photo
            ``i % n``).

    Synthetic pairs go through the realistic pipeline unless kernels are asked for (or a
    sampler given): then they are blurred on the stored (encoded) values, without noise or
    flips, so the true kernel is exactly the degradation the classical methods invert.

    Returns:
        The dataset.

    Raises:
        ValueError: ``root`` is not a folder, its format is not recognised, or (a
            :class:`~deblurgan.data.DatasetError`) some files are missing, unpaired, unreadable or
            lack a kernel; the message names them.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> for side in ("blur", "sharp"):
        ...     (root / side).mkdir()
        ...     Image.new("RGB", (20, 16)).save(root / side / "a.png")
        >>> data = load_eval_dataset(root)
        >>> data.info["format"], len(data), tuple(data[0].blurry.shape)
        ('paired_folders', 1, (3, 16, 20))
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: no such dataset folder")
    detected = resolve_format(root, format)
    if format == "auto" and detected == "synthetic":
        raise ValueError(
            f"{root}: neither GoPro layout nor blur/ and sharp/ folders; name the format: "
            "'aligned' for A|B images, 'synthetic' to blur a folder of sharp photos"
        )
    info: dict[str, Any] = {"root": str(root), "format": detected}
    if detected in ("gopro", "paired_folders"):
        options: dict[str, Any] = {}
        if detected == "gopro":
            options = {"split": split, "blur": blur}
        dataset: Any = DATASETS.build(detected, root=root, **options)  # a PairedFolderDataset
        info.update(options)
        pairs = dataset.pairs
        return EvalDataset(
            dataset,
            info=info,
            sources=[str(p.blurry) for p in pairs],
            kernel_files=_kernel_files(root, [p.blurry for p in pairs]) if kernels else None,
            has_kernels=kernels,
            limit=limit,
        )
    if detected == "aligned":
        if kernels:
            raise ValueError(f"{root}: A|B (aligned) images carry no blur kernels")
        sub = split if (root / split).is_dir() else None
        aligned: Any = DATASETS.build("aligned", root=root, order=order, split=sub)
        info.update(order=order, split=sub)
        return EvalDataset(
            aligned, info=info, sources=[str(p.path) for p in aligned.pairs], limit=limit
        )
    synthetic: Any  # a SyntheticBlurDataset
    if sampler is not None or kernels:  # the known-kernel protocol of the classical methods
        if crop_size is None:
            raise ValueError("the known-kernel protocol crops the photos: give a crop size")
        synthetic = DATASETS.build(
            "synthetic",
            root=root,
            crop_size=crop_size,
            length=length,
            sampler=sampler if sampler is not None else {"name": "trajectory"},
            scale=1.0,
            noise_std=0.0,
            flip=False,
            linear_light=False,
            seed=seed,
            return_kernel=kernels,
        )
        info.update(
            crop_size=crop_size, seed=seed, degradation="kernel", sampler=repr(synthetic.sampler)
        )
    else:
        pipeline = build_degradation(degradation)
        synthetic = DATASETS.build(
            "synthetic",
            root=root,
            crop_size=crop_size,
            length=length,
            degradation=pipeline,
            scale=1.0,
            flip=False,
            seed=seed,
            return_params=True,
        )
        info.update(
            crop_size=crop_size,
            seed=seed,
            degradation={"name": "realistic", **pipeline.as_dict()},
            scale=1.0,
            flip=False,
        )
    files = synthetic.files
    return EvalDataset(
        synthetic,
        info=info,
        sources=[str(files[i % len(files)]) for i in range(len(synthetic))],
        has_kernels=kernels,
        limit=limit,
    )


def _kernel_files(root: Path, blurry: Sequence[Path]) -> list[Path]:
    """The kernel file of each blurry image; one :class:`DatasetError` lists those missing."""
    found = [_kernel_file(path) for path in blurry]
    missing = [
        f"{path}: no kernel file {path.parent.parent / KERNEL_DIR / path.stem}"
        f"{{{','.join(_KERNEL_SUFFIXES)}}}"
        for path, kernel in zip(blurry, found, strict=True)
        if kernel is None
    ]
    if missing:
        raise DatasetError(f"kernels of dataset {root}", missing)
    return [kernel for kernel in found if kernel is not None]
