"""What several ``deblur`` subcommands share: the library's log on stderr, names of models, and
fetching model URLs (``--model URL --sha256 HEX``) through the package's one downloader."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from deblurgan.io.errors import describe_failure

__all__ = [
    "add_backend_option",
    "add_download_options",
    "auto_backend",
    "auto_channels_last",
    "check_download_options",
    "describe_failure",
    "fetch_model_sources",
    "load_deblurrer",
    "load_deblurrer_auto",
    "log_to_stderr",
    "one_line_diagnostic",
    "unique_names",
    "warnings_to_stderr",
]


class _OneLineFormatter(logging.Formatter):
    """``<prog>: <level>: <message>``, on one line whatever the message holds."""

    def __init__(self, prog: str) -> None:
        super().__init__()
        self.prog = prog

    def format(self, record: logging.LogRecord) -> str:
        return one_line_diagnostic(self.prog, record.levelname.lower(), record.getMessage())


def one_line_diagnostic(prog: str, level: str, message: object) -> str:
    r"""``"<prog>: <level>: <message>"``, the message's line breaks and runs of spaces made one
    space and other control characters escaped (nothing in it can break the line or forge one).

    Example:
        >>> print(one_line_diagnostic("deblur", "warning", "a.jpg: Corrupt EXIF data.\n  x\x1b"))
        deblur: warning: a.jpg: Corrupt EXIF data. x\x1b
    """
    from deblurgan.io import printable

    return f"{prog}: {level}: {printable(' '.join(str(message).split()))}"


_CLI_HANDLER = "_deblur_cli_handler"


@contextlib.contextmanager
def log_to_stderr(prog: str, quiet: bool) -> Iterator[None]:
    """Show the library's warnings (``deblurgan.*`` loggers) on stderr while a command runs,
    one line each: ``deblur: warning: <message>``.

    Nested calls share one handler (the innermost ``quiet`` wins while it runs), so a warning is
    never printed twice.

    Args:
        prog: the prefix of each line (``"deblur"``).
        quiet: errors only.
    """
    logger = logging.getLogger("deblurgan")
    level = logging.ERROR if quiet else logging.WARNING
    handler = next((h for h in logger.handlers if getattr(h, _CLI_HANDLER, False)), None)
    added = handler is None
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_OneLineFormatter(prog))
        setattr(handler, _CLI_HANDLER, True)
        logger.addHandler(handler)
    previous_handler_level = handler.level
    previous_level = logger.level
    handler.setLevel(level)
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    try:
        yield
    finally:
        handler.setLevel(previous_handler_level)
        logger.setLevel(previous_level)
        if added:
            logger.removeHandler(handler)


@contextlib.contextmanager
def warnings_to_stderr(prog: str) -> Iterator[None]:
    """Print Python warnings (Pillow's bad EXIF, torch's pickle notes, ...) as one line each,
    ``deblur: warning: <message>``, instead of Python's two-line form with a source line.

    The warning filters (``-W``, ``PYTHONWARNINGS``) still decide which are shown.
    """

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        print(one_line_diagnostic(prog, "warning", message), file=file or sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


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


def add_backend_option(parser: argparse.ArgumentParser, *, auto: bool = False) -> None:
    """``--backend eager|compile|onnxruntime`` (see :mod:`deblurgan.inference.backends`), and
    ``auto`` (the default) where ``auto`` is true: see :func:`auto_backend`."""
    choices = ("auto", *BACKEND_CHOICES) if auto else BACKEND_CHOICES
    parser.add_argument(
        "--backend",
        choices=choices,
        default="auto" if auto else "eager",
        help="eager PyTorch; torch.compile (a first call of tens of seconds per size, then "
        "faster: for videos and folders); onnxruntime (an .onnx model from 'deblur export', "
        "or a model exported on the fly; .onnx models use it by default)"
        + (
            "; auto: onnxruntime on the CPU in fp32 when the model's export is measured to be "
            "repaid twice over by the work (docs/performance.md), else eager (default: auto)"
            if auto
            else " (default: eager)"
        ),
    )


BACKEND_CHOICES = ("eager", "compile", "onnxruntime")


def auto_backend(args: argparse.Namespace, megapixels: float, arch: str) -> str:
    """The backend ``--backend auto`` picks for ``megapixels`` of images or frames in all, run
    by a generator of architecture ``arch``.

    onnxruntime for an ``.onnx`` file; onnxruntime on the CPU in fp32 where the export is
    measured to be repaid within the work
    (:func:`~deblurgan.inference.backends.onnx_pays_off`); eager otherwise (a GPU, fp16/bf16,
    little work, an architecture onnxruntime does not speed up).

    Example:
        >>> args = argparse.Namespace(device="cpu", precision="fp32", model="default")
        >>> auto_backend(args, 250 * 0.92, "lite_unet"), auto_backend(args, 3 * 0.92, "lite_unet")
        ('onnxruntime', 'eager')
        >>> auto_backend(args, 250 * 0.92, "nafnet")
        'eager'
    """
    from deblurgan.inference.backends import onnx_pays_off
    from deblurgan.inference.deblurrer import resolve_device

    if str(args.model).lower().endswith(".onnx"):
        return "onnxruntime"
    on_cpu = resolve_device(args.device).type == "cpu"
    if on_cpu and args.precision == "fp32" and onnx_pays_off(arch, megapixels):
        return "onnxruntime"
    return "eager"


def auto_channels_last(args: argparse.Namespace, arch: str) -> bool:
    """Whether ``--backend auto`` runs an eager ``arch`` channels-last: on the CPU, for the
    architectures measured to run faster so
    (:data:`~deblurgan.inference.backends.CHANNELS_LAST_FASTER`).

    Example:
        >>> args = argparse.Namespace(device="cpu")
        >>> auto_channels_last(args, "lite_unet"), auto_channels_last(args, "nafnet")
        (True, False)
    """
    from deblurgan.inference.backends import CHANNELS_LAST_FASTER
    from deblurgan.inference.deblurrer import resolve_device

    return resolve_device(args.device).type == "cpu" and arch in CHANNELS_LAST_FASTER


def load_deblurrer_auto(args: argparse.Namespace, prog: str, megapixels: float) -> Any:
    """:func:`load_deblurrer`, resolving ``--backend auto`` for ``megapixels`` of work
    (:func:`auto_backend`); when the automatic onnxruntime choice fails (the model does not
    export, or not within 1e-3), it says so in one line and runs eager PyTorch. Sets
    ``args.backend`` to what runs.

    Raises:
        ValueError: the model cannot be loaded (one line).
    """
    if args.backend != "auto":
        return load_deblurrer(args, prog)
    try:
        return load_deblurrer(args, prog, megapixels=megapixels)
    except ValueError as exc:
        if args.backend != "onnxruntime" or str(args.model).lower().endswith(".onnx"):
            raise
        from deblurgan.io.errors import one_line

        print(
            f"{prog}: note: backend auto: onnxruntime unavailable ({one_line(exc)}); "
            "running eager PyTorch",
            file=sys.stderr,
        )
        args.backend = "auto"  # auto again, with no work to repay an export: eager
        return load_deblurrer(args, prog, megapixels=0.0)


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


def load_deblurrer(args: argparse.Namespace, prog: str, *, megapixels: float | None = None) -> Any:
    """The :class:`~deblurgan.inference.Deblurrer` for a command's ``--model`` and running options
    (:func:`~deblurgan.cli.arguments.add_running_options`, :func:`add_download_options`).
    ``--backend auto`` is resolved for ``megapixels`` of work once the model's architecture is
    known (:func:`auto_backend`; ``None``: eager), and ``args.backend`` set to the choice.

    Raises:
        ValueError: the model cannot be fetched or loaded (one line).
    """
    from deblurgan.inference import Deblurrer
    from deblurgan.inference.backends import prepare_model
    from deblurgan.io import redact_url
    from deblurgan.models import load_generator
    from deblurgan.models.generator import arch_name

    backend = getattr(args, "backend", "eager")
    onnx = str(args.model).lower().endswith(".onnx")
    if onnx and backend in ("eager", "auto"):
        backend = args.backend = "onnxruntime"  # an exported graph runs nowhere else
    if backend == "onnxruntime" and args.precision != "fp32":
        raise ValueError(
            f"--backend onnxruntime runs the exported fp32 graph, not {args.precision}"
        )
    try:
        (source,) = fetch_model_sources([args.model], args, prog, quiet=args.quiet)
        if onnx:
            model = prepare_model(source, backend, threads=args.threads)
        else:
            generator = load_generator(source)
            channels_last = False
            if backend == "auto":
                work = 0.0 if megapixels is None else megapixels
                arch = arch_name(generator)
                backend = args.backend = auto_backend(args, work, arch)
                channels_last = backend == "eager" and auto_channels_last(args, arch)
                if channels_last:
                    args.backend = "eager (channels-last)"
            model = prepare_model(
                generator, backend, channels_last=channels_last, threads=args.threads
            )
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
