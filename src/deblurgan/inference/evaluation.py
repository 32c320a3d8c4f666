"""Evaluation protocol of deblurring methods on paired data (Nah et al., 2017; Köhler et al., 2012).

One declared protocol scores several methods on the same images, at full size, and records what
each costs:

- **Methods**: a generator (shipped weights name, checkpoint file or module), ``identity`` (the
  blurry input itself: the floor every method must beat) and the classical non-blind
  deconvolutions ``wiener``, ``tikhonov`` and ``richardson_lucy`` given the true kernel of each
  item (a ceiling for what a known blur allows; see :mod:`deblurgan.blur.deconv`).
- **Data**: any on-disk layout of :data:`deblurgan.data.DATASETS` (:func:`load_eval_dataset`),
  read without crops, flips or noise. Sharp photos (``format="synthetic"``) are degraded by the
  one realistic pipeline of training and ``deblur blur``
  (:class:`~deblurgan.blur.RealisticDegradation`, its defaults unless told): item ``i`` is photo
  ``i % n`` at scale 1 (no rescaling, no flips), a crop (default 256 px) seeded by
  ``(seed, i)``, every crop taken as part of a 1280 px wide frame; :func:`group_scores` with
  :func:`blur_size_groups` splits the scores by blur size. The known-kernel protocol
  (``kernels=True`` or a ``sampler``) blurs the crops by uniform kernels instead, without
  noise, for the classical methods. Kernels come from that synthetic dataset
  (``return_kernel=True``) or from ``<pair folder>/kernel/<stem>.png`` next to ``blur/`` and
  ``sharp/`` (what ``deblur blur`` writes; ``.npy`` works too), normalised to sum 1.
- **Metrics**: every entry of :data:`deblurgan.metrics.METRICS` that applies: metrics whose
  ``min_size`` an image does not reach are skipped for that image (with a note), and ``lpips``
  runs only with a network. Identical images score ``psnr``'s cap (``max_db``, 100 dB) and
  SSIM 1, so a perfect method and the mean over a data set stay finite.
- **Shift-tolerant scoring** (Levin et al., 2009; Köhler et al., 2012; Lai et al., 2016):
  ``shift=k`` crops ``k`` pixels off every side of the sharp image, tries every window of the
  restored image displaced by ``(dy, dx)`` with ``|dy|, |dx| <= k`` (integer shifts only, no
  intensity fit), keeps the one of least squared error (best PSNR) and computes every metric on
  that aligned pair. ``restored[y + dy, x + dx]`` is matched with ``sharp[y, x]``.
- **Costs**: parameters; GMACs of one untiled forward pass (:func:`deblurgan.models.complexity.
  generator_macs` or :func:`~deblurgan.models.complexity.count_macs`) at each image's size
  padded to ``size_multiple``, or at a declared size; latency per image (the median over images
  of one timed call each, after ``warmup`` untimed calls; the input is already on the device and
  the clock runs between two ``torch.cuda.synchronize`` calls on GPU); and peak memory per call:
  ``torch.cuda.max_memory_allocated`` on GPU (weights, input and activations: everything torch
  holds), and on CPU the rise of the process's resident set above its level before the call
  (Linux's ``VmHWM`` after a reset through ``/proc/self/clear_refs``; where that reset is
  unavailable, the rise of ``ru_maxrss``, which stays 0 below an earlier peak). A method's peak
  is the largest over its images. Classical methods (FFTs) have no MAC count; identity costs 0.

Items are evaluated one at a time, every method on the same item, so a file that cannot be read
is skipped for all methods alike and the means compare the same images. The results are
dataclasses with CSV (one row per image and method) and JSON (one summary per method, plus the
protocol) writers; ``deblur eval`` is the command line around :func:`evaluate`.

Example:
    >>> import tempfile
    >>> from deblurgan.io import write_image
    >>> root = Path(tempfile.mkdtemp())
    >>> sharp = torch.rand(3, 24, 32, generator=torch.Generator().manual_seed(0))
    >>> _ = write_image(root / "sharp" / "a.png", sharp)
    >>> _ = write_image(root / "blur" / "a.png", sharp.flip(-1))
    >>> data = load_eval_dataset(root)
    >>> result = evaluate([identity_method()], data, metrics=["psnr", "ssim"])
    >>> sorted(result.summaries["identity"].scores), result.summaries["identity"].count
    (['psnr', 'ssim'], 1)
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import logging
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.blur.deconv import DECONV_METHODS
from deblurgan.blur.realistic import build_degradation
from deblurgan.data import DATASET_FORMATS, detect_format
from deblurgan.data.aligned import ALIGNED_ORDERS, AlignedPairDataset
from deblurgan.data.gopro import GOPRO_BLUR_DIRS, GoProDataset
from deblurgan.data.paired import PairedFolderDataset
from deblurgan.data.synthetic import SyntheticBlurDataset
from deblurgan.data.validation import DatasetError
from deblurgan.inference.deblurrer import Deblurrer, resolve_device
from deblurgan.io import atomic_write_text, read_image, rgb_to_grey
from deblurgan.metrics import METRICS, PairDistance, psnr
from deblurgan.models.complexity import count_macs, generator_macs
from deblurgan.models.registries import GENERATORS
from deblurgan.models.weights import SHIPPED_WEIGHTS, load_generator

__all__ = [
    "BASELINE_METHODS",
    "BLUR_SIZE_BINS",
    "CLASSICAL_METHODS",
    "COST_KEYS",
    "KERNEL_DIR",
    "EvalDataset",
    "EvalItem",
    "EvaluationResult",
    "ImageResult",
    "Method",
    "MethodSummary",
    "align_by_shift",
    "atomic_write_text",
    "blur_size_groups",
    "classical_method",
    "evaluate",
    "generator_method",
    "group_scores",
    "identity_method",
    "load_eval_dataset",
    "load_kernel",
]

logger = logging.getLogger(__name__)

#: Non-blind deconvolutions that need each item's true kernel.
CLASSICAL_METHODS = ("wiener", "tikhonov", "richardson_lucy")
#: The methods that are not networks: the blurry input itself and the classical deconvolutions.
BASELINE_METHODS = ("identity", *CLASSICAL_METHODS)
#: The cost entries of a method summary, after the metric means.
COST_KEYS = ("params", "gmacs", "latency_ms", "peak_memory_mb")
#: The folder next to ``blur/`` and ``sharp/`` that holds one kernel per pair (``deblur blur``).
KERNEL_DIR = "kernel"
_KERNEL_SUFFIXES = (".png", ".tif", ".tiff", ".npy")

#: Blur-size bins of the realistic synthetic protocol: ``(low, high, label)``, pixels of the
#: streak at the image centre in the 1280 px frame (``blur_px``), one octave each.
BLUR_SIZE_BINS: tuple[tuple[float, float, str], ...] = (
    (0.0, 8.0, "< 8 px"),
    (8.0, 16.0, "8-16 px"),
    (16.0, 32.0, "16-32 px"),
    (32.0, 64.0, "32-64 px"),
    (64.0, math.inf, ">= 64 px"),
)

#: The cap of :func:`deblurgan.metrics.psnr` (the score of identical images).
_PSNR_MAX_DB = float(inspect.signature(psnr).parameters["max_db"].default)

SHIFT_CONVENTION = (
    "sharp cropped by k px on every side; restored windows displaced by (dy, dx), |dy|, |dx| <= k "
    "(integers), the one of least MSE (best PSNR) kept; every metric on that aligned pair; "
    "restored[y + dy, x + dx] matches sharp[y, x]"
)


# ------------------------------------------------------------------------------------ data
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


def load_kernel(path: str | os.PathLike[str]) -> Tensor:
    """Read a blur kernel file: an image (grey, or colour taken as BT.601 luma) or a 2-D ``.npy``.

    An image may be scaled in any way (``deblur blur`` writes 16-bit PNGs scaled to a white
    maximum): the kernel is normalised to sum 1. Even sides get a zero row (column) at the bottom
    (right), which keeps the centre at ``floor(k / 2)`` as MATLAB's ``psf2otf`` does.

    Args:
        path: ``.png``, ``.tif``, ``.tiff`` (any image :func:`deblurgan.io.read_image` reads) or
            ``.npy`` (read without pickles).

    Returns:
        ``(kh, kw)`` float32 with odd sides, non-negative, summing to 1.

    Raises:
        ValueError: unreadable file, not 2-D, negative or non-finite values, or a zero sum.

    Example:
        >>> import tempfile
        >>> file = Path(tempfile.mkdtemp()) / "k.npy"
        >>> np.save(file, np.ones((2, 2)))
        >>> load_kernel(file)
        tensor([[0.2500, 0.2500, 0.0000],
                [0.2500, 0.2500, 0.0000],
                [0.0000, 0.0000, 0.0000]])
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable .npy kernel ({exc})") from exc
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"{path}: a kernel must be a 2-D numeric array, got {array.shape}")
        kernel = torch.from_numpy(np.asarray(array, dtype=np.float64))
    else:
        kernel = rgb_to_grey(read_image(path, max_pixels=None).rgb.double())[0]
    if not torch.isfinite(kernel).all() or (kernel < 0).any():
        raise ValueError(f"{path}: kernel values must be finite and non-negative")
    total = float(kernel.sum())
    if not total > 0:
        raise ValueError(f"{path}: the kernel sums to 0; a blur kernel needs weight")
    kh, kw = kernel.shape
    kernel = F.pad(kernel, (0, 1 - kw % 2, 0, 1 - kh % 2))
    return (kernel / kernel.sum()).float()


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
            kernel = load_kernel(self.kernel_files[index])
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
    if format != "auto" and format not in DATASET_FORMATS:
        raise ValueError(f"format must be 'auto' or one of {DATASET_FORMATS}, got {format!r}")
    detected = detect_format(root) if format == "auto" else format
    if format == "auto" and detected == "synthetic":
        raise ValueError(
            f"{root}: neither GoPro layout nor blur/ and sharp/ folders; name the format: "
            "'aligned' for A|B images, 'synthetic' to blur a folder of sharp photos"
        )
    info: dict[str, Any] = {"root": str(root), "format": detected}
    if detected in ("gopro", "paired_folders"):
        dataset: Any
        if detected == "gopro":
            if blur not in GOPRO_BLUR_DIRS:
                raise ValueError(f"blur must be one of {GOPRO_BLUR_DIRS}, got {blur!r}")
            dataset = GoProDataset(root, split=split, blur=blur)
            info.update(split=split, blur=blur)
        else:
            dataset = PairedFolderDataset(root)
        pairs = dataset.pairs
        sources = [str(p.blurry) for p in pairs]
        kernel_files = None
        if kernels:
            found = [_kernel_file(p.blurry) for p in pairs]
            missing = [
                f"{p.blurry}: no kernel file {p.blurry.parent.parent / KERNEL_DIR / p.blurry.stem}"
                f"{{{','.join(_KERNEL_SUFFIXES)}}}"
                for p, k in zip(pairs, found, strict=True)
                if k is None
            ]
            if missing:
                raise DatasetError(f"kernels of dataset {root}", missing)
            kernel_files = [k for k in found if k is not None]
        return EvalDataset(
            dataset,
            info=info,
            sources=sources,
            kernel_files=kernel_files,
            has_kernels=kernels,
            limit=limit,
        )
    if detected == "aligned":
        if kernels:
            raise ValueError(f"{root}: A|B (aligned) images carry no blur kernels")
        if order not in ALIGNED_ORDERS:
            raise ValueError(f"order must be one of {ALIGNED_ORDERS}, got {order!r}")
        sub = split if (root / split).is_dir() else None
        aligned = AlignedPairDataset(root, order=order, split=sub)
        info.update(order=order, split=sub)
        return EvalDataset(
            aligned, info=info, sources=[str(p.path) for p in aligned.pairs], limit=limit
        )
    if sampler is not None or kernels:  # the known-kernel protocol of the classical methods
        if crop_size is None:
            raise ValueError("the known-kernel protocol crops the photos: give a crop size")
        synthetic = SyntheticBlurDataset(
            root,
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
        synthetic = SyntheticBlurDataset(
            root,
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


def blur_size_groups(
    dataset: EvalDataset,
    bins: Sequence[tuple[float, float, str]] = BLUR_SIZE_BINS,
) -> dict[str, str]:
    """Item name -> blur-size bin label, for the realistic synthetic items read so far.

    Sizes are ``blur_px``: the streak at the image centre in the degradation's frame (1280 px
    wide by default). Call it after :func:`evaluate` (which reads every item).
    """
    groups: dict[str, str] = {}
    for name, params in dataset.item_params.items():
        size = float(params["blur_px"])
        for low, high, label in bins:
            if low <= size < high:
                groups[name] = label
                break
    return groups


def group_scores(
    result: EvaluationResult, groups: Mapping[str, str], *, order: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Mean scores of every method within each group of images (e.g. by blur size).

    Args:
        result: an evaluation.
        groups: item name -> group label; items without a label are left out.
        order: labels in the order wanted (e.g. the bins'); others follow as they first appear.

    Returns:
        ``{label: {"items": count, "methods": {method: {metric: mean}}}}``, empty groups left out.

    Example:
        >>> rows = [ImageResult("a", n, 8, 8, {"psnr": v}, 0.0) for n, v in (("x", 20.0),
        ...         ("y", 30.0))]
        >>> result = EvaluationResult({}, ["psnr"], rows=rows)
        >>> group_scores(result, {"x": "small", "y": "large"})["large"]
        {'items': 1, 'methods': {'a': {'psnr': 30.0}}}
    """
    out: dict[str, dict[str, Any]] = {}
    for label in dict.fromkeys([*order, *groups.values()]):
        rows = [row for row in result.rows if groups.get(row.name) == label]
        if not rows:
            continue
        methods: dict[str, dict[str, float]] = {}
        for method in dict.fromkeys(row.method for row in rows):
            mine = [row for row in rows if row.method == method]
            methods[method] = {
                metric: _mean([r.scores[metric] for r in mine if metric in r.scores])
                for metric in result.metric_names
                if any(metric in r.scores for r in mine)
            }
        out[label] = {"items": len({row.name for row in rows}), "methods": methods}
    return out


# ------------------------------------------------------------------------------------ methods
@dataclass
class Method:
    """One method of a comparison: its name, how it restores, and what it is made of.

    Args:
        name: the name in tables, CSV rows and the JSON summary (unique within an evaluation).
        restore: ``restore(blurry, kernel) -> restored`` on ``(1, 3, H, W)`` tensors on
            ``device``; ``kernel`` is the item's true kernel or ``None``.
        kind: ``"generator"``, ``"identity"`` or ``"classical"``.
        device: where the input is put before the timed call.
        model: the network, for parameters and MACs (``None`` for non-networks).
        needs_kernel: whether ``restore`` needs the true kernel.
        settings: what defines the method, for the protocol (source, options, precision).
        gmacs: a fixed GMAC count (0 for identity), or ``None`` to count ``model``'s (or to
            report none for a method without a model).

    Shape:
        - blurry: :math:`(1, 3, H, W)` in [0, 1]; output: same shape

    Example:
        >>> method = Method("negative", lambda blurry, kernel: 1 - blurry, kind="custom")
        >>> method.restore(torch.zeros(1, 3, 2, 2), None).mean().item()
        1.0
    """

    name: str
    restore: Callable[[Tensor, Tensor | None], Tensor]
    kind: str = "generator"
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    model: nn.Module | None = None
    needs_kernel: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    gmacs: float | None = None

    @property
    def params(self) -> int:
        """Parameter count of ``model`` (0 without one)."""
        if self.model is None:
            return 0
        return sum(p.numel() for p in self.model.parameters())


def identity_method() -> Method:
    """The blurry input itself, unchanged: the floor of every comparison.

    Example:
        >>> blurry = torch.rand(1, 3, 4, 4)
        >>> torch.equal(identity_method().restore(blurry, None), blurry)
        True
    """
    return Method(
        "identity",
        lambda blurry, kernel: blurry,
        kind="identity",
        settings={"source": "the blurry input"},
        gmacs=0.0,
    )


def classical_method(
    name: str,
    *,
    nsr: float = 1e-2,
    weight: float = 1e-2,
    iterations: int = 30,
    boundary: str = "reflect",
    device: str | torch.device = "cpu",
) -> Method:
    """A classical non-blind deconvolution (:mod:`deblurgan.blur.deconv`) with the true kernel.

    The stored (encoded) pixel values are deconvolved, as ``deblur deconv`` does; the result is
    clipped to [0, 1].

    Args:
        name: ``"wiener"``, ``"tikhonov"`` or ``"richardson_lucy"``.
        nsr: Wiener's noise-to-signal ratio.
        weight: Tikhonov's Laplacian weight.
        iterations: Richardson-Lucy's iterations.
        boundary: ``"reflect"`` (smooth periodic extension) or ``"periodic"``.
        device: where it runs.

    Shape:
        - blurry: :math:`(1, 3, H, W)`; kernel: :math:`(k_h, k_w)`; output: like blurry

    Example:
        >>> delta = torch.zeros(3, 3)
        >>> delta[1, 1] = 1.0
        >>> blurry = torch.rand(1, 3, 8, 8)
        >>> restored = classical_method("wiener", nsr=1e-9).restore(blurry, delta)
        >>> torch.allclose(restored, blurry, atol=1e-5)
        True
    """
    if name not in CLASSICAL_METHODS:
        raise ValueError(
            f"unknown classical method {name!r}; valid: {', '.join(CLASSICAL_METHODS)}"
        )
    all_options: dict[str, dict[str, Any]] = {
        "wiener": {"nsr": float(nsr)},
        "tikhonov": {"weight": float(weight)},
        "richardson_lucy": {"iterations": int(iterations)},
    }
    options = all_options[name]
    deconvolve = DECONV_METHODS[name]
    resolved = resolve_device(device)

    def restore(blurry: Tensor, kernel: Tensor | None) -> Tensor:
        if kernel is None:
            raise ValueError(f"{name} needs the true blur kernel of each image")
        with torch.no_grad():
            restored = deconvolve(
                blurry, kernel.to(blurry.device), **options, boundary=boundary, clamp=True
            )
        return restored.float()

    return Method(
        name,
        restore,
        kind="classical",
        device=resolved,
        needs_kernel=True,
        settings={"source": "deblurgan.blur.deconv", "boundary": boundary, **options},
    )


def generator_method(
    model: str | os.PathLike[str] | nn.Module,
    *,
    name: str | None = None,
    device: str | torch.device = "auto",
    precision: str = "fp32",
    tile_size: int = 1024,
    tile_overlap: int = 64,
    threads: int | None = None,
) -> Method:
    """A generator run through a :class:`~deblurgan.inference.Deblurrer` (padding, tiling).

    Args:
        model: a shipped weights name (``"default"``), a checkpoint path, or a module.
        name: the method's name; default the weights name, the checkpoint's stem or the
            module's ``arch_spec`` name.
        device: ``"auto"``, ``"cpu"``, ``"cuda[:N]"``.
        precision: ``"fp32"``, ``"fp16"`` or ``"bf16"``.
        tile_size: the largest side the model sees at once.
        tile_overlap: the overlap of neighbouring tiles.
        threads: CPU threads during each call (``None``: torch's setting).

    Raises:
        FileNotFoundError, ValueError: the weights cannot be loaded.

    Example:
        >>> method = generator_method(nn.Identity(), name="same", device="cpu")
        >>> blurry = torch.rand(1, 3, 8, 8)
        >>> torch.equal(method.restore(blurry, None), blurry), method.params
        (True, 0)
    """
    if isinstance(model, nn.Module):
        network = model
        source = str(getattr(model, "arch_spec", {}).get("name", type(model).__name__))
    else:
        source = os.fspath(model)
        network = load_generator(source)
    if name is None:
        name = source if source in SHIPPED_WEIGHTS else Path(source).stem or source
    deblurrer = Deblurrer(
        network,
        device=device,
        precision=precision,
        tile_size=tile_size,
        tile_overlap=tile_overlap,
        threads=threads,
    )

    def restore(blurry: Tensor, kernel: Tensor | None) -> Tensor:
        return deblurrer(blurry)

    arch = getattr(network, "arch_spec", None)
    return Method(
        name,
        restore,
        kind="generator",
        device=deblurrer.device,
        model=deblurrer.model,
        settings={
            "source": source,
            "arch": dict(arch) if isinstance(arch, Mapping) else type(network).__name__,
            "precision": deblurrer.precision,
            "tile_size": deblurrer.tile_size,
            "tile_overlap": deblurrer.tile_overlap,
            "size_multiple": deblurrer.size_multiple,
        },
    )


def _method_macs(method: Method, height: int, width: int) -> float | None:
    """GMACs of one untiled forward pass at ``height x width`` padded to ``size_multiple``."""
    if method.gmacs is not None:
        return method.gmacs
    model = method.model
    if model is None:
        return None
    spec = getattr(model, "arch_spec", None)
    if isinstance(spec, Mapping) and spec.get("name") in GENERATORS:
        kwargs = {k: v for k, v in spec.items() if k != "name"}
        macs = generator_macs(str(spec["name"]), kwargs, height=height, width=width)
    else:
        multiple = int(getattr(model, "size_multiple", 1))
        padded = (-(-height // multiple) * multiple, -(-width // multiple) * multiple)
        macs = count_macs(model, (1, 3, *padded))
    return macs / 1e9


# ------------------------------------------------------------------------------------ scoring
def align_by_shift(
    restored: Tensor, sharp: Tensor, max_shift: int
) -> tuple[Tensor, Tensor, tuple[int, int]]:
    """The aligned pair of shift-tolerant scoring: the best integer shift within ``max_shift``.

    ``sharp`` loses ``max_shift`` pixels on every side; every window of ``restored`` displaced by
    ``(dy, dx)`` with ``|dy|, |dx| <= max_shift`` is compared with it, and the one of least
    squared error (highest PSNR) wins; ties go to the smaller displacement.

    Args:
        restored: the restored images.
        sharp: the references, same shape.
        max_shift: ``k >= 0``; 0 returns the inputs unchanged.

    Returns:
        ``(restored window, sharp crop, (dy, dx))`` with ``restored[y + dy, x + dx]`` matched to
        ``sharp[y, x]``.

    Shape:
        - restored, sharp: :math:`(B, C, H, W)`, ``H, W > 2k``
        - outputs: :math:`(B, C, H - 2k, W - 2k)`

    Example:
        >>> sharp = torch.rand(1, 3, 16, 16)
        >>> moved = torch.roll(sharp, shifts=(2, -1), dims=(-2, -1))
        >>> _, _, found = align_by_shift(moved, sharp, 3)
        >>> found
        (2, -1)
    """
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
        raise ValueError(f"max_shift must be an integer >= 0, got {max_shift!r}")
    if restored.shape != sharp.shape or restored.ndim != 4:
        raise ValueError(
            f"restored and sharp must be (B, C, H, W) of one shape, got {tuple(restored.shape)} "
            f"and {tuple(sharp.shape)}"
        )
    if max_shift == 0:
        return restored, sharp, (0, 0)
    k = max_shift
    height, width = sharp.shape[-2:]
    if height <= 2 * k or width <= 2 * k:
        raise ValueError(
            f"shift-tolerant scoring with k={k} needs images larger than {2 * k} px per side, "
            f"got {height}x{width}"
        )
    target = sharp[..., k : height - k, k : width - k].double()
    offsets = sorted(
        ((dy, dx) for dy in range(-k, k + 1) for dx in range(-k, k + 1)),
        key=lambda d: (abs(d[0]) + abs(d[1]), abs(d[0]), d),
    )
    # Every offset's squared error at once (FFT and an integral image, exact up to rounding);
    # then the exact comparison below runs only on the offsets within rounding of the least, in
    # the tie-break order: the answer of trying all (2k+1)^2 windows, about 20x faster at 1 MP.
    approx = _window_errors(restored.double(), target, k)
    floor = float(approx.min())
    slack = 1e-9 * float(approx.abs().max()) + 1e-12
    best, best_error = (0, 0), math.inf
    for dy, dx in offsets:
        if float(approx[dy + k, dx + k]) > floor + slack:
            continue
        window = restored[..., k + dy : height - k + dy, k + dx : width - k + dx].double()
        error = float((window - target).square().mean())
        if error < best_error:
            best, best_error = (dy, dx), error
    dy, dx = best
    window = restored[..., k + dy : height - k + dy, k + dx : width - k + dx]
    return window, sharp[..., k : height - k, k : width - k], best


def _window_errors(moving: Tensor, target: Tensor, k: int) -> Tensor:
    """Squared error of ``target`` against every window of ``moving`` displaced by ``|dy|, |dx|
    <= k``, less the constant ``sum(target**2)``: ``(2k+1, 2k+1)``, index ``(dy + k, dx + k)``.

    Summed over the batch and channels. ``sum((w - t)^2) = sum(w^2) - 2 sum(w t) + sum(t^2)``:
    ``sum(w t)`` for all windows is one FFT cross-correlation (no wrap-around: windows stay
    inside ``moving``), ``sum(w^2)`` an integral image.

    Shape:
        - moving: :math:`(B, C, H, W)`; target: :math:`(B, C, H - 2k, W - 2k)`
    """
    height, width = moving.shape[-2:]
    h, w = target.shape[-2:]
    size = (height, width)
    spectrum = torch.fft.rfft2(moving, s=size) * torch.fft.rfft2(target, s=size).conj()
    # cross[a, b] = sum over (y, x) of target[y, x] * moving[y + a, x + b]
    cross = torch.fft.irfft2(spectrum, s=size).reshape(-1, height, width).sum(0)
    energy = moving.square().reshape(-1, height, width).sum(0)
    integral = F.pad(energy.cumsum(0).cumsum(1), (1, 0, 1, 0))
    a = torch.arange(2 * k + 1, device=moving.device)
    rows, cols = a[:, None], a[None, :]
    window_energy = (
        integral[rows + h, cols + w]
        - integral[rows, cols + w]
        - integral[rows + h, cols]
        + integral[rows, cols]
    )
    return window_energy - 2 * cross[: 2 * k + 1, : 2 * k + 1]


def _metric_min_size(name: str, network: PairDistance | None) -> int:
    size = METRICS[name].min_size
    if name == "lpips" and network is not None:
        size = max(size, int(getattr(network, "min_size", 0) or 0))
    return size


def _network_device(network: PairDistance | None) -> torch.device | None:
    if isinstance(network, nn.Module):
        first = next(iter(network.parameters()), None)
        if first is not None:
            return first.device
    return None


# ------------------------------------------------------------------------------ measurements
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _proc_status() -> dict[str, int] | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])  # kB
    return values if len(values) == 2 else None


def _reset_peak_rss() -> bool:
    """Reset Linux's peak resident set (``VmHWM``) to the current one; False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
    except OSError:
        return False
    return True


def _maxrss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else kB


class _MemoryProbe:
    """Peak memory of one call, in MiB: see the module docstring for what is measured."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cpu_mode = "none"
        if device.type == "cuda":
            self.description = (
                "torch.cuda.max_memory_allocated during the call (weights, input, activations)"
            )
            return
        if _proc_status() is not None and _reset_peak_rss():
            self.cpu_mode = "hwm"
            self.description = (
                "rise of the resident set above its level before the call (Linux VmHWM after a "
                "reset through /proc/self/clear_refs, minus VmRSS before)"
            )
        elif _maxrss_mb() is not None:
            self.cpu_mode = "maxrss"
            self.description = (
                "rise of the process's ru_maxrss during the call (0 below an earlier peak)"
            )
        else:
            self.description = "not measured on this platform"
        self._base = 0.0

    def start(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        elif self.cpu_mode == "hwm":
            _reset_peak_rss()
            status = _proc_status()
            self._base = status["VmRSS"] / 1024 if status else 0.0
        elif self.cpu_mode == "maxrss":
            self._base = _maxrss_mb() or 0.0

    def stop(self) -> float | None:
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        if self.cpu_mode == "hwm":
            status = _proc_status()
            return max(0.0, status["VmHWM"] / 1024 - self._base) if status else None
        if self.cpu_mode == "maxrss":
            now = _maxrss_mb()
            return max(0.0, now - self._base) if now is not None else None
        return None


def _timed_restore(
    method: Method, blurry: Tensor, kernel: Tensor | None, probe: _MemoryProbe
) -> tuple[Tensor, float, float | None]:
    """Run ``method`` once: ``(restored on the CPU, milliseconds, peak MiB)``."""
    device = method.device
    on_device = blurry.to(device)
    kernel_on = kernel.to(device) if kernel is not None else None
    _sync(device)
    probe.start()
    start = time.perf_counter()
    restored = method.restore(on_device, kernel_on)
    _sync(device)
    elapsed = (time.perf_counter() - start) * 1000.0
    peak = probe.stop()
    if not isinstance(restored, Tensor) or restored.shape != blurry.shape:
        got = tuple(restored.shape) if isinstance(restored, Tensor) else type(restored).__name__
        raise ValueError(f"{method.name} returned {got} for an input of {tuple(blurry.shape)}")
    return restored.detach().to("cpu", torch.float32), elapsed, peak


# ------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class ImageResult:
    """The scores and costs of one method on one image.

    Args:
        method: the method's name.
        name: the item's name.
        height: the image height (before shift cropping).
        width: the image width.
        scores: metric name -> score, for every metric that applied.
        latency_ms: the timed call, in milliseconds.
        peak_memory_mb: the call's peak memory in MiB (see the module docstring), if measured.
        gmacs: GMACs of the forward pass, if counted.
        shift: ``(dy, dx)`` of shift-tolerant scoring, else ``None``.
    """

    method: str
    name: str
    height: int
    width: int
    scores: dict[str, float]
    latency_ms: float
    peak_memory_mb: float | None = None
    gmacs: float | None = None
    shift: tuple[int, int] | None = None


@dataclass(frozen=True)
class MethodSummary:
    """One method over the data set: mean scores and costs.

    Args:
        method: the method's name.
        kind: ``"generator"``, ``"identity"``, ``"classical"``, ...
        count: images scored.
        scores: metric name -> mean over the images where the metric applied.
        params: parameter count.
        gmacs: mean GMACs per image (``None``: not counted).
        latency_ms: median latency per image.
        peak_memory_mb: the largest peak memory of a call, in MiB.
    """

    method: str
    kind: str
    count: int
    scores: dict[str, float]
    params: int | None
    gmacs: float | None
    latency_ms: float | None
    peak_memory_mb: float | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON entry: each metric's mean under its name, then the costs and the count."""
        return {
            **{k: _finite(v) for k, v in self.scores.items()},
            "params": self.params,
            "gmacs": _finite(self.gmacs),
            "latency_ms": _finite(self.latency_ms),
            "peak_memory_mb": _finite(self.peak_memory_mb),
            "count": self.count,
        }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


@dataclass
class EvaluationResult:
    """Everything an evaluation produced.

    Args:
        protocol: what was measured and how (dataset, shift, metric conventions, methods).
        metric_names: the metrics scored, in :data:`~deblurgan.metrics.METRICS` order.
        rows: one :class:`ImageResult` per image and method.
        summaries: method name -> :class:`MethodSummary`, in the order the methods were given.
        skipped: ``"<file>: <reason>"`` for every item left out.
        notes: remarks on the protocol (metrics skipped on small images, ...).
    """

    protocol: dict[str, Any]
    metric_names: list[str]
    rows: list[ImageResult] = field(default_factory=list)
    summaries: dict[str, MethodSummary] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def best(self, metric: str) -> str | None:
        """The method with the best mean ``metric`` (by its direction), or ``None``."""
        scored = [
            (s.scores[metric], name) for name, s in self.summaries.items() if metric in s.scores
        ]
        if not scored:
            return None
        higher = METRICS[metric].higher_is_better if metric in METRICS else True
        return (max if higher else min)(scored, key=lambda pair: pair[0])[1]

    def csv_columns(self) -> list[str]:
        """The per-image CSV header."""
        shift = ["shift_dy", "shift_dx"] if self.protocol.get("shift") else []
        return [
            "method",
            "name",
            "height",
            "width",
            *shift,
            *self.metric_names,
            "latency_ms",
            "peak_memory_mb",
            "gmacs",
        ]

    def csv_text(self) -> str:
        """One row per image and method; empty cells where a metric or cost does not apply."""
        buffer = io.StringIO()
        columns = self.csv_columns()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            record: dict[str, Any] = {
                "method": row.method,
                "name": row.name,
                "height": row.height,
                "width": row.width,
                "latency_ms": repr(row.latency_ms),
                "peak_memory_mb": "" if row.peak_memory_mb is None else repr(row.peak_memory_mb),
                "gmacs": "" if row.gmacs is None else repr(row.gmacs),
            }
            if "shift_dy" in columns:
                record["shift_dy"], record["shift_dx"] = row.shift or (0, 0)
            for metric in self.metric_names:
                value = row.scores.get(metric)
                record[metric] = "" if value is None else repr(value)
            writer.writerow(record)
        return buffer.getvalue()

    def as_dict(self) -> dict[str, Any]:
        """The JSON summary: ``{"protocol", "methods": {name: {metric: mean, ...}}, ...}``."""
        return {
            "protocol": self.protocol,
            "methods": {name: s.as_dict() for name, s in self.summaries.items()},
            "skipped": list(self.skipped),
            "notes": list(self.notes),
        }

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`csv_text` atomically; returns the path."""
        return atomic_write_text(path, self.csv_text())

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`as_dict` as JSON atomically; returns the path."""
        text = json.dumps(self.as_dict(), indent=2, allow_nan=False, default=str) + "\n"
        return atomic_write_text(path, text)


# ------------------------------------------------------------------------------- evaluation
def _check_methods(methods: Sequence[Method]) -> list[Method]:
    methods = list(methods)
    if not methods:
        raise ValueError("evaluate needs at least one method")
    names: set[str] = set()
    for method in methods:
        if not isinstance(method, Method):
            raise TypeError(f"methods must be Method objects, got {type(method).__name__}")
        if method.name in names:
            raise ValueError(f"two methods are named {method.name!r}; give them distinct names")
        names.add(method.name)
    return methods


def _check_metrics(metrics: Sequence[str] | None, network: PairDistance | None) -> list[str]:
    if metrics is None:
        return [name for name in METRICS if network is not None or not METRICS[name].needs_network]
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; valid: {', '.join(METRICS)}")
    chosen = set(metrics)
    for name in chosen:
        if METRICS[name].needs_network and network is None:
            raise ValueError(f"metric {name!r} needs a network (LPIPS weights); none was given")
    return [name for name in METRICS if name in chosen]


def evaluate(
    methods: Sequence[Method],
    dataset: EvalDataset | Sequence[EvalItem],
    *,
    metrics: Sequence[str] | None = None,
    shift: int = 0,
    lpips_network: PairDistance | None = None,
    macs_size: tuple[int, int] | None = None,
    warmup: int = 1,
    quantize: bool = False,
    on_item: Callable[[int, str], None] | None = None,
) -> EvaluationResult:
    """Score every method on every item under one protocol (see the module docstring).

    Args:
        methods: the methods, with distinct names (:func:`identity_method`,
            :func:`classical_method`, :func:`generator_method`, or any :class:`Method`).
        dataset: an :class:`EvalDataset` or a sequence of :class:`EvalItem`.
        metrics: names of :data:`~deblurgan.metrics.METRICS` to score; default all that apply
            (``lpips`` only with ``lpips_network``).
        shift: the largest integer shift of shift-tolerant scoring (0: none).
        lpips_network: the LPIPS network (e.g. :class:`deblurgan.models.lpips.LPIPSNetwork`
            with its calibrated weights).
        macs_size: ``(height, width)`` at which to count MACs; default each image's own size.
        warmup: untimed calls of each method (on the first item) before the timed ones.
        quantize: round restored images to 8-bit levels before scoring, as files saved to PNG
            would be.
        on_item: called as ``on_item(index, name)`` after each item (for progress bars).

    Returns:
        The rows, summaries, skipped items and notes.

    Raises:
        ValueError: bad arguments, or methods that need kernels on a dataset opened without them.
            Items that cannot be read or restored are not raised: they are listed in
            :attr:`EvaluationResult.skipped` (every method skips them, so means stay comparable).

    Example:
        >>> items = [EvalItem("a", torch.full((3, 16, 16), 0.5), torch.full((3, 16, 16), 0.5))]
        >>> result = evaluate([identity_method()], items, metrics=["psnr", "ssim"])
        >>> result.summaries["identity"].scores  # identical images: the cap and 1
        {'psnr': 100.0, 'ssim': 1.0}
    """
    methods = _check_methods(methods)
    metric_names = _check_metrics(metrics, lpips_network)
    if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
        raise ValueError(f"shift must be an integer >= 0, got {shift!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
    if macs_size is not None and (
        len(macs_size) != 2 or any(not isinstance(s, int) or s < 1 for s in macs_size)
    ):
        raise ValueError(f"macs_size must be (height, width) positive ints, got {macs_size!r}")
    kernel_methods = [m.name for m in methods if m.needs_kernel]
    if kernel_methods and isinstance(dataset, EvalDataset) and not dataset.has_kernels:
        raise ValueError(
            f"{', '.join(kernel_methods)} need(s) the true kernel of each image, and "
            f"{dataset.info.get('root')} was opened without kernels"
        )
    network_device = _network_device(lpips_network)
    probes = {m.name: _MemoryProbe(m.device) for m in methods}
    result = EvaluationResult(
        protocol=_protocol(
            methods,
            dataset,
            metric_names,
            shift,
            lpips_network,
            macs_size,
            warmup,
            quantize,
            probes,
        ),
        metric_names=metric_names,
    )
    too_small: dict[str, int] = {}
    warmed: set[str] = set()
    macs_cache: dict[tuple[str, int, int], float | None] = {}

    for index in range(len(dataset)):
        source = dataset.source(index) if isinstance(dataset, EvalDataset) else f"item {index}"
        try:
            item = dataset[index]
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # an unreadable file must not stop the evaluation
            result.skipped.append(_describe(source, exc))
            _progress(on_item, index, source)
            continue
        source = item.source or source
        try:
            rows = _evaluate_item(
                item,
                methods,
                metric_names=metric_names,
                shift=shift,
                network=lpips_network,
                network_device=network_device,
                macs_size=macs_size,
                warmup=warmup,
                warmed=warmed,
                quantize=quantize,
                probes=probes,
                macs_cache=macs_cache,
                too_small=too_small,
            )
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one failing item is reported, the others go on
            result.skipped.append(_describe(source, exc))
        else:
            result.rows.extend(rows)
        _progress(on_item, index, item.name)

    scored_items = len({row.name for row in result.rows})
    for metric, count in too_small.items():
        size = _metric_min_size(metric, lpips_network)
        where = "the scored area" if shift else "images"
        if count >= scored_items:
            result.notes.append(f"{metric}: not scored: {where} smaller than {size}x{size} px")
        else:
            result.notes.append(
                f"{metric}: skipped on {count} image(s) smaller than {size}x{size} px; its mean "
                "is over the other images"
            )
    result.summaries = _summaries(methods, result.rows, metric_names)
    result.protocol["dataset"]["scored"] = scored_items
    return result


def _progress(on_item: Callable[[int, str], None] | None, index: int, name: str) -> None:
    if on_item is not None:
        on_item(index, name)


def _describe(source: str, exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message if source and message.startswith(source) else f"{source}: {message}"


def _evaluate_item(
    item: EvalItem,
    methods: list[Method],
    *,
    metric_names: list[str],
    shift: int,
    network: PairDistance | None,
    network_device: torch.device | None,
    macs_size: tuple[int, int] | None,
    warmup: int,
    warmed: set[str],
    quantize: bool,
    probes: dict[str, _MemoryProbe],
    macs_cache: dict[tuple[str, int, int], float | None],
    too_small: dict[str, int],
) -> list[ImageResult]:
    blurry, sharp = item.blurry, item.sharp
    if blurry.ndim != 3 or blurry.shape[0] != 3 or blurry.shape != sharp.shape:
        raise ValueError(
            f"blurry and sharp must be (3, H, W) of one shape, got {tuple(blurry.shape)} and "
            f"{tuple(sharp.shape)}"
        )
    height, width = int(blurry.shape[-2]), int(blurry.shape[-1])
    if shift and min(height, width) <= 2 * shift:
        raise ValueError(
            f"{width}x{height} is too small for --shift {shift} (needs > {2 * shift} px)"
        )
    blurry_b = blurry[None].float()
    sharp_b = sharp[None].float()
    scored_side = min(height, width) - 2 * shift
    applicable = [m for m in metric_names if scored_side >= _metric_min_size(m, network)]
    rows = []
    for method in methods:
        kernel = item.kernel
        if method.needs_kernel and kernel is None:
            raise ValueError(f"{method.name} needs the true kernel, and this item has none")
        if method.name not in warmed:
            for _ in range(warmup):
                _timed_restore(method, blurry_b, kernel, probes[method.name])
            warmed.add(method.name)
        restored, latency, peak = _timed_restore(method, blurry_b, kernel, probes[method.name])
        if quantize:
            restored = torch.round(restored.clamp(0, 1) * 255) / 255
        aligned, reference, found = align_by_shift(restored, sharp_b, shift)
        scores = {}
        for metric in applicable:
            spec = METRICS[metric]
            if spec.needs_network:
                x, y = aligned, reference
                if network_device is not None:
                    x, y = x.to(network_device), y.to(network_device)
                value = spec(x, y, network=network)
            else:
                value = spec(aligned, reference)
            scores[metric] = float(value.reshape(-1)[0])
        key = (method.name, *(macs_size or (height, width)))
        if key not in macs_cache:
            macs_cache[key] = _method_macs(method, key[1], key[2])
        rows.append(
            ImageResult(
                method=method.name,
                name=item.name,
                height=height,
                width=width,
                scores=scores,
                latency_ms=latency,
                peak_memory_mb=peak,
                gmacs=macs_cache[key],
                shift=found if shift else None,
            )
        )
    for metric in metric_names:  # counted once the item is scored
        if metric not in applicable:
            too_small[metric] = too_small.get(metric, 0) + 1
    return rows


def _summaries(
    methods: list[Method], rows: list[ImageResult], metric_names: list[str]
) -> dict[str, MethodSummary]:
    out = {}
    for method in methods:
        mine = [row for row in rows if row.method == method.name]
        scores = {}
        for metric in metric_names:
            values = [row.scores[metric] for row in mine if metric in row.scores]
            if values:
                scores[metric] = _mean(values)
        macs = [row.gmacs for row in mine if row.gmacs is not None]
        peaks = [row.peak_memory_mb for row in mine if row.peak_memory_mb is not None]
        out[method.name] = MethodSummary(
            method=method.name,
            kind=method.kind,
            count=len(mine),
            scores=scores,
            params=method.params,
            gmacs=_mean(macs) if macs else None,
            latency_ms=statistics.median(row.latency_ms for row in mine) if mine else None,
            peak_memory_mb=max(peaks) if peaks else None,
        )
    return out


def _protocol(
    methods: list[Method],
    dataset: EvalDataset | Sequence[EvalItem],
    metric_names: list[str],
    shift: int,
    network: PairDistance | None,
    macs_size: tuple[int, int] | None,
    warmup: int,
    quantize: bool,
    probes: dict[str, _MemoryProbe],
) -> dict[str, Any]:
    if isinstance(dataset, EvalDataset):
        data_info = dict(dataset.info)
    else:
        data_info = {"items": len(dataset), "evaluated": len(dataset)}
    return {
        "dataset": data_info,
        "full_size": data_info.get("format") != "synthetic" or data_info.get("crop_size") is None,
        "shift": shift,
        "shift_convention": SHIFT_CONVENTION
        if shift
        else "none: whole images compared as they are",
        "quantize_8bit": quantize,
        "metrics": {
            name: {
                "description": METRICS[name].description,
                "higher_is_better": METRICS[name].higher_is_better,
                "min_size": _metric_min_size(name, network),
            }
            for name in metric_names
        },
        "psnr_max_db": _PSNR_MAX_DB,
        "lpips": None
        if network is None
        else {
            "network": type(network).__name__,
            "net": getattr(network, "net_name", None),
        },
        "latency": (
            f"median over images of one timed call per image after {warmup} warm-up call(s); "
            "input already on the device; torch.cuda.synchronize before and after on GPU"
        ),
        "memory": {str(m.device): probes[m.name].description for m in methods},
        "gmacs": (
            "one untiled forward pass (multiply-accumulates / 1e9) at "
            + (f"{macs_size[1]}x{macs_size[0]}" if macs_size else "each image's size")
            + ", padded to the model's size_multiple; none for classical methods"
        ),
        "methods": {
            m.name: {"kind": m.kind, "device": str(m.device), **m.settings} for m in methods
        },
        "torch": torch.__version__,
    }
