"""The evaluation loop: every method on each item in turn, scored and timed under one protocol.

Part of the evaluation protocol of :mod:`deblurgan.inference.evaluation`. Items are evaluated one
at a time, every method on the same item, so a file that cannot be read is skipped for all
methods alike and the means compare the same images. What the loop needs besides the items and
the methods is one :class:`EvalSettings`, checked once when it is made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from deblurgan.inference.evaluation.alignment import SHIFT_CONVENTION, align_by_shift
from deblurgan.inference.evaluation.datasets import EvalDataset, EvalItem
from deblurgan.inference.evaluation.groups import (
    scores_by_averaging,
    scores_by_blur_size,
    scores_by_motion,
)
from deblurgan.inference.evaluation.methods import Method, method_gmacs
from deblurgan.inference.evaluation.resources import MemoryProbe, timed_restore
from deblurgan.inference.evaluation.results import EvaluationResult, ImageResult, summarise
from deblurgan.inference.evaluation.scoring import (
    PSNR_MAX_DB,
    check_metrics,
    metric_min_size,
    network_device,
    score_pair,
)
from deblurgan.metrics import METRICS, PairDistance

__all__ = ["EvalSettings", "evaluate"]


@dataclass(frozen=True)
class EvalSettings:
    """The protocol every item of one evaluation is scored under (see :func:`evaluate`).

    Args:
        metric_names: the metrics to score, known to :data:`~deblurgan.metrics.METRICS`.
        shift: the largest integer shift of shift-tolerant scoring (0: none).
        network: the LPIPS network, if any.
        macs_size: ``(height, width)`` at which to count MACs; ``None``: each image's own size.
        warmup: untimed calls of each method (on the first item) before the timed ones.
        quantize: round restored images to 8-bit levels before scoring.

    Raises:
        ValueError: a negative or non-integer ``shift`` or ``warmup``, or a bad ``macs_size``.

    Example:
        >>> EvalSettings(["psnr"], shift=2).shift
        2
        >>> EvalSettings(["psnr"], warmup=-1)
        Traceback (most recent call last):
        ...
        ValueError: warmup must be an integer >= 0, got -1
    """

    metric_names: Sequence[str]
    shift: int = 0
    network: PairDistance | None = None
    macs_size: tuple[int, int] | None = None
    warmup: int = 1
    quantize: bool = False
    #: Where the network's inputs go (its parameters' device); set from ``network``.
    network_device: torch.device | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        shift, warmup, macs_size = self.shift, self.warmup, self.macs_size
        if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
            raise ValueError(f"shift must be an integer >= 0, got {shift!r}")
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
        if macs_size is not None and (
            len(macs_size) != 2 or any(not isinstance(s, int) or s < 1 for s in macs_size)
        ):
            raise ValueError(f"macs_size must be (height, width) positive ints, got {macs_size!r}")
        object.__setattr__(self, "network_device", network_device(self.network))


@dataclass
class _Tally:
    """What the loop carries from one item to the next."""

    probes: dict[str, MemoryProbe]
    warmed: set[str] = field(default_factory=set)
    #: (method, height, width) -> GMACs, counted once per size.
    gmacs: dict[tuple[str, int, int], float | None] = field(default_factory=dict)
    #: metric -> items too small for it.
    too_small: dict[str, int] = field(default_factory=dict)


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
    """Score every method on every item under one protocol (see :mod:`deblurgan.inference.
    evaluation`).

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
        The rows, summaries, skipped items and notes; and the scores by blur size
        (:attr:`EvaluationResult.by_blur_size`) of realistic synthetic data.

    Raises:
        ValueError: bad arguments, or methods that need kernels on a dataset opened without them.
            Items that cannot be read or restored are not raised: they are listed in
            :attr:`EvaluationResult.skipped` (every method skips them, so means stay comparable).

    Example:
        >>> from deblurgan.inference.evaluation import identity_method
        >>> items = [EvalItem("a", torch.full((3, 16, 16), 0.5), torch.full((3, 16, 16), 0.5))]
        >>> result = evaluate([identity_method()], items, metrics=["psnr", "ssim"])
        >>> result.summaries["identity"].scores  # identical images: the cap and 1
        {'psnr': 100.0, 'ssim': 1.0}
    """
    methods = _check_methods(methods)
    settings = EvalSettings(
        check_metrics(metrics, lpips_network),
        shift=shift,
        network=lpips_network,
        macs_size=macs_size,
        warmup=warmup,
        quantize=quantize,
    )
    kernel_methods = [m.name for m in methods if m.needs_kernel]
    if kernel_methods and isinstance(dataset, EvalDataset) and not dataset.has_kernels:
        raise ValueError(
            f"{', '.join(kernel_methods)} need(s) the true kernel of each image, and "
            f"{dataset.info.get('root')} was opened without kernels"
        )
    tally = _Tally(probes={m.name: MemoryProbe(m.device) for m in methods})
    result = EvaluationResult(
        protocol=_protocol(methods, dataset, settings, tally.probes),
        metric_names=list(settings.metric_names),
    )
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
            rows = _evaluate_item(item, methods, settings, tally)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one failing item is reported, the others go on
            result.skipped.append(_describe(source, exc))
        else:
            result.rows.extend(rows)
        _progress(on_item, index, item.name)

    scored_items = len({row.name for row in result.rows})
    result.notes.extend(_size_notes(tally.too_small, scored_items, settings))
    result.summaries = summarise(methods, result.rows, result.metric_names)
    result.protocol["dataset"]["scored"] = scored_items
    if isinstance(dataset, EvalDataset):
        result.by_blur_size = scores_by_blur_size(result, dataset)
        result.by_motion = scores_by_motion(result, dataset)
        result.by_averaging = scores_by_averaging(result, dataset)
        result.item_params = dict(dataset.item_params)
    return result


def _progress(on_item: Callable[[int, str], None] | None, index: int, name: str) -> None:
    if on_item is not None:
        on_item(index, name)


def _describe(source: str, exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message if source and message.startswith(source) else f"{source}: {message}"


def _size_notes(too_small: dict[str, int], scored_items: int, settings: EvalSettings) -> list[str]:
    """One note per metric that some images were too small for."""
    notes = []
    for metric, count in too_small.items():
        size = metric_min_size(metric, settings.network)
        where = "the scored area" if settings.shift else "images"
        if count >= scored_items:
            notes.append(f"{metric}: not scored: {where} smaller than {size}x{size} px")
        else:
            notes.append(
                f"{metric}: skipped on {count} image(s) smaller than {size}x{size} px; its mean "
                "is over the other images"
            )
    return notes


def _evaluate_item(
    item: EvalItem, methods: list[Method], settings: EvalSettings, tally: _Tally
) -> list[ImageResult]:
    """Every method on one item: restored, timed, aligned and scored; one row per method."""
    blurry, sharp = item.blurry, item.sharp
    if blurry.ndim != 3 or blurry.shape[0] != 3 or blurry.shape != sharp.shape:
        raise ValueError(
            f"blurry and sharp must be (3, H, W) of one shape, got {tuple(blurry.shape)} and "
            f"{tuple(sharp.shape)}"
        )
    shift = settings.shift
    height, width = int(blurry.shape[-2]), int(blurry.shape[-1])
    if shift and min(height, width) <= 2 * shift:
        raise ValueError(
            f"{width}x{height} is too small for --shift {shift} (needs > {2 * shift} px)"
        )
    blurry_b = blurry[None].float()
    sharp_b = sharp[None].float()
    scored_side = min(height, width) - 2 * shift
    applicable = [
        m for m in settings.metric_names if scored_side >= metric_min_size(m, settings.network)
    ]
    rows = []
    for method in methods:
        kernel = item.kernel
        if method.needs_kernel and kernel is None:
            raise ValueError(f"{method.name} needs the true kernel, and this item has none")
        probe = tally.probes[method.name]
        if method.name not in tally.warmed:
            for _ in range(settings.warmup):
                timed_restore(method, blurry_b, kernel, probe)
            tally.warmed.add(method.name)
        restored, latency, peak = timed_restore(method, blurry_b, kernel, probe)
        if settings.quantize:
            restored = torch.round(restored.clamp(0, 1) * 255) / 255
        aligned, reference, found = align_by_shift(restored, sharp_b, shift)
        scores = score_pair(
            aligned,
            reference,
            applicable,
            network=settings.network,
            device=settings.network_device,
        )
        key = (method.name, *(settings.macs_size or (height, width)))
        if key not in tally.gmacs:
            tally.gmacs[key] = method_gmacs(method, key[1], key[2])
        rows.append(
            ImageResult(
                method=method.name,
                name=item.name,
                height=height,
                width=width,
                scores=scores,
                latency_ms=latency,
                peak_memory_mb=peak,
                gmacs=tally.gmacs[key],
                shift=found if shift else None,
            )
        )
    for metric in settings.metric_names:  # counted once the item is scored
        if metric not in applicable:
            tally.too_small[metric] = tally.too_small.get(metric, 0) + 1
    return rows


def _protocol(
    methods: list[Method],
    dataset: EvalDataset | Sequence[EvalItem],
    settings: EvalSettings,
    probes: dict[str, MemoryProbe],
) -> dict[str, Any]:
    """What is measured and how, as the JSON summary records it."""
    if isinstance(dataset, EvalDataset):
        data_info = dict(dataset.info)
    else:
        data_info = {"items": len(dataset), "evaluated": len(dataset)}
    network, macs_size = settings.network, settings.macs_size
    return {
        "dataset": data_info,
        "full_size": data_info.get("format") != "synthetic" or data_info.get("crop_size") is None,
        "shift": settings.shift,
        "shift_convention": SHIFT_CONVENTION
        if settings.shift
        else "none: whole images compared as they are",
        "quantize_8bit": settings.quantize,
        "metrics": {
            name: {
                "description": METRICS[name].description,
                "higher_is_better": METRICS[name].higher_is_better,
                "min_size": metric_min_size(name, network),
            }
            for name in settings.metric_names
        },
        "psnr_max_db": PSNR_MAX_DB,
        "lpips": None
        if network is None
        else {
            "network": type(network).__name__,
            "net": getattr(network, "net_name", None),
        },
        "latency": (
            f"median over images of one timed call per image after {settings.warmup} warm-up "
            "call(s); input already on the device; torch.cuda.synchronize before and after on GPU"
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
