"""Training callbacks: sample grids, loss curves, DeblurGAN-v2's warm-up (Kupyn et al., 2019).

- :class:`SampleGrid` writes ``samples/step_NNNNNNN.png`` (blurry | restored | sharp, one row per
  image of a fixed batch) every few GAN steps and when training ends, and shows it in TensorBoard.
- :class:`LossCurves` plots the run's CSV logs (losses and validation PSNR) to
  ``loss_curves.png`` when training ends; :func:`plot_loss_curves` does the same for any run
  folder (resumed runs included).
- :class:`BackboneWarmup` freezes the generator's pretrained backbone for the first GAN steps,
  as DeblurGAN-v2 does for its first ``warmup_num`` epochs.

Step counts are GAN steps (``GANModule.completed_steps``), not Lightning's ``global_step``.
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import math
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.strategies import DDPStrategy
from torch import Tensor, nn

from deblurgan.io import write_image
from deblurgan.training.module import pad_to_multiple

__all__ = [
    "BackboneWarmup",
    "LossCurves",
    "SampleGrid",
    "gan_step",
    "plot_loss_curves",
    "read_metrics",
    "save_figure",
]

logger = logging.getLogger(__name__)


def gan_step(trainer: L.Trainer, pl_module: L.LightningModule) -> int:
    """GAN steps completed: the module's own count when it keeps one, else Lightning's."""
    steps = getattr(pl_module, "completed_steps", None)
    return int(steps) if isinstance(steps, int) else int(trainer.global_step)


def _positive(name: str, value: Any, *, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def _quiet_run(trainer: L.Trainer) -> bool:
    """Runs that should leave no files: sanity checks and ``fast_dev_run``."""
    return bool(getattr(trainer, "fast_dev_run", False)) or bool(trainer.sanity_checking)


# ------------------------------------------------------------------------------- sample grids
class SampleGrid(L.Callback):
    """Write a blurry | restored | sharp grid of a fixed batch every ``every`` GAN steps.

    The batch is the first validation batch when the run has a validation loader (read once
    when training starts, without touching the global random state), else the first training
    batch seen; its first ``count`` images are kept on the CPU for the whole run. At every
    ``every``-th GAN step and when training ends, on global rank zero only, the generator the
    module validates with (``inference_generator``: the weight average when one is kept, else
    ``generator``) restores them in eval mode under ``no_grad``, padded to its
    ``size_multiple`` and cropped back; its train/eval mode is restored afterwards. The grid, one
    row per image, is written atomically to
    ``<trainer.default_root_dir>/<folder>/step_<NNNNNNN>.png`` (the GAN step, 7 digits) and
    added to every TensorBoard logger as ``samples/blurry_restored_sharp``. Nothing is written
    during sanity checks or ``fast_dev_run``.

    After a resume without validation data the first training batch seen is a different one,
    so the rows change from that step on.

    Args:
        every: GAN steps between grids (>= 1).
        count: images per grid (fewer if the batch is smaller).
        folder: sub-folder of the run folder for the PNG files.

    Shape:
        - batch: ``{"blurry": (B, C, H, W), "sharp": (B, C, H, W), ...}`` in [0, 1].
        - grid: ``(C, count * H, 3 * W)``.

    Example:
        >>> SampleGrid(500, count=2).filename(1500)
        'step_0001500.png'
    """

    TAG = "samples/blurry_restored_sharp"

    def __init__(self, every: int, *, count: int = 4, folder: str = "samples") -> None:
        self.every = _positive("SampleGrid every", every)
        self.count = _positive("SampleGrid count", count)
        if not isinstance(folder, str) or not folder:
            raise ValueError(f"SampleGrid folder must be a non-empty string, got {folder!r}")
        self.folder = folder
        self._blurry: Tensor | None = None
        self._sharp: Tensor | None = None
        self._written_at: int | None = None

    @staticmethod
    def filename(step: int) -> str:
        """The PNG name of the grid written after ``step`` GAN steps."""
        return f"step_{step:07d}.png"

    def _keep(self, batch: Any, source: str) -> None:
        if not isinstance(batch, Mapping) or not all(
            isinstance(batch.get(key), Tensor) for key in ("blurry", "sharp")
        ):
            raise TypeError(
                f"SampleGrid needs {source} batches that are mappings with 'blurry' and 'sharp' "
                f"tensors, got {type(batch).__name__}"
            )
        # Clones, so the grid does not pin a whole batch (or pinned/GPU memory) for the run.
        self._blurry = batch["blurry"][: self.count].detach().float().cpu().clone()
        self._sharp = batch["sharp"][: self.count].detach().float().cpu().clone()

    @staticmethod
    def _first_val_loader(trainer: L.Trainer) -> Any:
        loaders = trainer.val_dataloaders
        if isinstance(loaders, Mapping):
            loaders = next(iter(loaders.values()), None)
        elif isinstance(loaders, list | tuple):
            loaders = loaders[0] if loaders else None
        return loaders

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero or self._blurry is not None:
            return
        limit = trainer.limit_val_batches
        loader = self._first_val_loader(trainer) if limit != 0 else None
        if loader is None:
            return
        # A fresh DataLoader iterator draws its base seed from the global generator: fork it so
        # that the run's random stream is the same with and without this callback.
        with torch.random.fork_rng(devices=[]):
            batch = next(iter(loader), None)
        if batch is not None:
            self._keep(batch, "validation")

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if trainer.is_global_zero and self._blurry is None:
            self._keep(batch, "training")

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = gan_step(trainer, pl_module)
        if step % self.every == 0:
            self._write(trainer, pl_module, step)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer, pl_module, gan_step(trainer, pl_module))

    def grid(self, pl_module: L.LightningModule) -> Tensor:
        """The current grid ``(C, n * H, 3 * W)`` in [0, 1] of the kept batch, on the CPU."""
        if self._blurry is None or self._sharp is None:
            raise RuntimeError("SampleGrid has no batch yet: it keeps one when training starts")
        generator = getattr(pl_module, "inference_generator", None)
        if not isinstance(generator, nn.Module):
            generator = getattr(pl_module, "generator", None)
        if not isinstance(generator, nn.Module):
            raise TypeError(
                f"SampleGrid needs a module with a 'generator', got {type(pl_module).__name__}"
            )
        blurry, sharp = self._blurry, self._sharp
        height, width = blurry.shape[-2:]
        param = next(generator.parameters(), None)
        device = param.device if param is not None else pl_module.device
        dtype = param.dtype if param is not None and param.is_floating_point() else blurry.dtype
        multiple = int(getattr(generator, "size_multiple", 1) or 1)
        was_training = generator.training
        generator.eval()
        try:
            with torch.no_grad():
                padded = pad_to_multiple(blurry.to(device=device, dtype=dtype), multiple)
                restored = generator(padded)[..., :height, :width]
        finally:
            generator.train(was_training)
        restored = restored.float().cpu().clamp(0, 1)
        rows = [
            torch.cat([b.clamp(0, 1), r, s.clamp(0, 1)], dim=-1)
            for b, r, s in zip(blurry, restored, sharp, strict=True)
        ]
        return torch.cat(rows, dim=-2)

    def _write(self, trainer: L.Trainer, pl_module: L.LightningModule, step: int) -> None:
        if not trainer.is_global_zero or _quiet_run(trainer) or self._written_at == step:
            return
        if self._blurry is None:
            return  # training ended before the first batch
        grid = self.grid(pl_module)
        path = write_image(Path(trainer.default_root_dir) / self.folder / self.filename(step), grid)
        self._written_at = step
        for run_logger in trainer.loggers:
            if isinstance(run_logger, TensorBoardLogger):
                run_logger.experiment.add_image(self.TAG, grid, global_step=step)
        logger.info("wrote the sample grid of GAN step %d to %s", step, path)


# ------------------------------------------------------------------------------- loss curves
_VERSION = re.compile(r"version_(\d+)$")
_LOSS_ORDER = ("g_loss", "d_loss", "content", "adv", "gp")


def _version_key(path: Path) -> tuple[int, str]:
    match = _VERSION.match(path.parent.name)
    return (int(match.group(1)) if match else -1, path.parent.name)


def _metrics_files(folder: Path) -> list[Path]:
    """``metrics.csv`` of every CSVLogger version under ``folder``, oldest version first."""
    files = sorted(folder.glob("csv/version_*/metrics.csv"), key=_version_key)
    if not files:  # a CSVLogger folder itself (save_dir/name)
        files = sorted(folder.glob("version_*/metrics.csv"), key=_version_key)
    if not files:
        expected = folder / "csv" / "version_*" / "metrics.csv"
        raise ValueError(
            f"{folder}: no CSV logs to plot; expected {expected} (written by Lightning's CSVLogger)"
        )
    return files


def _read_csv(path: Path) -> list[tuple[int, dict[str, float]]]:
    rows = []
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            try:
                step = int(float(row.get("step") or ""))
            except ValueError:
                continue
            values = {}
            for key, text in row.items():
                if key in (None, "step", "epoch") or not text:
                    continue
                try:
                    values[str(key)] = float(text)
                except ValueError:
                    continue
            rows.append((step, values))
    return rows


def read_metrics(
    folder: str | os.PathLike[str], *, steps_per_batch: int = 1
) -> dict[str, tuple[list[int], list[float]]]:
    """Every logged series of a run's CSV logs, versions merged: ``{key: (steps, values)}``.

    A resumed run writes a new ``version_N``; it restarts from a checkpoint, so whatever an
    earlier version logged at or after the later version's first step is dropped (those steps
    were trained again), and at equal steps the later version wins.

    Args:
        folder: a run folder (``<run>/csv/version_*/metrics.csv``) or a CSVLogger folder
            (``<folder>/version_*/metrics.csv``).
        steps_per_batch: divide the CSV's ``step`` column by this. Lightning 2 writes the number
            of training batches (GAN steps) there, not ``global_step``, so 1 is right for this
            project's runs.

    Raises:
        ValueError: no ``metrics.csv`` under ``folder``.
    """
    per_batch = _positive("steps_per_batch", steps_per_batch)
    merged: dict[str, dict[int, float]] = {}
    for path in _metrics_files(Path(folder)):
        rows = _read_csv(path)
        if not rows:
            continue
        first = min(step for step, _ in rows)
        for series in merged.values():
            for step in [s for s in series if s >= first]:
                del series[step]
        for step, values in rows:
            for key, value in values.items():
                merged.setdefault(key, {})[step] = value
    out = {}
    for key, series in merged.items():
        if series:
            steps = sorted(series)
            out[key] = ([s // per_batch for s in steps], [series[s] for s in steps])
    return out


def _running_mean(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _loss_keys(keys: list[str]) -> list[str]:
    losses = [k for k in keys if k.startswith("train/") and not k.startswith("train/lr")]

    def order(key: str) -> tuple[int, str]:
        name = key.removeprefix("train/")
        return (_LOSS_ORDER.index(name) if name in _LOSS_ORDER else len(_LOSS_ORDER), name)

    return sorted(losses, key=order)


def save_figure(figure: Any, path: Path) -> None:
    """Save a Matplotlib figure atomically: a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in figure.canvas.get_supported_filetypes():
        raise ValueError(
            f"{path}: cannot write a plot in format {fmt!r}; use one of "
            f"{', '.join(sorted(figure.canvas.get_supported_filetypes()))}"
        )
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            figure.savefig(file, format=fmt, dpi=100)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def plot_loss_curves(
    run_dir: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    steps_per_batch: int = 1,
    title: str | None = None,
) -> Path:
    """Plot a run's losses and validation PSNR against GAN steps to an image file.

    The top panel has every ``train/*`` loss (``g_loss``, ``d_loss``, ``content``, ``adv``,
    ``content_<term>``, ``gp``; not the learning rates): the raw values faint, a running mean
    (window ~1/20 of the points) on top, on a log scale when all values are positive. The
    bottom panel has ``val/psnr`` and, dashed, ``val/psnr_input`` (the blurry input's PSNR,
    the baseline to beat). The CSV versions of a resumed run are merged (see
    :func:`read_metrics`). The file is written atomically; its extension picks the format.

    Args:
        run_dir: the run folder (``<run_dir>/csv/version_*/metrics.csv``) or a CSVLogger folder.
        out_path: the image to write, e.g. ``<run_dir>/loss_curves.png``.
        steps_per_batch: see :func:`read_metrics` (1 for this project's runs).
        title: heads the plot (default: the name of ``run_dir``).

    Returns:
        ``Path(out_path)``.

    Raises:
        ValueError: no CSV logs under ``run_dir``, or none of them holds a loss or a PSNR.

    Example:
        >>> import tempfile
        >>> run = Path(tempfile.mkdtemp())
        >>> (run / "csv" / "version_0").mkdir(parents=True)
        >>> _ = (run / "csv" / "version_0" / "metrics.csv").write_text(
        ...     "epoch,step,train/g_loss,val/psnr\\n0,0,0.5,\\n0,1,0.4,\\n0,1,,21.5\\n")
        >>> plot_loss_curves(run, run / "loss_curves.png").name
        'loss_curves.png'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    folder = Path(run_dir)
    series = read_metrics(folder, steps_per_batch=steps_per_batch)
    losses = _loss_keys(list(series))
    has_val = "val/psnr" in series or "val/psnr_input" in series
    if not losses and not has_val:
        raise ValueError(
            f"{folder}: the CSV logs hold no train/* loss and no val/psnr to plot "
            f"(found: {', '.join(sorted(series)) or 'nothing'})"
        )

    figure = Figure(figsize=(10, 8), layout="constrained")
    FigureCanvasAgg(figure)
    loss_ax, val_ax = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    colours = [f"C{i % 10}" for i in range(len(losses))]
    positive = True
    for key, colour in zip(losses, colours, strict=True):
        steps, values = series[key]
        window = max(1, len(values) // 20)
        loss_ax.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8)
        smooth = _running_mean(values, window)
        loss_ax.plot(steps, smooth, color=colour, linewidth=1.6, label=key.removeprefix("train/"))
        positive = positive and all(v > 0 and math.isfinite(v) for v in values)
    if losses:
        if positive:
            loss_ax.set_yscale("log")
        loss_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    else:
        loss_ax.text(
            0.5, 0.5, "no training losses logged", ha="center", transform=loss_ax.transAxes
        )
    loss_ax.set_ylabel("training loss")
    name = title if title is not None else folder.resolve().name
    loss_ax.set_title(f"{name}: losses (faint: raw, solid: running mean)")
    loss_ax.grid(alpha=0.3)

    if "val/psnr" in series:
        steps, values = series["val/psnr"]
        val_ax.plot(steps, values, color="C0", marker="o", markersize=3, label="restored")
    if "val/psnr_input" in series:
        steps, values = series["val/psnr_input"]
        val_ax.plot(steps, values, color="0.4", linestyle="--", label="blurry input")
    if has_val:
        val_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    else:
        val_ax.text(0.5, 0.5, "no validation logged", ha="center", transform=val_ax.transAxes)
    val_ax.set_ylabel("validation PSNR (dB)")
    val_ax.set_xlabel("GAN step")
    val_ax.grid(alpha=0.3)

    out = Path(out_path)
    save_figure(figure, out)
    return out


class LossCurves(L.Callback):
    """Plot the run's losses and validation PSNR to ``<run folder>/<filename>`` at train end.

    On global rank zero, when training ends, every CSVLogger of the trainer is flushed and its
    folder (all versions, so a resumed run shows its whole history) is plotted with
    :func:`plot_loss_curves` to ``<trainer.default_root_dir>/<filename>``. A run without a
    CSVLogger or without logged values gets a warning, not an error: training has finished by
    then. Matplotlib (the ``train`` extra) is checked for when fitting starts.

    Args:
        filename: the image file, relative to the run folder; its extension picks the format.

    Example:
        >>> LossCurves().filename
        'loss_curves.png'
    """

    def __init__(self, *, filename: str = "loss_curves.png") -> None:
        if not isinstance(filename, str) or not Path(filename).suffix:
            raise ValueError(
                f"LossCurves filename must be a file name with an extension, got {filename!r}"
            )
        self.filename = filename

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage == "fit" and importlib.util.find_spec("matplotlib") is None:
            raise ImportError(
                "LossCurves plots with matplotlib, which is not installed; "
                "install the training extra: pip install 'deblurgan[train]'"
            )

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero or _quiet_run(trainer):
            return
        folders = []
        for run_logger in trainer.loggers:
            if isinstance(run_logger, CSVLogger):
                run_logger.save()  # write the rows still buffered
                folders.append(Path(run_logger.root_dir))
        if not folders:
            logger.warning("LossCurves: the trainer has no CSVLogger, so there is nothing to plot")
            return
        out = Path(trainer.default_root_dir) / self.filename
        try:
            plot_loss_curves(folders[0], out, title=Path(trainer.default_root_dir).resolve().name)
        except ValueError as error:
            logger.warning("LossCurves: no plot written: %s", error)
            return
        logger.info("wrote the loss curves to %s", out)


# ---------------------------------------------------------------------------- backbone warm-up
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


class BackboneWarmup(L.Callback):
    """Freeze the generator's pretrained ``backbone`` for the first ``steps`` GAN steps.

    DeblurGAN-v2 (Kupyn et al., 2019; VITA-Group/DeblurGANv2 ``train.py``) builds its FPN with
    the ImageNet backbone's parameters at ``requires_grad=False``, trains the rest for
    ``warmup_num`` (3) epochs, then calls ``netG.module.unfreeze()`` and creates a new optimiser
    over all parameters. Here, before GAN step ``steps`` (0-based) runs, the backbone's
    parameters are set to ``requires_grad=False`` (when fitting starts, and again before each
    step, so a run resumed inside the warm-up is frozen and one resumed after it is not); from
    step ``steps`` on they get their original flags back. The generator's optimiser already
    holds every parameter: a frozen one has no gradient (``zero_grad(set_to_none=True)``) and
    Adam, AdamW and RMSProp skip it, weight decay included, so it does not move. Unlike the
    original, the optimiser is not rebuilt: the other layers keep their Adam moments and the
    backbone's start from zero when it first gets a gradient. When training ends the flags are
    restored whatever the step.

    BatchNorm: DeblurGAN-v2 leaves the frozen backbone in train mode, so its BatchNorm running
    statistics keep adapting to the deblurring data while the weights are fixed; that is the
    default here. ``freeze_norm=True`` also holds those statistics by keeping the backbone's
    BatchNorm layers in eval mode during the warm-up.

    Under DDP the frozen parameters take no part in the backward pass, which DDP allows only
    with ``strategy="ddp_find_unused_parameters_true"`` (``setup`` refuses plain ``"ddp"``);
    the replicas then stay identical, the backbone included once it trains.

    Args:
        steps: GAN steps of warm-up (0: none).
        freeze_norm: keep the backbone's BatchNorm layers in eval mode while it is frozen.

    Raises:
        ValueError: when fitting starts, if the generator has no ``backbone`` module, or under
            DDP without unused-parameter detection.

    Example:
        >>> BackboneWarmup(3000).frozen_at(2999), BackboneWarmup(3000).frozen_at(3000)
        (True, False)
    """

    def __init__(self, steps: int, *, freeze_norm: bool = False) -> None:
        self.steps = _positive("BackboneWarmup steps", steps, low=0)
        if not isinstance(freeze_norm, bool):
            raise TypeError(f"freeze_norm must be true or false, got {freeze_norm!r}")
        self.freeze_norm = freeze_norm
        self._saved: dict[nn.Parameter, bool] | None = None

    def frozen_at(self, step: int) -> bool:
        """Whether the backbone is frozen while GAN step ``step`` (0-based) runs."""
        return step < self.steps

    @property
    def frozen(self) -> bool:
        """Whether the backbone is frozen now."""
        return self._saved is not None

    @staticmethod
    def _generator(pl_module: L.LightningModule) -> nn.Module:
        generator = getattr(pl_module, "generator", None)
        if not isinstance(generator, nn.Module):
            raise TypeError(
                f"BackboneWarmup needs a module with a 'generator', got {type(pl_module).__name__}"
            )
        return generator

    @classmethod
    def backbone(cls, pl_module: L.LightningModule) -> nn.Module:
        """The ``backbone`` of ``pl_module.generator``; ``ValueError`` when it has none."""
        generator = cls._generator(pl_module)
        backbone = getattr(generator, "backbone", None)
        if not isinstance(backbone, nn.Module):
            raise ValueError(
                f"BackboneWarmup: the generator {type(generator).__name__} has no 'backbone' "
                "module, and the warm-up needs a backbone to freeze (the FPN generators have "
                "one); set backbone_warmup to 0 for this generator"
            )
        return backbone

    def _freeze(self, pl_module: L.LightningModule) -> None:
        params = list(self.backbone(pl_module).parameters())
        self._saved = {p: p.requires_grad for p in params}
        for p in params:
            p.requires_grad_(False)
            p.grad = None

    def _unfreeze(self, pl_module: L.LightningModule) -> None:
        if self._saved is None:
            return
        for p, requires_grad in self._saved.items():
            p.requires_grad_(requires_grad)
        self._saved = None
        if self.freeze_norm:
            training = self._generator(pl_module).training
            for module in self.backbone(pl_module).modules():
                if isinstance(module, _BATCH_NORMS):
                    module.train(training)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        self.backbone(pl_module)  # fail before training, not at the first step
        # DDP (built after this hook) expects a gradient for every parameter that required one
        # when it wrapped the model, and stops at the second step if the frozen ones get none.
        strategy = getattr(trainer, "strategy", None)
        ddp_kwargs = getattr(strategy, "_ddp_kwargs", None)
        if (
            self.steps > 0
            and isinstance(strategy, DDPStrategy)
            and isinstance(ddp_kwargs, Mapping)
            and not ddp_kwargs.get("find_unused_parameters", False)
        ):
            raise ValueError(
                f"BackboneWarmup({self.steps}) under DDP leaves the frozen backbone without "
                "gradients, which DDP only allows with unused-parameter detection: use "
                "strategy='ddp_find_unused_parameters_true' (or DDPStrategy(find_unused_parameters"
                "=True)), or no warm-up"
            )

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The step count of a resumed run is restored only after this hook: freeze now (no
        # update happens before the first batch) and let the first batch settle the state.
        if self.steps > 0 and not self.frozen:
            self._freeze(pl_module)

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        step = gan_step(trainer, pl_module)
        if self.frozen_at(step):
            if not self.frozen:
                self._freeze(pl_module)
            if self.freeze_norm:  # again each step: Lightning sets train mode after validation
                for module in self.backbone(pl_module).modules():
                    if isinstance(module, _BATCH_NORMS):
                        module.eval()
        elif self.frozen:
            self._unfreeze(pl_module)
            logger.info(
                "backbone warm-up over: the generator's backbone trains from GAN step %d", step
            )

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._unfreeze(pl_module)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        self._unfreeze(pl_module)
