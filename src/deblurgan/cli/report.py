"""``deblur report RUNS_DIR``: an ablation table and plots from a sweep of training runs.

Usage::

    deblur train -m optim.adv_weight=0.001,0.01 run_dir=runs/adv   # runs/adv/0, runs/adv/1
    deblur eval --data val/ --model runs/adv/0/generator.safetensors --json runs/adv/0/eval.json
    deblur report runs/adv                  # writes runs/adv/report/{ablation.md,ablation.csv,...}
    deblur report runs/ --out report/ --no-plots

Every folder under ``RUNS_DIR`` that holds a ``config.yaml`` is a run; the report has one row
per run: the settings that vary, the validation figures of its CSV logs and the means of its
``eval.json`` (:mod:`deblurgan.reporting.ablation` says exactly which).

It writes ``ablation.md`` (also printed) and ``ablation.csv``, ``metrics.png`` (a bar chart of
each quality column per run) and ``loss_curves/<run>.png`` (each run's losses and validation
PSNR), all atomically. The plots need Matplotlib (the ``train`` extra); ``--no-plots`` needs
neither it nor Lightning. Existing outputs are replaced only with ``--force``. A run whose files
cannot be read is listed at the end and the exit code is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from deblurgan.io import atomic_write_text
from deblurgan.reporting.ablation import RunRecord, collect_runs, format_markdown, table_csv

__all__ = ["build_parser", "report_main"]

_PROG = "deblur report"


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

    markdown = format_markdown(records)
    atomic_write_text(out / "ablation.md", markdown + "\n")
    atomic_write_text(out / "ablation.csv", table_csv(records))
    notes = [note for r in records for note in r.notes]
    written = 2
    if not args.no_plots:
        try:
            from deblurgan.reporting.plots import plot_metrics

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
    from deblurgan.reporting.plots import plot_loss_curves  # matplotlib: checked by the caller

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
