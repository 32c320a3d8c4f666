"""Plots of training runs: a run's loss curves and a sweep's quality columns (Matplotlib).

Matplotlib is imported when a plot is drawn (the ``train`` extra); the rest of
:mod:`deblurgan.reporting` works without it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deblurgan.io import atomic_write
from deblurgan.reporting.ablation import RunRecord, table_columns
from deblurgan.reporting.runlogs import read_metrics

__all__ = ["plot_loss_curves", "plot_metrics", "save_figure"]


_LOSS_ORDER = ("g_loss", "d_loss", "content", "adv", "gp")


def _running_mean(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _loss_keys(keys: list[str]) -> list[str]:
    losses = [k for k in keys if k.startswith("train/") and not k.startswith("train/lr")]

    def order(key: str) -> tuple[int, str]:
        name = key.removeprefix("train/")
        return (_LOSS_ORDER.index(name) if name in _LOSS_ORDER else len(_LOSS_ORDER), name)

    return sorted(losses, key=order)


def save_figure(figure: Any, path: Path) -> None:
    """Save a Matplotlib figure atomically (:func:`deblurgan.io.atomic_write`)."""
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in figure.canvas.get_supported_filetypes():
        raise ValueError(
            f"{path}: cannot write a plot in format {fmt!r}; use one of "
            f"{', '.join(sorted(figure.canvas.get_supported_filetypes()))}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda file: figure.savefig(file, format=fmt, dpi=100))


def plot_loss_curves(
    run_dir: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    steps_per_batch: int = 1,
    title: str | None = None,
) -> Path:
    """Plot a run's losses and validation PSNR against GAN steps to an image file.

    The top panel has every ``train/*`` loss (``g_loss``, ``d_loss``, ``content``, ``adv``,
    ``content_<term>``, ``gp``; not the learning rates): the raw values faint, a running mean
    (window ~1/20 of the points) on top, on a log scale when all values are positive. The
    bottom panel has ``val/psnr`` and, dashed, ``val/psnr_input`` (the blurry input's PSNR,
    the baseline to beat). The CSV versions of a resumed run are merged (see
    :func:`read_metrics`). The file is written atomically; its extension picks the format.

    Args:
        run_dir: the run folder (``<run_dir>/csv/version_*/metrics.csv``) or a CSVLogger folder.
        out_path: the image to write, e.g. ``<run_dir>/loss_curves.png``.
        steps_per_batch: see :func:`read_metrics` (1 for this project's runs).
        title: heads the plot (default: the name of ``run_dir``).

    Returns:
        ``Path(out_path)``.

    Raises:
        ValueError: no CSV logs under ``run_dir``, or none of them holds a loss or a PSNR.

    Example:
        >>> import tempfile
        >>> run = Path(tempfile.mkdtemp())
        >>> (run / "csv" / "version_0").mkdir(parents=True)
        >>> _ = (run / "csv" / "version_0" / "metrics.csv").write_text(
        ...     "epoch,step,train/g_loss,val/psnr\\n0,0,0.5,\\n0,1,0.4,\\n0,1,,21.5\\n")
        >>> plot_loss_curves(run, run / "loss_curves.png").name
        'loss_curves.png'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    folder = Path(run_dir)
    series = read_metrics(folder, steps_per_batch=steps_per_batch)
    losses = _loss_keys(list(series))
    has_val = "val/psnr" in series or "val/psnr_input" in series
    if not losses and not has_val:
        raise ValueError(
            f"{folder}: the CSV logs hold no train/* loss and no val/psnr to plot "
            f"(found: {', '.join(sorted(series)) or 'nothing'})"
        )

    figure = Figure(figsize=(10, 8), layout="constrained")
    FigureCanvasAgg(figure)
    loss_ax, val_ax = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    colours = [f"C{i % 10}" for i in range(len(losses))]
    positive = True
    for key, colour in zip(losses, colours, strict=True):
        steps, values = series[key]
        window = max(1, len(values) // 20)
        loss_ax.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8)
        smooth = _running_mean(values, window)
        loss_ax.plot(steps, smooth, color=colour, linewidth=1.6, label=key.removeprefix("train/"))
        positive = positive and all(v > 0 and math.isfinite(v) for v in values)
    if losses:
        if positive:
            loss_ax.set_yscale("log")
        loss_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    else:
        loss_ax.text(
            0.5, 0.5, "no training losses logged", ha="center", transform=loss_ax.transAxes
        )
    loss_ax.set_ylabel("training loss")
    name = title if title is not None else folder.resolve().name
    loss_ax.set_title(f"{name}: losses (faint: raw, solid: running mean)")
    loss_ax.grid(alpha=0.3)

    if "val/psnr" in series:
        steps, values = series["val/psnr"]
        val_ax.plot(steps, values, color="C0", marker="o", markersize=3, label="restored")
    if "val/psnr_input" in series:
        steps, values = series["val/psnr_input"]
        val_ax.plot(steps, values, color="0.4", linestyle="--", label="blurry input")
    if has_val:
        val_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    else:
        val_ax.text(0.5, 0.5, "no validation logged", ha="center", transform=val_ax.transAxes)
    val_ax.set_ylabel("validation PSNR (dB)")
    val_ax.set_xlabel("GAN step")
    val_ax.grid(alpha=0.3)

    out = Path(out_path)
    save_figure(figure, out)
    return out


def _quality_columns(metrics: Sequence[str]) -> list[str]:
    from deblurgan.metrics import METRICS

    chosen = [c for c in metrics if c.startswith("val/")]
    chosen += [c for c in metrics if c.startswith("eval/") and c.split("/")[-1] in METRICS]
    return chosen


def plot_metrics(records: Sequence[RunRecord], path: str | os.PathLike[str]) -> Path | None:
    """A bar chart per quality column (``val/*``, ``eval/*/<metric>``), one bar per run.

    Returns the written path, or ``None`` when no run has any of these values.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _, metrics = table_columns(records)
    columns = [
        c
        for c in _quality_columns(metrics)
        if any(isinstance(r.metrics.get(c), int | float) for r in records)
    ]
    if not columns:
        return None
    ncols = min(3, len(columns))
    nrows = math.ceil(len(columns) / ncols)
    width = max(4.0, 0.5 * len(records) + 2.0)
    figure = Figure(figsize=(ncols * width, nrows * 3.2), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=False)
    names = [r.name for r in records]
    for index, column in enumerate(columns):
        ax = axes[index // ncols][index % ncols]
        values = [r.metrics.get(column) for r in records]
        heights = [float(v) if isinstance(v, int | float) else math.nan for v in values]
        bars = ax.bar(range(len(names)), heights, color=[f"C{i % 10}" for i in range(len(names))])
        digits = 2 if column.split("/")[-1].startswith("psnr") else 4
        ax.bar_label(bars, fmt=f"%.{digits}f", fontsize="x-small", padding=2)
        finite = [h for h in heights if math.isfinite(h)]
        if column in ("val/psnr", "val/psnr_best"):  # the blurry input: the baseline to beat
            inputs = [r.metrics.get("val/psnr_input") for r in records]
            points = [(i, float(v)) for i, v in enumerate(inputs) if isinstance(v, int | float)]
            if points:
                ax.scatter(
                    *zip(*points, strict=True),
                    marker="_",
                    s=400,
                    color="black",
                    label="blurry input",
                    zorder=3,
                )
                ax.legend(fontsize="x-small", loc="lower right")
                finite += [v for _, v in points]
        if finite:  # start near the smallest value so that differences show
            low, high = min(finite), max(finite)
            pad = (high - low) * 0.5 or abs(high) * 0.05 or 1.0
            ax.set_ylim(max(0.0, low - pad) if low >= 0 else low - pad, high + pad * 0.6)
        tilt = 30 if len(names) > 4 or max(len(n) for n in names) > 6 else 0
        ax.set_xticks(
            range(len(names)),
            names,
            rotation=tilt,
            ha="right" if tilt else "center",
            fontsize="small",
        )
        ax.set_title(column, fontsize="medium")
        ax.grid(axis="y", alpha=0.3)
    for index in range(len(columns), nrows * ncols):
        axes[index // ncols][index % ncols].set_visible(False)
    out = Path(path)
    save_figure(figure, out)
    return out
