"""``deblur data check ROOT``: validate a dataset folder before training and summarise it.

Detects the layout (GoPro, paired folders, A|B images, a folder of photos), checks every file the
way the dataset does at start-up (headers only, or ``--decode``), and prints either a summary
(items, image sizes) or every problem, one per line, with exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from deblurgan.cli.arguments import positive_int

__all__ = ["build_parser", "data_main", "format_report"]

_PROG = "deblur data"
_NOUNS = {
    "gopro": "pairs",
    "paired_folders": "pairs",
    "aligned": "A|B images",
    "synthetic": "photos",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur data``."""
    from deblurgan.data.check import DATASET_FORMATS

    parser = argparse.ArgumentParser(
        prog=_PROG, description="Inspect training and evaluation datasets."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    check = commands.add_parser(
        "check",
        help="validate a dataset folder and summarise it",
        description="Check every file of a dataset as its dataset does at start-up (missing "
        "partners, size mismatches, unreadable files, odd A|B widths, images smaller than the "
        "crop) and print a summary, or every problem with exit code 1.",
        epilog="layouts: gopro ROOT/{train,test}/<scene>/{blur,blur_gamma,sharp}/*.png; "
        "paired_folders ROOT/{blur,sharp}/NAME (or sequences of them); aligned: A|B images "
        "side by side; synthetic: a folder of sharp photos",
    )
    check.add_argument("root", metavar="ROOT", help="the dataset folder")
    check.add_argument(
        "--format",
        choices=("auto", *DATASET_FORMATS),
        default="auto",
        help="the layout; auto detects gopro, paired_folders or a folder of photos "
        "(default: %(default)s)",
    )
    check.add_argument(
        "--crop-size", type=positive_int, metavar="N", help="also flag images smaller than N x N"
    )
    check.add_argument(
        "--blur",
        choices=("blur", "blur_gamma"),
        help="gopro: check only this blurry folder (default: each one present)",
    )
    check.add_argument(
        "--decode",
        action="store_true",
        help="decode every image, not only its header (slow; also finds truncated files)",
    )
    check.add_argument(
        "-r", "--recursive", action="store_true", help="aligned/synthetic: include sub-folders"
    )
    check.add_argument("--json", action="store_true", help="print the report as one JSON object")
    return parser


def _sizes(sizes: list[dict[str, int]], *, shown: int = 3) -> str:
    parts = [f"{s['width']}x{s['height']} ({s['count']})" for s in sizes[:shown]]
    if len(sizes) > shown:
        parts.append(f"and {len(sizes) - shown} other size(s)")
    return ", ".join(parts) or "-"


def format_report(report: dict[str, Any]) -> str:
    """The human-readable text of a :meth:`DatasetReport.as_dict` report.

    Example:
        >>> print(format_report({"root": "d", "format": "synthetic", "ok": True, "notes": [],
        ...     "problems": [], "parts": [{"name": "", "root": "d", "count": 2,
        ...     "sizes": [{"height": 6, "width": 8, "count": 2}]}]}))
        d: synthetic
          2 photos, sizes 8x6 (2)
        ok: 2 photos
    """
    noun = _NOUNS.get(report["format"], "items")
    lines = [f"{report['root']}: {report['format']}"]
    width = max((len(part["name"]) for part in report["parts"]), default=0)
    for part in report["parts"]:
        label = f"{part['name']:<{width}}  " if width else ""
        lines.append(f"  {label}{part['count']} {noun}, sizes {_sizes(part['sizes'])}")
    lines.extend(f"note: {note}" for note in report["notes"])
    if report["problems"]:
        lines.append(f"{len(report['problems'])} problem(s):")
        lines.extend(f"  {problem}" for problem in report["problems"])
    elif not report["ok"]:
        lines.append(f"no usable {noun} found")
    else:
        total = sum(part["count"] for part in report["parts"])
        lines.append(f"ok: {total} {noun}")
    return "\n".join(lines)


def data_main(argv: Sequence[str]) -> int:
    """Run ``deblur data``; returns the exit code (0 ok, 1 problems or an unreadable folder
    inside the dataset, 2 usage error or an unreadable dataset folder)."""
    from deblurgan.data.check import check_dataset

    parser = build_parser()
    args = parser.parse_args(list(argv))
    try:
        report = check_dataset(
            args.root,
            format=args.format,
            crop_size=args.crop_size,
            decode=args.decode,
            blur=args.blur,
            recursive=args.recursive,
        )
    except ValueError as exc:
        print(f"{_PROG} check: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder inside the dataset that cannot be listed
        from deblurgan.io import printable

        where = printable(str(exc.filename or args.root))
        reason = exc.strerror or str(exc)
        reason = reason[:1].lower() + reason[1:]  # "Permission denied" -> "permission denied"
        print(f"{_PROG} check: error: {where}: cannot be read ({reason})", file=sys.stderr)
        return 1
    summary = report.as_dict()
    print(json.dumps(summary, indent=2) if args.json else format_report(summary))
    return 0 if report.ok else 1
