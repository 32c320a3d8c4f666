"""``deblur report RUNS_DIR``: an ablation table and plots from a sweep of training runs.

Usage::

    deblur train -m optim.adv_weight=0.001,0.01 run_dir=runs/adv   # runs/adv/0, runs/adv/1
    deblur eval --data val/ --model runs/adv/0/generator.safetensors --json runs/adv/0/eval.json
    deblur report runs/adv                  # writes runs/adv/report/{ablation.md,ablation.csv,...}
    deblur report runs/ --out report/ --no-plots

Every folder under ``RUNS_DIR`` (``RUNS_DIR`` included, hidden folders such as ``.hydra`` left
out) that holds a ``config.yaml`` is a run. The report has one row per run:

- the settings that **vary** across runs: ``config.yaml`` flattened to dotted keys
  (``optim.adv_weight``; lists as JSON), keeping only the keys whose values differ (a key missing
  from some runs differs), without ``run_dir``, ``resume`` and ``hydra.*``, and without
  ``data.train.*`` / ``data.val.*`` where they only repeat ``data.*``;
- from the CSV logs (``csv/version_*/metrics.csv``, versions merged as a resumed run's are):
  the final and best ``val/psnr`` and ``val/ssim``, the final ``val/psnr_input`` (the blurry
  input's PSNR) and ``steps``. Lightning writes, in the ``step`` column, the number of training
  batches done before the row (``_batches_that_stepped``, the same with or without a critic:
  one batch is one GAN step, whatever ``n_critic``), so ``steps`` is the last logged step + 1;
- the means in the run's ``eval.json`` (``deblur eval --json``), as ``eval/<method>/<key>``.

It writes ``ablation.md`` (also printed) and ``ablation.csv``, ``metrics.png`` (a bar chart of
each quality column per run) and ``loss_curves/<run>.png`` (each run's losses and validation
PSNR, through ``deblurgan.training.callbacks.plot_loss_curves``; it needs the ``train`` extra),
all atomically; existing outputs are replaced only with ``--force``. A run whose files cannot be
read is listed at the end and the exit code is 1.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "RunRecord",
    "build_parser",
    "collect_runs",
    "find_runs",
    "flatten_config",
    "format_markdown",
    "read_log_series",
    "report_main",
    "table_csv",
    "varying_keys",
]

_PROG = "deblur report"
_NOISE = ("run_dir", "resume")
_MISSING = object()
#: The columns read from the CSV logs, after the varied settings.
LOG_COLUMNS = (
    "val/psnr",
    "val/psnr_best",
    "val/ssim",
    "val/ssim_best",
    "val/psnr_input",
    "steps",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur report``."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Summarise a sweep of training runs: a table of the settings that vary and "
        "the runs' validation (and 'deblur eval') metrics, with plots.",
        epilog="exit codes: 0 report written, 1 no runs or unreadable runs, 2 usage error",
    )
    parser.add_argument("runs_dir", metavar="RUNS_DIR", help="the folder holding the run folders")
    parser.add_argument(
        "-o", "--out", metavar="DIR", help="output folder (default: RUNS_DIR/report)"
    )
    parser.add_argument(
        "--eval-json",
        default="eval.json",
        metavar="NAME",
        help="file name of a run's 'deblur eval --json' summary (default: %(default)s)",
    )
    parser.add_argument("--no-plots", action="store_true", help="write the tables only")
    parser.add_argument("-f", "--force", action="store_true", help="replace existing outputs")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print the table")
    return parser


# ---------------------------------------------------------------------------------- runs
def _natural_key(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def find_runs(root: str | os.PathLike[str]) -> list[Path]:
    """Every run folder (one holding ``config.yaml``) at or below ``root``, naturally sorted.

    Hidden folders (``.hydra``) are not searched, nor are a run's own sub-folders.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> for name in ("10", "2", "2/.hydra"):
        ...     (root / name).mkdir()
        ...     _ = (root / name / "config.yaml").write_text("seed: 0\\n")
        >>> [p.name for p in find_runs(root)]
        ['2', '10']
    """
    root = Path(root)
    found: list[Path] = []

    def walk(folder: Path) -> None:
        if (folder / "config.yaml").is_file():
            found.append(folder)
            return
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir())
        except OSError:
            return
        for child in children:
            if not child.name.startswith("."):
                walk(child)

    walk(root)
    return sorted(found, key=lambda p: _natural_key(p.relative_to(root).as_posix()))


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys; lists become compact JSON text, other values stay.

    Example:
        >>> flatten_config({"optim": {"lr": 1e-4, "betas": [0.5, 0.999]}, "discriminator": None})
        {'optim.lr': 0.0001, 'optim.betas': '[0.5, 0.999]', 'discriminator': None}
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            inner = flatten_config(value, f"{name}.")
            flat.update(inner if inner else {name: "{}"})
        elif isinstance(value, list | tuple):
            flat[name] = json.dumps(list(value))
        else:
            flat[name] = value
    return flat


def _is_noise(key: str) -> bool:
    parts = key.split(".")
    return parts[0] in _NOISE or parts[-1] in _NOISE or parts[0] == "hydra"


def varying_keys(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The dotted keys whose values differ across flattened configs (missing counts as a value).

    ``run_dir``, ``resume`` and ``hydra.*`` are left out, and so are ``data.train.K`` and
    ``data.val.K`` when every run has the same value there as in ``data.K``. Keys keep the order
    of their first appearance.

    Example:
        >>> varying_keys([{"a": 1, "b": 2, "run_dir": "x"}, {"a": 1, "b": 3, "run_dir": "y"}])
        ['b']
    """
    order: dict[str, None] = {}
    for config in configs:
        order.update(dict.fromkeys(config))
    varied = []
    for key in order:
        if _is_noise(key):
            continue
        values = {json.dumps(c.get(key, "<missing>"), sort_keys=True, default=str) for c in configs}
        if len(values) > 1:
            varied.append(key)
    kept = []
    for key in varied:
        parts = key.split(".")
        if len(parts) > 2 and parts[0] == "data" and parts[1] in ("train", "val"):
            base = ".".join([parts[0], *parts[2:]])
            if all(c.get(key, _MISSING) == c.get(base, _MISSING) for c in configs):
                continue
        kept.append(key)
    return kept


def read_log_series(run_dir: str | os.PathLike[str]) -> dict[str, list[tuple[int, float]]]:
    """Every series of a run's CSV logs, ``{key: [(step, value), ...]}``, versions merged.

    A resumed run writes ``csv/version_N+1`` from its checkpoint's step on: what an earlier
    version logged at or after that step is dropped (those steps were trained again). A run
    without CSV logs gives ``{}``.

    Example:
        >>> import tempfile
        >>> run = Path(tempfile.mkdtemp())
        >>> logs = {0: "step,val/psnr\\n9,20\\n19,21\\n", 1: "step,val/psnr\\n19,22\\n"}
        >>> for version, text in logs.items():
        ...     (run / "csv" / f"version_{version}").mkdir(parents=True)
        ...     _ = (run / "csv" / f"version_{version}" / "metrics.csv").write_text(text)
        >>> read_log_series(run)
        {'val/psnr': [(9, 20.0), (19, 22.0)]}
    """
    from deblurgan.training.callbacks import read_metrics  # the reader the loss curves use

    try:
        series = read_metrics(run_dir)
    except ValueError:  # no CSV logs in this run
        return {}
    return {key: list(zip(steps, values, strict=True)) for key, (steps, values) in series.items()}


def _log_metrics(series: Mapping[str, list[tuple[int, float]]]) -> dict[str, float | int | None]:
    out: dict[str, float | int | None] = dict.fromkeys(LOG_COLUMNS)
    for key in ("val/psnr", "val/ssim", "val/psnr_input"):
        values = [v for _, v in series.get(key, []) if math.isfinite(v)]
        if values:
            out[key] = values[-1]
            if f"{key}_best" in out:
                out[f"{key}_best"] = max(values)
    steps = [s for points in series.values() for s, _ in points]
    out["steps"] = max(steps) + 1 if steps else None
    return out


def _eval_metrics(path: Path) -> dict[str, float | int | None]:
    data = json.loads(path.read_text(encoding="utf-8"))
    methods = data.get("methods") if isinstance(data, Mapping) else None
    if not isinstance(methods, Mapping):
        raise ValueError(f"{path}: not a 'deblur eval --json' summary (no 'methods')")
    out: dict[str, float | int | None] = {}
    for method, values in methods.items():
        if not isinstance(values, Mapping):
            continue
        for key, value in values.items():
            if key != "count" and (value is None or isinstance(value, int | float)):
                out[f"eval/{method}/{key}"] = value
    return out


@dataclass
class RunRecord:
    """One run of the report: its name, folder, flattened config and its metric columns."""

    name: str
    path: Path
    config: dict[str, Any]
    metrics: dict[str, float | int | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def collect_runs(
    runs_dir: str | os.PathLike[str], *, eval_json: str = "eval.json"
) -> tuple[list[RunRecord], list[str]]:
    """Read every run under ``runs_dir``: ``(records, problems)``; unreadable runs are problems.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "0").mkdir()
        >>> _ = (root / "0" / "config.yaml").write_text("optim:\\n  lr: 0.1\\n")
        >>> runs, problems = collect_runs(root)
        >>> runs[0].name, runs[0].config, problems
        ('0', {'optim.lr': 0.1}, [])
    """
    import yaml

    root = Path(runs_dir)
    records: list[RunRecord] = []
    problems: list[str] = []
    for folder in find_runs(root):
        name = folder.relative_to(root).as_posix()
        if name == ".":
            name = root.resolve().name
        config_path = folder / "config.yaml"
        try:
            config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(f"{config_path}: unreadable config ({' '.join(str(exc).split())})")
            continue
        if config is None:
            config = {}
        if not isinstance(config, Mapping):
            problems.append(f"{config_path}: not a mapping of settings")
            continue
        record = RunRecord(name, folder, flatten_config(config))
        try:
            series = read_log_series(folder)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            problems.append(f"{folder}: unreadable CSV logs ({' '.join(str(exc).split())})")
            series = {}
        if not series:
            record.notes.append(f"{folder}: no CSV logs (csv/version_*/metrics.csv)")
        record.metrics.update(_log_metrics(series))
        eval_path = folder / eval_json
        if eval_path.is_file():
            try:
                record.metrics.update(_eval_metrics(eval_path))
            except (OSError, ValueError) as exc:
                problems.append(" ".join(str(exc).split()))
        records.append(record)
    return records, problems


def _columns(records: Sequence[RunRecord]) -> tuple[list[str], list[str]]:
    """``(varied setting keys, metric columns)`` of the table."""
    settings = varying_keys([r.config for r in records])
    metric_columns: dict[str, None] = dict.fromkeys(LOG_COLUMNS)
    for record in records:
        metric_columns.update(dict.fromkeys(k for k in record.metrics if k not in metric_columns))
    return settings, list(metric_columns)


def _cell(key: str, value: Any) -> str:
    if value is _MISSING:
        return "-"
    if value is None:
        return "null" if not _is_metric(key) else "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if _is_metric(key):
            if key.split("/")[-1].startswith("psnr"):
                return f"{value:.2f}"
            return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
        return f"{value:g}"
    return str(value)


def _is_metric(key: str) -> bool:
    return key.startswith(("val/", "eval/")) or key == "steps"


def _table(records: Sequence[RunRecord]) -> tuple[list[str], list[list[Any]]]:
    settings, metrics = _columns(records)
    header = ["run", *settings, *metrics]
    rows = []
    for record in records:
        row: list[Any] = [record.name]
        row += [record.config.get(key, _MISSING) for key in settings]
        row += [record.metrics.get(key) for key in metrics]
        rows.append(row)
    return header, rows


def format_markdown(records: Sequence[RunRecord]) -> str:
    """The ablation table in GitHub markdown: run, varied settings, then metrics.

    Example:
        >>> a = RunRecord("0", Path("0"), {"lr": 0.1, "seed": 0}, {"val/psnr": 25.0})
        >>> b = RunRecord("1", Path("1"), {"lr": 0.2, "seed": 0}, {"val/psnr": 26.5})
        >>> print(format_markdown([a, b]).splitlines()[0])
        | run | lr | val/psnr | val/psnr_best | val/ssim | val/ssim_best | val/psnr_input | steps |
    """
    header, rows = _table(records)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for row in rows:
        cells = [
            _cell(key, value).replace("|", "\\|") for key, value in zip(header, row, strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table_csv(records: Sequence[RunRecord]) -> str:
    """The ablation table as CSV (full precision; empty cells where a value is missing).

    Example:
        >>> a = RunRecord("0", Path("0"), {"lr": 0.1}, {"val/psnr": 25.0})
        >>> b = RunRecord("1", Path("1"), {"lr": 0.2}, {})
        >>> print(table_csv([a, b]))
        run,lr,val/psnr,val/psnr_best,val/ssim,val/ssim_best,val/psnr_input,steps
        0,0.1,25.0,,,,,
        1,0.2,,,,,,
        <BLANKLINE>
    """
    header, rows = _table(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                ""
                if value is _MISSING or (value is None and _is_metric(key))
                else ("null" if value is None else value)
                for key, value in zip(header, row, strict=True)
            ]
        )
    return buffer.getvalue()


# ---------------------------------------------------------------------------------- plots
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

    _, metrics = _columns(records)
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
    from deblurgan.training.callbacks import save_figure

    save_figure(figure, out)
    return out


def _curve_file(out: Path, name: str) -> Path:
    return out / "loss_curves" / (name.replace("/", "__") + ".png")


# ------------------------------------------------------------------------------------ main
def report_main(argv: Sequence[str]) -> int:
    """Run ``deblur report``; returns the exit code (argparse exits with 2 on usage errors)."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    root = Path(args.runs_dir)
    if not root.is_dir():
        print(f"{_PROG}: error: {root}: no such folder", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else root / "report"
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} exists and is not a folder")
    try:
        import yaml  # noqa: F401  (PyYAML reads config.yaml)
    except ImportError:
        print(
            f"{_PROG}: error: reading config.yaml needs PyYAML (pip install 'deblurgan[train]')",
            file=sys.stderr,
        )
        return 2
    records, problems = collect_runs(root, eval_json=args.eval_json)
    if not records:
        for line in problems:
            print(line, file=sys.stderr)
        print(f"{_PROG}: error: {root}: no run folders (with a config.yaml) found", file=sys.stderr)
        return 1

    targets = [out / "ablation.md", out / "ablation.csv"]
    if not args.no_plots:
        targets += [out / "metrics.png", *(_curve_file(out, r.name) for r in records)]
    existing = [t for t in targets if t.exists()]
    if existing and not args.force:
        parser.error(f"{existing[0]} exists (use --force to replace the report)")

    from deblurgan.inference.evaluation import atomic_write_text

    markdown = format_markdown(records)
    atomic_write_text(out / "ablation.md", markdown + "\n")
    atomic_write_text(out / "ablation.csv", table_csv(records))
    notes = [note for r in records for note in r.notes]
    written = 2
    if not args.no_plots:
        try:
            if plot_metrics(records, out / "metrics.png") is not None:
                written += 1
        except ImportError:
            notes.append("no plots: matplotlib is missing (pip install 'deblurgan[train]')")
        else:
            written += _plot_curves(records, out, notes, problems)
    if not args.quiet:
        print(markdown)
        print(
            f"{_PROG}: {len(records)} run(s); {written} file(s) written to {out}", file=sys.stderr
        )
    for note in notes:
        print(f"{_PROG}: note: {note}", file=sys.stderr)
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


def _plot_curves(
    records: Sequence[RunRecord], out: Path, notes: list[str], problems: list[str]
) -> int:
    try:
        from deblurgan.training.callbacks import plot_loss_curves
    except ImportError as exc:
        notes.append(f"no loss curves: they need the 'train' extra ({exc})")
        return 0
    written = 0
    for record in records:
        if not any(record.path.glob("csv/version_*/metrics.csv")):
            continue
        try:
            # Lightning's CSV step counts batches (GAN steps), critic or not: steps_per_batch 1.
            plot_loss_curves(
                record.path, _curve_file(out, record.name), steps_per_batch=1, title=record.name
            )
        except (ValueError, OSError) as exc:
            notes.append(f"{record.path}: no loss curves ({' '.join(str(exc).split())})")
        else:
            written += 1
    return written
