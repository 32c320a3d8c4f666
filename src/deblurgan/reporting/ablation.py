"""Ablation tables of a sweep of training runs: the library behind ``deblur report``.

Every folder under a root (the root included, hidden folders such as ``.hydra`` left out) that
holds a ``config.yaml`` is a run. A report has one row per run:

- the settings that **vary** across runs: ``config.yaml`` flattened to dotted keys
  (``optim.adv_weight``; lists as JSON), keeping only the keys whose values differ (a key missing
  from some runs differs), without ``run_dir``, ``resume`` and ``hydra.*``, and without
  ``data.train.*`` / ``data.val.*`` where they only repeat ``data.*``;
- from the CSV logs (:mod:`deblurgan.reporting.runlogs`): the final and best ``val/psnr`` and
  ``val/ssim``, the final ``val/psnr_input`` (the blurry input's PSNR) and ``steps`` (the last
  logged step + 1: Lightning's ``step`` column counts training batches, one per GAN step);
- the means in the run's ``eval.json`` (``deblur eval --json``), as ``eval/<method>/<key>``.

Reading needs PyYAML only (a core dependency), neither Lightning nor Matplotlib.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deblurgan.reporting.runlogs import read_log_series

__all__ = [
    "LOG_COLUMNS",
    "RunRecord",
    "collect_runs",
    "find_runs",
    "flatten_config",
    "format_markdown",
    "table_columns",
    "table_csv",
    "varying_keys",
]

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


def table_columns(records: Sequence[RunRecord]) -> tuple[list[str], list[str]]:
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
    settings, metrics = table_columns(records)
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
