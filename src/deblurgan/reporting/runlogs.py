"""Reading a training run's CSV logs (Lightning's CSVLogger), resumed runs' versions merged.

Used by the loss curves a run writes when it ends and by ``deblur report``; it needs neither
Lightning nor Matplotlib.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

__all__ = ["read_log_series", "read_metrics"]


def _positive(name: str, value: Any, *, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


_VERSION = re.compile(r"version_(\d+)$")


def _version_key(path: Path) -> tuple[int, str]:
    match = _VERSION.match(path.parent.name)
    return (int(match.group(1)) if match else -1, path.parent.name)


def _metrics_files(folder: Path) -> list[Path]:
    """``metrics.csv`` of every CSVLogger version under ``folder``, oldest version first."""
    files = sorted(folder.glob("csv/version_*/metrics.csv"), key=_version_key)
    if not files:  # a CSVLogger folder itself (save_dir/name)
        files = sorted(folder.glob("version_*/metrics.csv"), key=_version_key)
    if not files:
        expected = folder / "csv" / "version_*" / "metrics.csv"
        raise ValueError(
            f"{folder}: no CSV logs to plot; expected {expected} (written by Lightning's CSVLogger)"
        )
    return files


def _read_csv(path: Path) -> list[tuple[int, dict[str, float]]]:
    rows = []
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            try:
                step = int(float(row.get("step") or ""))
            except ValueError:
                continue
            values = {}
            for key, text in row.items():
                if key in (None, "step", "epoch") or not text:
                    continue
                try:
                    values[str(key)] = float(text)
                except ValueError:
                    continue
            rows.append((step, values))
    return rows


def read_metrics(
    folder: str | os.PathLike[str], *, steps_per_batch: int = 1
) -> dict[str, tuple[list[int], list[float]]]:
    """Every logged series of a run's CSV logs, versions merged: ``{key: (steps, values)}``.

    A resumed run writes a new ``version_N``; it restarts from a checkpoint, so whatever an
    earlier version logged at or after the later version's first step is dropped (those steps
    were trained again), and at equal steps the later version wins.

    Args:
        folder: a run folder (``<run>/csv/version_*/metrics.csv``) or a CSVLogger folder
            (``<folder>/version_*/metrics.csv``).
        steps_per_batch: divide the CSV's ``step`` column by this. Lightning 2 writes the number
            of training batches (GAN steps) there, not ``global_step``, so 1 is right for this
            project's runs.

    Raises:
        ValueError: no ``metrics.csv`` under ``folder``.
    """
    per_batch = _positive("steps_per_batch", steps_per_batch)
    merged: dict[str, dict[int, float]] = {}
    for path in _metrics_files(Path(folder)):
        rows = _read_csv(path)
        if not rows:
            continue
        first = min(step for step, _ in rows)
        for series in merged.values():
            for step in [s for s in series if s >= first]:
                del series[step]
        for step, values in rows:
            for key, value in values.items():
                merged.setdefault(key, {})[step] = value
    out = {}
    for key, series in merged.items():
        if series:
            steps = sorted(series)
            out[key] = ([s // per_batch for s in steps], [series[s] for s in steps])
    return out


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
    try:
        series = read_metrics(run_dir)
    except ValueError:  # no CSV logs in this run
        return {}
    return {key: list(zip(steps, values, strict=True)) for key, (steps, values) in series.items()}
