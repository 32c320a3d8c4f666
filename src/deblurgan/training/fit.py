"""Train from a config: data, GAN module and Lightning Trainer; then export the generator.

The config is the one described by ``deblurgan/configs/train.yaml`` (a Hydra ``DictConfig`` or a
plain mapping): ``generator``, ``discriminator``, ``adversarial``, ``content``, ``optim``,
``data``, ``trainer``, ``run_dir``, ``resume`` and ``seed``. Step counts in the config
(``trainer.max_steps``, ``stop_at``, ``val_every``, ``checkpoint_every``, ``log_every``) are GAN
steps, one critic update plus one generator update each; Lightning's ``global_step`` counts
optimiser steps (two per GAN step with a critic), and the translation happens here.
``trainer.stop_at`` ends a run before ``max_steps`` while its learning-rate schedule still spans
``max_steps``: a stage of a longer schedule, stopped at a chosen step, can be redone exactly.

A run folder holds::

    config.yaml                 the resolved config
    checkpoints/last.ckpt       the latest state (every ``checkpoint_every`` steps and at the end)
    checkpoints/best.ckpt       the best ``val/psnr`` so far (with validation)
    tensorboard/, csv/          logs (``tensorboard --logdir <run_dir>``)
    generator.safetensors       the exported generator (best, else last), for ``deblur -m``
    samples/step_N.png          blurry | restored | sharp every ``trainer.sample_every`` steps
    loss_curves.png             the training losses and val/psnr against GAN steps, at the end
"""

from __future__ import annotations

import functools
import logging
import os
import pickle
import shutil
import time
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

from deblurgan.models import build_generator, load_generator, save_generator
from deblurgan.models.generator import arch_spec, inference_settings
from deblurgan.models.registries import GENERATORS
from deblurgan.training._containers import plain
from deblurgan.training.callbacks import BackboneWarmup, LossCurves, SampleGrid, gan_step
from deblurgan.training.datamodule import DeblurDataModule
from deblurgan.training.module import GANModule

__all__ = [
    "GENERATOR_FILE",
    "claim_run_dir",
    "export_checkpoint",
    "fit",
    "read_training_checkpoint",
    "resolve_run_dir",
]

logger = logging.getLogger(__name__)

GENERATOR_FILE = "generator.safetensors"
"""Name of the exported generator inside the run folder."""

_DATA_KEYS = (
    "train",
    "val",
    "batch_size",
    "val_batch_size",
    "num_workers",
    "seed",
    "shuffle",
    "pin_memory",
)
# The trainer's settings and their defaults have one source, the Hydra group the command line
# composes (configs/trainer/default.yaml): fit(cfg) from Python fills what cfg leaves out from it.
_TRAINER_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "trainer" / "default.yaml"


@functools.cache
def _trainer_defaults() -> dict[str, Any]:
    defaults = OmegaConf.to_container(OmegaConf.load(_TRAINER_CONFIG), resolve=True)
    assert isinstance(defaults, dict)
    return {str(k): v for k, v in defaults.items()}


_OPTIM_KEYS = (
    "adv_weight",
    "lr_g",
    "lr_d",
    "betas",
    "weight_decay",
    "optimizer",
    "warmup_steps",
    "decay_start",
    "min_lr_ratio",
    "decay",
    "grad_clip",
    "ema_decay",
    "ema_warmup",
    "diffaugment",
    "multiscale",
    "backbone_warmup",
    "log_images",
)


def resolve_run_dir(
    run_dir: str | os.PathLike[str] | None,
    resume: str | os.PathLike[str] | None = None,
    *,
    now: datetime | None = None,
) -> Path:
    """The run folder: ``run_dir`` if given, else the run that ``resume`` belongs to, else new.

    A checkpoint ``<run>/checkpoints/last.ckpt`` belongs to ``<run>``; without either, a new
    folder ``runs/<date>_<time>`` (of ``now``, default the current time) is used.

    Args:
        run_dir: the folder asked for, if any.
        resume: the checkpoint being resumed, if any.
        now: the time that names a new folder.

    Example:
        >>> resolve_run_dir(None, "runs/a/checkpoints/last.ckpt").as_posix()
        'runs/a'
        >>> resolve_run_dir("out/b", "runs/a/checkpoints/last.ckpt").as_posix()
        'out/b'
    """
    if run_dir is not None and str(run_dir):
        return Path(run_dir)
    if resume:
        folder = Path(resume).parent
        return folder.parent if folder.name == "checkpoints" else folder
    return Path("runs") / (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")


# What Hydra writes into the run folder of the launch itself, before fit() runs.
_LAUNCH_FILES = frozenset({".hydra", "train.log"})


def claim_run_dir(run_dir: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Refuse to start a new run in a folder that holds an earlier one, or clear it.

    A new run would replace ``last.ckpt``, ``generator.safetensors`` and ``config.yaml`` and
    leave the old ``best.ckpt``: a folder of two runs. Hydra's record of the current launch
    (``.hydra/``, ``train.log``) does not count.

    Args:
        run_dir: the run folder.
        overwrite: delete the earlier run's files first instead of refusing.

    Raises:
        ValueError: the folder holds an earlier run and ``overwrite`` is false (one line: resume
            it, choose a new folder, or pass ``overwrite=true``).

    Example:
        >>> import tempfile, pathlib
        >>> tmp = pathlib.Path(tempfile.mkdtemp())
        >>> (tmp / "generator.safetensors").touch()
        >>> claim_run_dir(tmp)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: ...: holds an earlier run (generator.safetensors); resume it with ...
        >>> claim_run_dir(tmp, overwrite=True); sorted(p.name for p in tmp.iterdir())
        []
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        return
    earlier = sorted(p for p in folder.iterdir() if p.name not in _LAUNCH_FILES)
    if not earlier:
        return
    if not overwrite:
        shown = ", ".join(p.name for p in earlier[:4]) + (", ..." if len(earlier) > 4 else "")
        raise ValueError(
            f"{folder}: holds an earlier run ({shown}); resume it with "
            f"resume={folder / 'checkpoints' / 'last.ckpt'}, choose another run_dir, or pass "
            "overwrite=true to delete it first"
        )
    logger.warning("overwrite=true: deleting the earlier run in %s", folder)
    for path in earlier:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def _missing_keys(node: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose value is OmegaConf's mandatory marker ``???`` (without resolving)."""
    if isinstance(node, dict):
        items: list[tuple[Any, Any]] = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return []
    found = []
    for key, value in items:
        path = f"{prefix}{key}"
        if value == "???":
            found.append(path)
        else:
            found += _missing_keys(value, f"{path}.")
    return found


def _to_dict(cfg: Any) -> dict[str, Any]:
    """The config as plain containers, interpolations resolved; missing values are errors."""
    if isinstance(cfg, Mapping) and not isinstance(cfg, DictConfig):
        cfg = OmegaConf.create(dict(cfg))
    if not isinstance(cfg, DictConfig):
        raise TypeError(
            f"the training config must be a mapping or a DictConfig, got {type(cfg).__name__}"
        )
    missing = sorted(_missing_keys(OmegaConf.to_container(cfg, resolve=False)))
    if missing:
        example = "data.root=/path/to/photos" if "data.root" in missing else f"{missing[0]}=..."
        raise ValueError(
            f"missing required setting(s) {', '.join(missing)}; set them, e.g. {example}"
        )
    container = plain(OmegaConf.to_container(cfg, resolve=True))
    assert isinstance(container, dict)  # a DictConfig always gives a dict
    return container


def _section(cfg: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = cfg.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"config section {key!r} must be a mapping, got {value!r}")
    return dict(value)


def _trainer_settings(cfg: Mapping[str, Any]) -> dict[str, Any]:
    settings = _section(cfg, "trainer")
    defaults = _trainer_defaults()
    unknown = sorted(set(settings) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown trainer setting(s) {unknown}; valid: {', '.join(sorted(defaults))}"
        )
    merged = {**defaults, **settings}
    for key in (
        "max_steps",
        "val_every",
        "checkpoint_every",
        "log_every",
        "accumulate_grad_batches",
    ):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"trainer.{key} must be a positive integer, got {value!r}")
    every = merged["sample_every"]
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise ValueError(f"trainer.sample_every must be a GAN step count >= 0, got {every!r}")
    every_minutes = merged["checkpoint_minutes"]
    if every_minutes is not None and (
        isinstance(every_minutes, bool)
        or not isinstance(every_minutes, int | float)
        or not every_minutes > 0
    ):
        raise ValueError(
            f"trainer.checkpoint_minutes must be minutes > 0 or null, got {every_minutes!r}"
        )
    stop = merged["stop_at"]
    if stop is not None and (
        isinstance(stop, bool) or not isinstance(stop, int) or not 1 <= stop <= merged["max_steps"]
    ):
        raise ValueError(
            f"trainer.stop_at must be a GAN step from 1 to trainer.max_steps "
            f"({merged['max_steps']}) or null, got {stop!r}"
        )
    minutes = merged["max_time"]
    if minutes is not None and (
        isinstance(minutes, bool) or not isinstance(minutes, int | float) or not minutes > 0
    ):
        raise ValueError(f"trainer.max_time must be minutes > 0 or null, got {minutes!r}")
    return merged


def _build_module(cfg: Mapping[str, Any], settings: Mapping[str, Any]) -> GANModule:
    optim = _section(cfg, "optim")
    optim.pop("backbone_warmup", None)  # a callback's setting (see _run), not the module's
    unknown = sorted(set(optim) - set(_OPTIM_KEYS))
    if unknown:
        raise ValueError(f"unknown optim setting(s) {unknown}; valid: {', '.join(_OPTIM_KEYS)}")
    if cfg.get("generator") is None:
        raise ValueError("the config has no generator; choose one, e.g. generator=fpn_mobilenet")
    return GANModule(
        cfg["generator"],
        discriminator=cfg.get("discriminator"),
        adversarial=cfg.get("adversarial") or "ragan_ls",
        content=cfg.get("content") or {"l1": 1.0},
        max_steps=settings["max_steps"],
        accumulate=settings["accumulate_grad_batches"],
        **optim,
    )


def _build_datamodule(cfg: Mapping[str, Any], micro_batches: int = 1) -> DeblurDataModule:
    """The data module; each training batch holds ``micro_batches`` batches of data.batch_size."""
    data = _section(cfg, "data")
    if "train" not in data:
        raise ValueError(
            "the config has no data.train dataset spec; "
            "choose data=synthetic or data=paired_folders"
        )
    kwargs = {key: data[key] for key in _DATA_KEYS if key in data}
    kwargs.setdefault("seed", int(cfg.get("seed", 0)))
    if micro_batches > 1:
        # n_critic critic updates x accumulation: one loader batch feeds a whole GAN step.
        kwargs["batch_size"] = int(kwargs.get("batch_size", 8)) * micro_batches
    train = kwargs.pop("train")
    return DeblurDataModule(train, **kwargs)


def read_training_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a training checkpoint safely (``weights_only=True``), with one-line errors.

    Args:
        path: a ``last.ckpt`` / ``best.ckpt`` of ``deblur train``.

    Returns:
        The checkpoint dict (``hyper_parameters``, ``state_dict``, ...).

    Raises:
        FileNotFoundError: no such file (or a folder).
        ValueError: not a readable training checkpoint: empty, truncated or corrupt, not a
            PyTorch file, holding Python objects that a safe load refuses, or without
            ``hyper_parameters``. Torch's own advice to load unsafely is never passed on.

    Example:
        >>> import tempfile, os
        >>> folder = tempfile.mkdtemp()
        >>> path = os.path.join(folder, "last.ckpt")
        >>> _ = open(path, "w").write("hello")
        >>> read_training_checkpoint(path)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: ...last.ckpt: not a PyTorch checkpoint (a text file?)
    """
    path = Path(path)
    if not path.is_file():
        kind = "a folder, not a checkpoint file" if path.is_dir() else "no such checkpoint"
        raise FileNotFoundError(f"{path}: {kind} to resume from")
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path}: empty file, not a checkpoint")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols: not the user's job
            warnings.simplefilter("ignore", UserWarning)
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "Weights only load failed" in text or "Unsupported global" in text:
            raise ValueError(
                f"{path}: holds Python objects that a safe load refuses (not a checkpoint of "
                "deblur train, or a pickle payload); it was not loaded"
            ) from None
        raise ValueError(f"{path}: not a PyTorch checkpoint (a text file?)") from None
    except (KeyError, UnicodeDecodeError):  # the first bytes are no pickle opcode
        raise ValueError(f"{path}: not a PyTorch checkpoint (a text file?)") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        first = " ".join(str(exc).split()).split(". ")[0][:100]
        raise ValueError(
            f"{path}: truncated or corrupt checkpoint ({size} bytes: {first})"
        ) from None
    if not isinstance(checkpoint, dict) or not isinstance(
        checkpoint.get("hyper_parameters"), Mapping
    ):
        raise ValueError(f"{path}: not a deblurgan training checkpoint (no hyper_parameters)")
    return checkpoint


def _check_resume(resume: Path, module: GANModule) -> None:
    """Refuse a resume whose generator or critic differs from the checkpoint's.

    Settings a generator declares inference-only (nafnet's ``tlc``) may differ: the config's
    value is used, so a run started before a default changed still resumes.
    """
    checkpoint = read_training_checkpoint(resume)
    saved = checkpoint["hyper_parameters"]
    for key in ("generator", "discriminator"):
        old, new = saved.get(key), module.hparams[key]
        if key == "generator" and isinstance(old, Mapping) and isinstance(new, Mapping):
            free = inference_settings(GENERATORS.get(new["name"])) if "name" in new else set()
            changed = sorted(k for k in free if old.get(k) != new.get(k))
            if changed:
                logger.info(
                    "%s: resuming with the config's %s (inference-only settings)",
                    resume,
                    ", ".join(f"{k}={new.get(k)!r}" for k in changed),
                )
            old = {k: v for k, v in old.items() if k not in free}
            new = {k: v for k, v in new.items() if k not in free}
        if old != new:
            raise ValueError(
                f"{resume}: the checkpoint was trained with {key}={saved.get(key)!r} but the "
                f"config asks for {module.hparams[key]!r}; resume with the original run's "
                f"{key} settings"
            )


def _quiet_known_warnings(module: GANModule) -> None:
    """Hide the warnings of a fit that are not the user's to act on (inside ``catch_warnings``).

    Lightning warns when modules are in eval mode as training starts: the weight average
    (``generator_ema``) always is, on purpose, so the warning is hidden when nothing else is.
    Lightning's own use of a torch pytree API that torch deprecated is hidden too.
    """
    frozen = [name for name, sub in module.named_modules() if not sub.training]
    if frozen and all(name.split(".")[0] == "generator_ema" for name in frozen):
        warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode")
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")


def _strategy(name: Any) -> Any:
    """Lightning's strategy; plain ``ddp`` lets DDP find the parameters a backward leaves unused.

    A GAN step's critic backward never reaches the generator and the generator's backward skips
    the critic (their optimisers are toggled), so DDP's default reducer, which expects every
    parameter in every backward, fails; ``ddp_find_unused_parameters_true`` is what works.
    """
    if name == "ddp":
        from lightning.pytorch.strategies import DDPStrategy

        return DDPStrategy(find_unused_parameters=True)
    return name


def _load_backbone(module: GANModule, path: str) -> None:
    """Start the generator's backbone from ImageNet weights (a path or URL)."""
    load = getattr(module.generator, "load_backbone", None)
    if not callable(load):
        raise ValueError(
            f"backbone_weights={path!r} was given but the generator "
            f"{module.hparams['generator']['name']!r} has no pretrained backbone to load; "
            "leave backbone_weights unset"
        )
    load(path)
    if module.generator_ema is not None:
        module.generator_ema.load_state_dict(module.generator.state_dict())
    logger.info("generator backbone initialised from %s", path)


def _load_init(module: GANModule, source: str) -> None:
    """Start the generator from a saved generator (fine-tuning): a path, URL or shipped name.

    Only the generator's weights are taken; the optimisers, schedule and step count start anew
    (``resume`` is what continues a run). The architecture and its settings must match.
    """
    loaded = load_generator(source)
    spec = arch_spec(loaded)
    own = arch_spec(module.generator)
    if spec.get("name") != own.get("name"):
        raise ValueError(
            f"init_weights={source!r}: it holds a {spec.get('name')!r} generator, but this run "
            f"trains {own.get('name')!r}; set generator= to match"
        )
    try:
        module.generator.load_state_dict(loaded.state_dict())
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise ValueError(
            f"init_weights={source!r}: its {spec} does not fit this run's {own} ({first}); "
            "give the generator the same settings"
        ) from None
    if module.generator_ema is not None:
        module.generator_ema.load_state_dict(module.generator.state_dict())
    logger.info("generator initialised from %s", source)


class _LastCheckpoint(L.Callback):
    """Write ``last.ckpt`` every ``every`` GAN steps, at least every ``minutes`` of wall time, and
    when training ends (atomic rename)."""

    def __init__(self, dirpath: Path, every: int, minutes: float | None = None) -> None:
        self.dirpath = dirpath
        self.every = every
        self.seconds = None if minutes is None else 60.0 * minutes
        self._saved_at: int | None = None
        self._saved_time = time.monotonic()

    def _save(self, trainer: L.Trainer) -> None:
        if (
            getattr(trainer, "fast_dev_run", False)
            or trainer.sanity_checking
            or self._saved_at == trainer.global_step
        ):
            return
        target = self.dirpath / "last.ckpt"
        partial = self.dirpath / ".last.ckpt.partial"
        trainer.save_checkpoint(partial, weights_only=False)
        if trainer.is_global_zero:
            os.replace(partial, target)
        self._saved_at = trainer.global_step
        self._saved_time = time.monotonic()

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = gan_step(trainer, pl_module)
        due = step % self.every == 0
        if not due and self.seconds is not None:
            late = time.monotonic() - self._saved_time >= self.seconds
            # Every process must take the same decision (saving is collective under DDP).
            due = bool(trainer.strategy.broadcast(late, src=0)) if trainer.world_size > 1 else late
        if due:
            self._save(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save(trainer)


class _ValidationRecord(L.Callback):
    """Keep the latest validation metrics and their GAN step in each checkpoint."""

    def __init__(self) -> None:
        self.metrics: dict[str, float] = {}
        self.step: int | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self.metrics = {
            key: float(value)
            for key, value in trainer.callback_metrics.items()
            if key.startswith("val/")
        }
        self.step = gan_step(trainer, pl_module)

    def state_dict(self) -> dict[str, Any]:
        return {"metrics": dict(self.metrics), "step": self.step}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.metrics = dict(state_dict.get("metrics", {}))
        self.step = state_dict.get("step")


def export_checkpoint(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    recipe: Mapping[str, Any],
    *,
    meta: Mapping[str, Any] | None = None,
    generator_settings: Mapping[str, Any] | None = None,
) -> Path:
    """Write the generator of a training checkpoint as a generator file (safetensors).

    The weight average (EMA) when the run kept one, since it is what validation measured; the
    metadata records the recipe, the step, the validation figures of that checkpoint and
    ``meta``.

    Args:
        checkpoint: a ``last.ckpt`` / ``best.ckpt`` of ``deblur train``.
        out: the generator file to write (atomically).
        recipe: the run's settings (its ``config.yaml``: generator, data, optim, ...).
        meta: more facts to record (e.g. the command that trained it).
        generator_settings: settings that replace the run's in the generator's spec: only those
            the generator declares as changing inference but not the weights
            (``inference_settings``, e.g. nafnet's ``tlc``).

    Returns:
        ``out`` as a path.

    Raises:
        ValueError: a ``generator_settings`` key the generator does not declare inference-only
            (its weights were trained with the run's value; nothing is written).
    """
    checkpoint = Path(checkpoint)
    state = read_training_checkpoint(checkpoint)
    trained = dict(state["hyper_parameters"]["generator"])
    changes = dict(generator_settings or {})
    free = inference_settings(GENERATORS.get(trained["name"])) if "name" in trained else set()
    fixed = sorted(set(changes) - set(free))
    if fixed:
        allowed = ", ".join(sorted(free)) or "none"
        raise ValueError(
            f"{checkpoint}: generator_settings may change only the settings that "
            f"{trained.get('name', 'this generator')} declares inference-only ({allowed}); "
            f"{', '.join(fixed)} would not match the trained weights"
        )
    spec = {**trained, **changes}
    generator = build_generator(spec)
    # The weight average when the run kept one: it is what validation measured.
    ema = any(k.startswith("generator_ema.") for k in state["state_dict"])
    prefix = "generator_ema." if ema else "generator."
    generator.load_state_dict(
        {k[len(prefix) :]: v for k, v in state["state_dict"].items() if k.startswith(prefix)}
    )
    extra = state.get("deblurgan", {})
    record = state.get("callbacks", {}).get("_ValidationRecord", {})
    info: dict[str, Any] = {
        "recipe": dict(recipe),
        "ema": ema,
        "checkpoint": checkpoint.name,
        "steps": int(extra.get("gan_step", 0)),
        "val": record.get("metrics", {}),
        "val_step": record.get("step"),
    }
    info.update(meta or {})
    path = save_generator(generator.cpu(), out, meta=info)
    logger.info("exported the generator of %s to %s", checkpoint, path)
    return path


def _export(
    module: GANModule,
    checkpoint: Path | None,
    run_dir: Path,
    recipe: Mapping[str, Any],
) -> Path:
    """Write the generator of ``checkpoint`` (or the in-memory one) as safetensors."""
    if checkpoint is not None and checkpoint.is_file():
        return export_checkpoint(checkpoint, run_dir / GENERATOR_FILE, recipe)
    meta: dict[str, Any] = {
        "recipe": dict(recipe),
        "ema": module.generator_ema is not None,
        "checkpoint": None,
        "steps": module.completed_steps,
        "val": {},
        "val_step": None,
    }
    path = save_generator(module.inference_generator.cpu(), run_dir / GENERATOR_FILE, meta=meta)
    logger.info("exported the generator of memory to %s", path)
    return path


def fit(cfg: Mapping[str, Any] | DictConfig, *, callbacks: Sequence[L.Callback] = ()) -> Path:
    """Train a generator as ``cfg`` says and export it; returns ``<run_dir>/generator.safetensors``.

    Args:
        cfg: the training config (see ``deblurgan/configs/train.yaml``). ``resume`` names a
            Lightning checkpoint of the same recipe to continue from, exactly where it stopped
            (optimisers, schedules, data position, RNG); ``trainer.max_steps`` may be raised.
        callbacks: extra Lightning callbacks for the Trainer (after the run's own).

    Returns:
        The exported generator: the best ``val/psnr`` checkpoint's, else the last one's.

    Raises:
        ValueError: an invalid config (unknown names or settings, bad numbers), or a resume
            checkpoint of another architecture.
        FileNotFoundError: a missing resume checkpoint or data folder.
        DivergenceError: a loss became NaN or infinite (the last good checkpoint is kept).
    """
    config = _to_dict(cfg)
    resume = Path(config["resume"]) if config.get("resume") else None
    run_dir = resolve_run_dir(config.get("run_dir"), config.get("resume"))
    config["run_dir"] = str(run_dir)
    # Only the launching process claims the folder: Lightning's DDP launcher re-runs this in
    # each other process (LOCAL_RANK > 0, or NODE_RANK > 0 on other nodes) after it has begun.
    replica = (
        int(os.environ.get("LOCAL_RANK", "0") or 0) > 0
        or int(os.environ.get("NODE_RANK", "0") or 0) > 0
    )
    if resume is None and not replica:
        claim_run_dir(run_dir, overwrite=bool(config.get("overwrite", False)))
    settings = _trainer_settings(config)
    seed = int(config.get("seed", 0))

    devices = list(range(torch.cuda.device_count()))
    with torch.random.fork_rng(devices=devices):
        # The seed initialises the networks and drives dropout; a resumed run restores its RNG.
        torch.manual_seed(seed)
        module = _build_module(config, settings)
        datamodule = _build_datamodule(config, module.micro_batches)
        if resume is not None:
            _check_resume(resume, module)  # the checkpoint holds the weights: no init below
        elif config.get("init_weights"):
            _load_init(module, str(config["init_weights"]))
        elif config.get("backbone_weights"):
            _load_backbone(module, str(config["backbone_weights"]))
        return _run(config, settings, module, datamodule, run_dir, resume, list(callbacks))


def _run(
    config: dict[str, Any],
    settings: dict[str, Any],
    module: GANModule,
    datamodule: DeblurDataModule,
    run_dir: Path,
    resume: Path | None,
    extra_callbacks: list[L.Callback],
) -> Path:
    steps_per_batch = module.optimizer_steps_per_batch
    has_val = datamodule.has_val
    fast = settings["fast_dev_run"]
    checkpoint_dir = run_dir / "checkpoints"
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    if int(os.environ.get("LOCAL_RANK", "0")) == 0 and int(os.environ.get("NODE_RANK", "0")) == 0:
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(config)))

    record = _ValidationRecord()
    callbacks: list[L.Callback] = [
        record,
        _LastCheckpoint(
            checkpoint_dir, settings["checkpoint_every"], settings["checkpoint_minutes"]
        ),
    ]
    best: ModelCheckpoint | None = None
    if has_val and not fast:
        best = ModelCheckpoint(
            dirpath=checkpoint_dir,
            filename="best",
            monitor="val/psnr",
            mode="max",
            save_top_k=1,
            save_last=False,
            auto_insert_metric_name=False,
        )
        callbacks.append(best)
    if settings["enable_progress_bar"]:
        callbacks.append(TQDMProgressBar(refresh_rate=1))
    if settings["sample_every"] > 0:
        callbacks.append(SampleGrid(settings["sample_every"]))
    warmup = int(_section(config, "optim").get("backbone_warmup") or 0)
    if warmup > 0:
        callbacks.append(BackboneWarmup(warmup))
    callbacks.append(LossCurves())
    callbacks += extra_callbacks
    loggers = [
        TensorBoardLogger(
            save_dir=run_dir, name="tensorboard", version="", default_hp_metric=False
        ),
        CSVLogger(save_dir=run_dir, name="csv"),  # csv/version_N: one per launch, resumes included
    ]
    trainer = L.Trainer(
        default_root_dir=run_dir,
        accelerator=settings["accelerator"],
        devices=settings["devices"],
        num_nodes=settings["num_nodes"],
        strategy=_strategy(settings["strategy"]),
        precision=settings["precision"],
        # stop_at ends the run early; the schedule still spans max_steps (module.hparams).
        max_steps=(settings["stop_at"] or settings["max_steps"]) * steps_per_batch,
        max_epochs=-1,
        # Stops cleanly (last.ckpt and the export are written) after this much wall time.
        max_time=None if settings["max_time"] is None else timedelta(minutes=settings["max_time"]),
        val_check_interval=settings["val_every"] if has_val else None,
        check_val_every_n_epoch=None,
        limit_val_batches=settings["limit_val_batches"] if has_val else 0,
        num_sanity_val_steps=settings["num_sanity_val_steps"] if has_val else 0,
        log_every_n_steps=settings["log_every"],
        callbacks=callbacks,
        logger=loggers,
        enable_checkpointing=best is not None,
        enable_progress_bar=settings["enable_progress_bar"],
        enable_model_summary=settings["enable_model_summary"],
        deterministic=settings["deterministic"],
        use_distributed_sampler=False,
        fast_dev_run=fast,
    )
    logger.info(
        "training %s for %d GAN steps in %s%s%s",
        module.hparams["generator"]["name"],
        settings["max_steps"],
        run_dir,
        f", stopping at step {settings['stop_at']}" if settings["stop_at"] else "",
        f" (resuming {resume})" if resume else "",
    )
    with warnings.catch_warnings():
        _quiet_known_warnings(module)
        trainer.fit(
            module,
            datamodule=datamodule,
            ckpt_path=str(resume) if resume is not None else None,
            weights_only=True,
        )

    chosen: Path | None = None
    if best is not None and best.best_model_path:
        chosen = Path(best.best_model_path)
    elif (checkpoint_dir / "last.ckpt").is_file():
        chosen = checkpoint_dir / "last.ckpt"
    recipe = {
        k: config.get(k)
        for k in (
            "generator",
            "discriminator",
            "adversarial",
            "content",
            "optim",
            "data",
            "trainer",
            "seed",
        )
    }
    path = run_dir / GENERATOR_FILE
    if trainer.is_global_zero:
        path = _export(module, None if fast else chosen, run_dir, recipe)
    trainer.strategy.barrier("deblurgan.export")
    return path
