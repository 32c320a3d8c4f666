"""The ``deblur`` command: restore images (or a video), or run a subcommand.

``deblur INPUT...`` restores files, folders and glob patterns; a single video file goes to
``deblur video``. When the first argument is the name of a subcommand (``SUBCOMMANDS``: models,
train, blur, deconv, data, eval, report, compare, weights, serve, video, export, bench), that
subcommand runs instead, so a file literally named ``models`` must be given as ``./models``.
Subcommands import their dependencies only when they run: ``deblur train`` alone loads
Lightning and Hydra, ``deblur serve`` FastAPI, ``deblur video`` PyAV, ``deblur export``
onnxruntime; ``deblur report --no-plots`` needs none of them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

__all__ = ["SUBCOMMANDS", "main", "run"]


def _blur(argv: list[str]) -> int:
    from deblurgan.cli.blur import blur_main

    return blur_main(argv)


def _models(argv: list[str]) -> int:
    from deblurgan.cli.models import models_main

    return models_main(argv)


def _deconv(argv: list[str]) -> int:
    from deblurgan.cli.deconv import deconv_main

    return deconv_main(argv)


def _data(argv: list[str]) -> int:
    from deblurgan.cli.data import data_main

    return data_main(argv)


def _eval(argv: list[str]) -> int:
    from deblurgan.cli.evaluate import eval_main

    return eval_main(argv)


def _report(argv: list[str]) -> int:
    from deblurgan.cli.report import report_main

    return report_main(argv)


def _compare(argv: list[str]) -> int:
    from deblurgan.cli.compare import compare_main

    return compare_main(argv)


def _weights(argv: list[str]) -> int:
    from deblurgan.cli.weights import weights_main

    return weights_main(argv)


def _serve(argv: list[str]) -> int:
    from deblurgan.cli.serve import serve_main

    return serve_main(argv)


def _video(argv: list[str]) -> int:
    from deblurgan.cli.video import video_main

    return video_main(argv)


def _export(argv: list[str]) -> int:
    from deblurgan.cli.export import export_main

    return export_main(argv)


def _bench(argv: list[str]) -> int:
    from deblurgan.cli.bench import bench_main

    return bench_main(argv)


def _train(argv: list[str]) -> int:
    try:
        from deblurgan.training.cli import train_main
    except ImportError as exc:
        print(
            "deblur train: error: training needs the 'train' extra "
            f"(pip install 'deblurgan[train]'): {exc}",
            file=sys.stderr,
        )
        return 2
    return int(train_main(argv))


#: Subcommand name -> handler taking the remaining arguments and returning an exit code.
SUBCOMMANDS: dict[str, Callable[[list[str]], int]] = {
    "blur": _blur,
    "models": _models,
    "train": _train,
    "deconv": _deconv,
    "data": _data,
    "eval": _eval,
    "report": _report,
    "compare": _compare,
    "weights": _weights,
    "serve": _serve,
    "video": _video,
    "export": _export,
    "bench": _bench,
}


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``deblur`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    Exit codes: 0 success, 1 some inputs failed, 2 usage error (bad option, unknown model),
    130 interrupted.

    Args:
        argv: the arguments after the program name.

    Example:
        >>> main(["--version"])  # doctest: +ELLIPSIS
        deblur ...
        0
    """
    from deblurgan.cli.shared import log_to_stderr, warnings_to_stderr

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # Library warnings and Python warnings: one line each, whatever the subcommand.
        with warnings_to_stderr("deblur"), log_to_stderr("deblur", quiet=False):
            if args and args[0] in SUBCOMMANDS:
                return SUBCOMMANDS[args[0]](args[1:])
            from deblurgan.cli.restore import restore_main

            return restore_main(args)
    except SystemExit as exc:  # argparse's --help, --version and usage errors
        return _exit_code(exc)
    except KeyboardInterrupt:
        print("deblur: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """Console-script entry point: ``sys.exit(main())``.

    A reader that goes away (``deblur models | head -3``) ends the command quietly with the
    shell's code for SIGPIPE (141), not with a traceback.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that flush is silent.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 141
    sys.exit(code)


if __name__ == "__main__":
    run()
