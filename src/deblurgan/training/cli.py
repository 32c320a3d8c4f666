"""`deblur train`: the Hydra command line over :func:`deblurgan.training.fit.fit`.

Every Hydra feature works: overrides (``generator=resnet data.root=/photos``), ``-m`` sweeps,
``--cfg job`` to print the composed config, ``--help``. Each job's run folder is Hydra's
output folder: ``run_dir`` (default ``runs/<date>_<time>``), or ``run_dir/<job number>`` in a
sweep; Hydra's own record of the job goes to ``<run folder>/.hydra`` and its log to
``<run folder>/train.log``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["CONFIG_DIR", "train_main"]

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
"""The Hydra configs shipped inside the package (``train.yaml`` and its groups)."""

_PROG = "deblur train"


def _friendly(exc: BaseException) -> str:
    """One line describing a failure of a training job."""
    from omegaconf.errors import MissingMandatoryValue

    if isinstance(exc, MissingMandatoryValue):
        key = getattr(exc, "full_key", None) or "a setting"
        return f"missing required setting {key}; pass it as {key}=..."
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return " ".join(str(exc).split()) or type(exc).__name__


class _UsageError(Exception):
    """A configuration Hydra could not compose (bad override, unknown key or group option)."""


def _describe_hydra_error(exc: BaseException) -> str:
    """One line for a Hydra composition error and its OmegaConf cause (no ``full_key:`` dump)."""
    from omegaconf.errors import OmegaConfBaseException

    message = " ".join(str(exc).split("Config search path:")[0].split())  # drop the path dump
    cause = exc.__cause__
    if isinstance(cause, OmegaConfBaseException):
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        if first and first not in message:
            message = f"{message} ({first.strip()})"
    return message or type(exc).__name__


@contextlib.contextmanager
def _hydra_errors_as_usage_errors() -> Iterator[None]:
    """Hydra prints a composition error over several lines, then exits 1; raise it instead, so
    that :func:`train_main` prints it as one line. ``HYDRA_FULL_ERROR=1`` keeps Hydra's own
    reporting. Errors inside a job are the job's (caught in it), not Hydra's."""
    import hydra._internal.hydra as hydra_core
    import hydra._internal.utils as hydra_utils
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    original = hydra_utils.run_and_report

    def run_and_report(func: Any) -> Any:
        try:
            return func()
        except (HydraException, OmegaConfBaseException) as exc:
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            raise _UsageError(_describe_hydra_error(exc)) from exc
        except Exception as exc:  # anything else: Hydra's report, as before
            caught = exc

            def again() -> Any:
                raise caught

            return original(again)

    patched = [(hydra_utils, "run_and_report"), (hydra_core, "run_and_report")]
    saved = [(module, name, getattr(module, name)) for module, name in patched]
    for module, name in patched:
        setattr(module, name, run_and_report)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def train_main(argv: list[str] | None = None) -> int:
    """Run ``deblur train [OVERRIDES...]`` through Hydra; returns the exit code.

    Args:
        argv: Hydra arguments, e.g. ``["generator=resnet", "data.root=/photos",
            "trainer.max_steps=100", "run_dir=runs/x"]``, ``["-m", "optim.lr_g=1e-4,2e-4"]``
            or ``["resume=runs/x/checkpoints/last.ckpt"]``; ``None`` reads ``sys.argv[1:]``.

    Returns:
        0 when every job trained and exported its generator; 1 when a job failed (one line on
        stderr says why); 2 when the overrides do not compose into a configuration (a bad
        key, group option or syntax: one line); Hydra's own code for ``--help`` and the like.
    """
    import hydra
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from deblurgan.training.fit import fit, read_training_checkpoint, resolve_run_dir
    from deblurgan.training.module import DivergenceError

    args = list(sys.argv[1:] if argv is None else argv)
    # A resume checkpoint is checked before Hydra starts: a bad one must write nothing (Hydra
    # would put .hydra/ and train.log into the checkpoint's run folder first).
    for arg in args:
        key, _, value = arg.partition("=")
        if key.lstrip("+") == "resume" and value and value != "null" and "," not in value:
            try:
                read_training_checkpoint(value)
            except (OSError, ValueError) as exc:
                print(f"{_PROG}: error: {_friendly(exc)}", file=sys.stderr)
                return 1
    started = datetime.now()
    # One default run folder per call (the resolver is evaluated once per job and per sweep).
    OmegaConf.register_new_resolver(
        "deblurgan_run_dir",
        lambda run_dir, resume: str(resolve_run_dir(run_dir, resume, now=started)),
        replace=True,
    )
    failures: list[str] = []

    @hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
    def task(cfg: DictConfig) -> None:
        from hydra.core.hydra_config import HydraConfig

        cfg.run_dir = HydraConfig.get().runtime.output_dir
        # Lightning's multi-GPU launcher re-runs the process's own command line (plus Hydra's
        # run folder), so it must see the real one, not the argv patched for Hydra.
        sys.argv = saved_argv
        try:
            path = fit(cfg)
        except (
            DivergenceError,
            FileNotFoundError,
            KeyError,
            OmegaConfBaseException,
            OSError,
            TypeError,
            ValueError,
        ) as exc:
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            message = _friendly(exc)
            failures.append(message)
            print(f"{_PROG}: error: {message}", file=sys.stderr)
            return
        finally:
            sys.argv = hydra_argv
        print(f"{_PROG}: generator written to {path}")

    saved_argv = sys.argv
    hydra_argv = [_PROG, *args]
    sys.argv = hydra_argv
    try:
        with _hydra_errors_as_usage_errors():
            task()
    except _UsageError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        return _exit_code(exc.code)
    finally:
        sys.argv = saved_argv
    return 1 if failures else 0


def _exit_code(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
