"""``deblur serve``: the page and HTTP API of :mod:`deblurgan.web` on this machine (uvicorn).

Local only by default (``--host 127.0.0.1``); ``--host 0.0.0.0`` opens it to the network, the
user's explicit choice. The page offers the shipped weights, the fetched public weights and every
``-m`` model; the first ``-m`` (else ``default``) is loaded before the server starts, so a bad
model fails here with one line and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from deblurgan.cli.arguments import add_running_options, positive_int
from deblurgan.cli.shared import (
    add_download_options,
    check_download_options,
    fetch_model_sources,
    log_to_stderr,
    unique_names,
)

__all__ = ["build_parser", "offered_models", "serve_main"]

_PROG = "deblur serve"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur serve``."""
    from deblurgan.io import DEFAULT_MAX_PIXELS

    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Serve a web page and an HTTP API that remove motion blur from photos.",
        epilog="The page is at http://HOST:PORT/, the API's description at /docs. Needs the "
        "'web' extra: pip install 'deblurgan[web]'.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s, this machine only; 0.0.0.0 opens it "
        "to the network)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument(
        "-m",
        "--model",
        action="append",
        default=[],
        metavar="NAME|PATH",
        help="a model to offer (weights name, checkpoint file or https URL); repeat for more. "
        "The first is the page's default (default: default)",
    )
    add_download_options(parser)
    add_running_options(parser)  # --tile-size / --tile-overlap: a request's defaults
    parser.add_argument(
        "--max-upload",
        type=positive_int,
        default=50,
        metavar="MB",
        help="refuse uploads larger than MB megabytes, while they stream (default: %(default)s)",
    )
    parser.add_argument(
        "--max-pixels",
        type=positive_int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="refuse images of more than N pixels (bomb guard; default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="images restored at once (default: %(default)s)",
    )
    parser.add_argument(
        "--queue",
        type=int,
        default=8,
        metavar="N",
        help="requests that may wait for a worker; more get 503 (default: %(default)s)",
    )
    return parser


def offered_models(given: Sequence[str]) -> list[str]:
    """The models a server offers: those given (in order), then shipped and fetched weights.

    Example:
        >>> offered_models(["runs/a/generator.safetensors"])[:2]
        ['runs/a/generator.safetensors', 'default']
    """
    from deblurgan.models import FETCHABLE_WEIGHTS, SHIPPED_WEIGHTS
    from deblurgan.models.fetch import is_fetched
    from deblurgan.models.weights import shipped_weights_path

    offered = list(dict.fromkeys(given))
    offered += [n for n in SHIPPED_WEIGHTS if shipped_weights_path(n).is_file()]
    offered += [
        n for n, e in FETCHABLE_WEIGHTS.items() if e.generator is not None and is_fetched(n)
    ]
    return list(dict.fromkeys(offered))


def serve_main(argv: Sequence[str]) -> int:
    """Run ``deblur serve``; returns the exit code (2: bad option, model or missing extra)."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    check_download_options(parser, args.model, args)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0-65535, got {args.port}")
    if args.queue < 0:
        parser.error(f"--queue must be >= 0, got {args.queue}")
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if not 0 <= args.tile_overlap < args.tile_size:
        parser.error(f"--tile-overlap must be in [0, --tile-size={args.tile_size})")
    try:
        import uvicorn

        from deblurgan.web import ModelPool, create_app
    except ImportError as exc:
        print(
            f"{_PROG}: error: the web server needs the 'web' extra "
            f"(pip install 'deblurgan[web]'): {exc}",
            file=sys.stderr,
        )
        return 2
    from deblurgan.io import redact_url

    with log_to_stderr("deblur", quiet=False):
        try:
            sources = fetch_model_sources(offered_models(args.model or ["default"]), args, _PROG)
        except (ValueError, OSError) as exc:
            print(f"{_PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
            return 2
        shown = [redact_url(m) for m in offered_models(args.model or ["default"])]
        pool = ModelPool(dict(zip(unique_names(shown), sources, strict=True)), device=args.device)
        try:
            pool.get(None)
        except Exception as exc:
            print(f"{_PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
            return 2
        app = create_app(
            pool,
            device=args.device,
            precision=args.precision,
            tile_size=args.tile_size,
            tile_overlap=args.tile_overlap,
            max_pixels=args.max_pixels,
            max_upload=args.max_upload * 2**20,
            workers=args.workers,
            max_waiting=args.queue,
        )
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(
            f"{_PROG}: {len(pool.names())} model(s): {', '.join(pool.names())}; "
            f"open http://{host}:{args.port}/ (API description at /docs; Ctrl+C stops)",
            flush=True,
        )
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
