"""Scores by group of images: blur size, kind of motion and averaging domain of synthetic items.

Part of the evaluation protocol of :mod:`deblurgan.inference.evaluation`: :func:`group_scores`
with :func:`blur_size_groups` (or :func:`motion_groups`, :func:`averaging_groups`) splits the
scores of an evaluation of realistic synthetic data, and :func:`format_groups` shows them as
``deblur eval`` prints them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from deblurgan.inference.evaluation.datasets import EvalDataset
from deblurgan.inference.evaluation.results import (
    EvaluationResult,
    align_columns,
    format_score,
    mean,
)

__all__ = [
    "BLUR_SIZE_BINS",
    "averaging_groups",
    "blur_size_groups",
    "format_groups",
    "group_scores",
    "motion_groups",
    "scores_by_averaging",
    "scores_by_blur_size",
    "scores_by_motion",
]

#: Blur-size bins of the realistic synthetic protocol: ``(low, high, label)``, pixels of the
#: streak at the image centre in the 1280 px frame (``blur_px``), one octave each.
BLUR_SIZE_BINS: tuple[tuple[float, float, str], ...] = (
    (0.0, 8.0, "< 8 px"),
    (8.0, 16.0, "8-16 px"),
    (16.0, 32.0, "16-32 px"),
    (32.0, 64.0, "32-64 px"),
    (64.0, math.inf, ">= 64 px"),
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


#: Labels of :func:`motion_groups` and :func:`averaging_groups`, in the order they are shown.
MOTION_LABELS = ("camera path", "camera path + objects", "camera shake")
AVERAGING_LABELS = ("linear light", "gamma space")


def motion_groups(dataset: EvalDataset) -> dict[str, str]:
    """Item name -> kind of motion: a camera path without or with moving objects, or shake."""
    groups: dict[str, str] = {}
    for name, params in dataset.item_params.items():
        if params["kind"] == "shake":
            groups[name] = MOTION_LABELS[2]
        else:
            groups[name] = MOTION_LABELS[1 if params.get("moving_objects") else 0]
    return groups


def averaging_groups(dataset: EvalDataset) -> dict[str, str]:
    """Item name -> where its sub-frames were averaged: linear light or gamma (sRGB) space."""
    label = {"linear": AVERAGING_LABELS[0], "gamma": AVERAGING_LABELS[1]}
    return {name: label[params["averaging"]] for name, params in dataset.item_params.items()}


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
        >>> from deblurgan.inference.evaluation import ImageResult
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
                metric: mean([r.scores[metric] for r in mine if metric in r.scores])
                for metric in result.metric_names
                if any(metric in r.scores for r in mine)
            }
        out[label] = {"items": len({row.name for row in rows}), "methods": methods}
    return out


def scores_by_blur_size(
    result: EvaluationResult, dataset: EvalDataset
) -> dict[str, dict[str, Any]] | None:
    """:func:`group_scores` by :data:`BLUR_SIZE_BINS`, in the bins' order, for a dataset whose
    items carry their degradation parameters (realistic synthetic data); else ``None``."""
    bins = [label for _, _, label in BLUR_SIZE_BINS]
    return _scores_by(result, dataset, blur_size_groups, bins)


def scores_by_motion(
    result: EvaluationResult, dataset: EvalDataset
) -> dict[str, dict[str, Any]] | None:
    """:func:`group_scores` by :func:`motion_groups`, for realistic synthetic data; else
    ``None``."""
    return _scores_by(result, dataset, motion_groups, MOTION_LABELS)


def scores_by_averaging(
    result: EvaluationResult, dataset: EvalDataset
) -> dict[str, dict[str, Any]] | None:
    """:func:`group_scores` by :func:`averaging_groups`, for realistic synthetic data; else
    ``None``."""
    return _scores_by(result, dataset, averaging_groups, AVERAGING_LABELS)


def _scores_by(
    result: EvaluationResult,
    dataset: EvalDataset,
    groups_of: Callable[[EvalDataset], dict[str, str]],
    order: Sequence[str],
) -> dict[str, dict[str, Any]] | None:
    if not dataset.item_params:  # not realistic synthetic data: no parameters to group by
        return None
    return group_scores(result, groups_of(dataset), order=order)


def format_groups(groups: dict[str, Any], metric_names: list[str], *, title: str) -> str:
    """A table of mean scores per group of images (rows) and method (columns).

    The first metric of ``metric_names`` is shown for every method; when the blurry input
    (``identity``) is among them, each other method also gets its gain over it.

    Example:
        >>> groups = {"< 8 px": {"items": 2, "methods": {"identity": {"psnr": 30.0},
        ...                                              "net": {"psnr": 31.5}}}}
        >>> print(format_groups(groups, ["psnr"], title="blur size"))
        blur size  items  identity psnr  net psnr  net gain
        < 8 px     2      30.00          31.50     +1.50
    """
    if not groups or not metric_names:
        return ""
    metric = metric_names[0]
    methods = list(dict.fromkeys(m for g in groups.values() for m in g["methods"]))
    base = "identity" if "identity" in methods else None
    headers = [title, "items"]
    for method in methods:
        headers.append(f"{method} {metric}")
        if base is not None and method != base:
            headers.append(f"{method} gain")
    rows = []
    for label, group in groups.items():
        cells = [label, str(group["items"])]
        reference = group["methods"].get(base, {}).get(metric) if base else None
        for method in methods:
            value = group["methods"].get(method, {}).get(metric)
            cells.append(format_score(metric, value))
            if base is not None and method != base:
                gain = None if value is None or reference is None else value - reference
                cells.append("-" if gain is None else f"{gain:+.2f}")
        rows.append(cells)
    return align_columns([headers, *rows])
