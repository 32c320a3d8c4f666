"""What several ``deblur`` subcommands share: the library's log on stderr, names of models, and
fetching model URLs (``--model URL --sha256 HEX``) through the package's one downloader."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "add_backend_option",
    "add_download_options",
    "check_download_options",
    "fetch_model_sources",
    "load_deblurrer",
    "log_to_stderr",
    "unique_names",
]


@contextlib.contextmanager
def log_to_stderr(prog: str, quiet: bool) -> Iterator[None]:
    """Show the library's warnings (``deblurgan.*`` loggers) on stderr while a command runs.

    Args:
        prog: the prefix of each line (``"deblur"``).
        quiet: errors only.
    """
    logger = logging.getLogger("deblurgan")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prog}: %(levelname)s: %(message)s"))
    handler.setLevel(logging.ERROR if quiet else logging.WARNING)
    previous_level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > handler.level:
        logger.setLevel(handler.level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def unique_names(models: Sequence[str]) -> list[str]:
    """A display name per model: the shipped name or the file stem, with parents when equal.

    Example:
        >>> unique_names(["default", "runs/a/generator.safetensors", "b/x.pt", "c/x.pt"])
        ['default', 'a', 'b/x', 'c/x']
    """
    from deblurgan.io import redact_url
    from deblurgan.models import FETCHABLE_WEIGHTS, SHIPPED_WEIGHTS

    models = [redact_url(m) if "://" in m else m for m in models]  # no password in a name

    def name_at(source: str, depth: int) -> str:
        if source in SHIPPED_WEIGHTS or source in FETCHABLE_WEIGHTS:
            return source
        path = Path(source)
        if path.stem == "generator" and path.parent.name:
            # A training run's export (<run>/generator.safetensors): the run names it.
            path = path.parent
        parts = [*path.parent.parts[-depth:], path.stem] if depth else [path.stem]
        return "/".join(parts) or source

    names = [name_at(s, 0) for s in models]
    for depth in range(1, 8):
        clashes = {n for n in names if names.count(n) > 1}
        if not clashes:
            break
        names = [
            name_at(s, depth) if n in clashes else n for s, n in zip(models, names, strict=True)
        ]
    return names


def add_backend_option(parser: argparse.ArgumentParser) -> None:
    """``--backend eager|compile|onnxruntime`` (see :mod:`deblurgan.inference.backends`)."""
    parser.add_argument(
        "--backend",
        choices=("eager", "compile", "onnxruntime"),
        default="eager",
        help="eager PyTorch; torch.compile (a first call of tens of seconds per size, then "
        "faster: for videos and folders); onnxruntime (an .onnx model from 'deblur export', "
        "or a model exported on the fly; .onnx models use it by default) (default: eager)",
    )


def add_download_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--sha256``, ``--max-download`` and ``--allow-http``: how a model URL is fetched.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_download_options(parser)
        >>> args = parser.parse_args(["--sha256", "ab" * 32])
        >>> len(args.sha256), args.max_download, args.allow_http
        (1, 2048, False)
    """
    from deblurgan.cli.arguments import positive_int
    from deblurgan.io.download import DEFAULT_MAX_BYTES

    parser.add_argument(
        "--sha256",
        action="append",
        default=[],
        metavar="HEX",
        help="expected sha256 of a model URL's file, checked before it is cached (one per URL "
        "model, in order)",
    )
    parser.add_argument(
        "--max-download",
        type=positive_int,
        default=DEFAULT_MAX_BYTES // 2**20,
        metavar="MB",
        help="refuse a model URL whose file is larger (default: %(default)s MB)",
    )
    parser.add_argument(
        "--allow-http",
        action="store_true",
        help="fetch plain http model URLs from any host (default: https, and http only to "
        "this machine)",
    )


def check_download_options(
    parser: argparse.ArgumentParser, models: Sequence[str], args: argparse.Namespace
) -> None:
    """A usage error (exit 2) when the ``--sha256`` values do not match the URL models."""
    from deblurgan.io import is_url

    urls = [m for m in models if is_url(m)]
    if args.sha256 and len(args.sha256) != len(urls):
        parser.error(
            f"--sha256 is given {len(args.sha256)} time(s) for {len(urls)} model URL(s); give "
            "one per URL, in order"
        )
    for value in args.sha256:
        text = value.strip().lower().removeprefix("sha256:")
        if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
            parser.error(f"--sha256 must be 64 hexadecimal digits, got {value!r}")


def fetch_model_sources(
    models: Sequence[str], args: argparse.Namespace, prog: str, *, quiet: bool = False
) -> list[str]:
    """Download each URL among ``models`` (verified, cached) and return local paths in order.

    Other sources (weights names, files) are returned as they are. For each URL a line on
    stderr says which cached file is used and whether it was downloaded now.

    Args:
        models: the ``--model`` values.
        args: the parsed options of :func:`add_download_options`.
        prog: the prefix of the printed lines.
        quiet: print nothing.

    Raises:
        ValueError: a refused URL (one line, no password).
        OSError: a failed or refused download (one line, no password).
    """
    from deblurgan.io import download, is_url, redact_url
    from deblurgan.io.download import cached_download_path, file_kind_for_name

    hashes = iter(args.sha256 or [])
    resolved = []
    for model in models:
        if not is_url(model):
            resolved.append(model)
            continue
        sha256 = next(hashes, None)
        cached = cached_download_path(model, sha256=sha256).is_file()
        path = download(
            model,
            sha256=sha256,
            kind=file_kind_for_name(model) or "torch",
            max_bytes=args.max_download * 2**20,
            allow_http=args.allow_http,
        )
        if not quiet:
            how = "cached earlier" if cached else "downloaded now"
            checked = ", sha256 checked" if sha256 else ""
            print(
                f"{prog}: model {redact_url(model)}: using {path} ({how}{checked})",
                file=sys.stderr,
            )
        resolved.append(str(path))
    return resolved


def describe_failure(source: object, exc: BaseException) -> str:
    r"""One report line ``"<source>: <problem>"`` for a file that failed, control characters of
    the name escaped (a newline in a file name must not forge report lines).

    Example:
        >>> print(describe_failure("a\nb.png", ValueError("not an image")))
        a\nb.png: not an image
    """
    from deblurgan.io import printable

    raw = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    message = " ".join(str(raw).split()) or type(exc).__name__
    name = printable(str(source))
    if message.startswith(name) or message.startswith(str(source)):
        return printable(message)
    return f"{name}: {printable(message)}"


def load_deblurrer(args: argparse.Namespace, prog: str) -> Any:
    """The :class:`~deblurgan.inference.Deblurrer` for a command's ``--model`` and running options
    (:func:`~deblurgan.cli.arguments.add_running_options`, :func:`add_download_options`).

    Raises:
        ValueError: the model cannot be fetched or loaded (one line).
    """
    from deblurgan.inference import Deblurrer
    from deblurgan.inference.backends import prepare_model
    from deblurgan.io import redact_url
    from deblurgan.models import load_generator

    backend = getattr(args, "backend", "eager")
    onnx = str(args.model).lower().endswith(".onnx")
    if onnx and backend == "eager":
        backend = "onnxruntime"  # an exported graph runs nowhere else
    if backend == "onnxruntime" and args.precision != "fp32":
        raise ValueError(
            f"--backend onnxruntime runs the exported fp32 graph, not {args.precision}"
        )
    try:
        (source,) = fetch_model_sources([args.model], args, prog, quiet=args.quiet)
        if onnx:
            model = prepare_model(source, backend, threads=args.threads)
        else:
            model = prepare_model(load_generator(source), backend, threads=args.threads)
    except Exception as exc:
        raw = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        detail = " ".join(str(raw).split())
        raise ValueError(f"cannot load model {redact_url(args.model)!r}: {detail}") from exc
    return Deblurrer(
        model,
        device=args.device,
        precision=args.precision,
        tile_size=args.tile_size,
        tile_overlap=args.tile_overlap,
        threads=args.threads,
    )
