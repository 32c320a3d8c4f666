"""The results of an evaluation: per-image rows, per-method summaries, CSV, JSON and a table.

Part of the evaluation protocol of :mod:`deblurgan.inference.evaluation`: one
:class:`ImageResult` per image and method, one :class:`MethodSummary` per method (mean scores,
parameters, mean GMACs, median latency, largest peak memory), written as CSV (one row per image
and method) and JSON (one summary per method, plus the protocol), both atomically, or shown as a
text table (:func:`format_table`, what ``deblur eval`` prints).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deblurgan.inference.evaluation.methods import Method
from deblurgan.io import atomic_write_text
from deblurgan.metrics import METRICS

__all__ = [
    "COST_KEYS",
    "DEGRADATION_COLUMNS",
    "EvaluationResult",
    "ImageResult",
    "MethodSummary",
    "align_columns",
    "format_score",
    "format_table",
    "mean",
    "summarise",
]

#: The cost entries of a method summary, after the metric means.
COST_KEYS = ("params", "gmacs", "latency_ms", "peak_memory_mb")

#: The degradation parameters of a realistic synthetic item (``RealisticDegradation.draw`` and
#: its renderer) that the per-image CSV carries, last, so that scores can be split any way:
#: motion kind, streak at the centre (px in the 1280 px frame), in-plane rotation and zoom of a
#: camera path, its moving objects, averaging domain, highlight gain, noise, JPEG quality.
DEGRADATION_COLUMNS = (
    "kind",
    "blur_px",
    "rotation_deg",
    "zoom",
    "moving_objects",
    "averaging",
    "highlight_gain",
    "shot_noise",
    "read_noise",
    "jpeg_quality",
)


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


def mean(values: Sequence[float]) -> float:
    """The exactly rounded mean (``math.fsum``) of a non-empty sequence."""
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
        by_blur_size: the mean scores per blur-size bin (:func:`~deblurgan.inference.evaluation.
            groups.group_scores`) of realistic synthetic data, else ``None``.
        by_motion: the same by kind of motion (camera path, with moving objects or not, or
            camera shake), else ``None``.
        by_averaging: the same by averaging domain (linear light or gamma space), else ``None``.
        item_params: item name -> its degradation parameters (realistic synthetic data; the
            CSV's :data:`DEGRADATION_COLUMNS`), else empty.
    """

    protocol: dict[str, Any]
    metric_names: list[str]
    rows: list[ImageResult] = field(default_factory=list)
    summaries: dict[str, MethodSummary] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    by_blur_size: dict[str, dict[str, Any]] | None = None
    by_motion: dict[str, dict[str, Any]] | None = None
    by_averaging: dict[str, dict[str, Any]] | None = None
    item_params: dict[str, dict[str, Any]] = field(default_factory=dict)

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
        """The per-image CSV header (the degradation's columns last, for synthetic data)."""
        shift = ["shift_dy", "shift_dx"] if self.protocol.get("shift") else []
        degradation = list(DEGRADATION_COLUMNS) if self.item_params else []
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
            *degradation,
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
            if self.item_params:
                params = self.item_params.get(row.name, {})
                for key in DEGRADATION_COLUMNS:
                    value = params.get(key)
                    record[key] = (
                        ""
                        if value is None
                        else (repr(value) if isinstance(value, float) else value)
                    )
            writer.writerow(record)
        return buffer.getvalue()

    def as_dict(self) -> dict[str, Any]:
        """The JSON summary: ``{"protocol", "methods": {name: {metric: mean, ...}}, ...}``, and
        ``"by_motion"``, ``"by_averaging"`` and ``"by_blur_size"`` last when there are."""
        out = {
            "protocol": self.protocol,
            "methods": {name: s.as_dict() for name, s in self.summaries.items()},
            "skipped": list(self.skipped),
            "notes": list(self.notes),
        }
        for key in ("by_motion", "by_averaging", "by_blur_size"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`csv_text` atomically; returns the path."""
        return atomic_write_text(path, self.csv_text())

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`as_dict` as JSON atomically; returns the path."""
        text = json.dumps(self.as_dict(), indent=2, allow_nan=False, default=str) + "\n"
        return atomic_write_text(path, text)


def summarise(
    methods: list[Method], rows: list[ImageResult], metric_names: list[str]
) -> dict[str, MethodSummary]:
    """One :class:`MethodSummary` per method, in the order of ``methods``, from its rows."""
    out = {}
    for method in methods:
        mine = [row for row in rows if row.method == method.name]
        scores = {}
        for metric in metric_names:
            values = [row.scores[metric] for row in mine if metric in row.scores]
            if values:
                scores[metric] = mean(values)
        macs = [row.gmacs for row in mine if row.gmacs is not None]
        peaks = [row.peak_memory_mb for row in mine if row.peak_memory_mb is not None]
        out[method.name] = MethodSummary(
            method=method.name,
            kind=method.kind,
            count=len(mine),
            scores=scores,
            params=method.params,
            gmacs=mean(macs) if macs else None,
            latency_ms=statistics.median(row.latency_ms for row in mine) if mine else None,
            peak_memory_mb=max(peaks) if peaks else None,
        )
    return out


def format_score(metric: str, value: float | None) -> str:
    """A mean score as the tables show it: PSNRs with 2 decimals, the others with 4; ``-``: none.

    Example:
        >>> format_score("psnr", 31.256), format_score("ssim", 0.91234), format_score("vif", None)
        ('31.26', '0.9123', '-')
    """
    if value is None:
        return "-"
    if metric.startswith("psnr"):
        return f"{value:.2f}"
    return f"{value:.4f}"


def _format_params(value: int | None) -> str:
    if value is None:
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return str(value)


def _format_cost(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(result: EvaluationResult) -> str:
    """The comparison table of an :class:`~deblurgan.inference.EvaluationResult`.

    One row per method: images scored, each metric's mean (``*`` marks the best of each metric
    column, by the metric's direction), parameters, GMACs, median latency and peak memory.

    Example:
        >>> import torch
        >>> from deblurgan.inference import EvalItem, evaluate, identity_method
        >>> item = EvalItem("a", torch.zeros(3, 16, 16), torch.full((3, 16, 16), 0.5))
        >>> print(format_table(evaluate([identity_method()], [item], metrics=["psnr"])))
        ... # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
        method    images  psnr   params  GMACs  ms  MB
        identity  1       6.02*  0       0.00   ... ...
    """
    headers = ["method", "images", *result.metric_names, "params", "GMACs", "ms", "MB"]
    best = {m: result.best(m) for m in result.metric_names}
    rows = []
    for name, summary in result.summaries.items():
        cells = [name, str(summary.count)]
        for metric in result.metric_names:
            value = summary.scores.get(metric)
            text = format_score(metric, value)
            winner = best[metric]
            if value is not None and winner is not None:
                top = result.summaries[winner].scores[metric]
                if format_score(metric, value) == format_score(metric, top):
                    text += "*"
            cells.append(text)
        cells += [
            _format_params(summary.params),
            _format_cost(summary.gmacs, 2),
            _format_cost(summary.latency_ms, 1),
            _format_cost(summary.peak_memory_mb, 1),
        ]
        rows.append(cells)
    return align_columns([headers, *rows])


def align_columns(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as text: each column as wide as its widest cell, two spaces between.

    Example:
        >>> print(align_columns([["method", "psnr"], ["identity", "25.10"]]))
        method    psnr
        identity  25.10
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )
