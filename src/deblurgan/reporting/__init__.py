"""Reports on training runs: their CSV logs, ablation tables of sweeps, and plots.

- :mod:`deblurgan.reporting.runlogs`: a run's CSV logs, resumed versions merged;
- :mod:`deblurgan.reporting.ablation`: one row per run of a sweep (varied settings, figures);
- :mod:`deblurgan.reporting.plots`: loss curves and bar charts (Matplotlib, imported lazily).

``deblur report`` and the training's loss-curve callback use it; it needs neither Lightning nor
Hydra, so ``deblur report --no-plots`` runs without the ``train`` extra.
"""

from deblurgan.reporting.ablation import (
    LOG_COLUMNS,
    RunRecord,
    collect_runs,
    find_runs,
    flatten_config,
    format_markdown,
    table_columns,
    table_csv,
    varying_keys,
)
from deblurgan.reporting.runlogs import read_log_series, read_metrics

__all__ = [
    "LOG_COLUMNS",
    "RunRecord",
    "collect_runs",
    "find_runs",
    "flatten_config",
    "format_markdown",
    "read_log_series",
    "read_metrics",
    "table_columns",
    "table_csv",
    "varying_keys",
]
