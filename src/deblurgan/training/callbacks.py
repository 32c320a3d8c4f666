"""Training callbacks: sample grids, loss curves, DeblurGAN-v2's warm-up (Kupyn et al., 2019).

- :class:`SampleGrid` writes ``samples/step_NNNNNNN.png`` (blurry | restored | sharp, one row per
  image of a fixed batch) every few GAN steps and when training ends, and shows it in TensorBoard.
- :class:`LossCurves` plots the run's CSV logs (losses and validation PSNR) to
  ``loss_curves.png`` when training ends, with :func:`deblurgan.reporting.plots.plot_loss_curves`
  (which plots any run folder, resumed runs included; re-exported here).
- :class:`BackboneWarmup` freezes the generator's pretrained backbone for the first GAN steps,
  as DeblurGAN-v2 does for its first ``warmup_num`` epochs.

Step counts are GAN steps (``GANModule.completed_steps``), not Lightning's ``global_step``.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.strategies import DDPStrategy
from torch import Tensor, nn

from deblurgan.io import write_image
from deblurgan.models.generator import size_multiple
from deblurgan.nn.padding import pad_to_multiple
from deblurgan.reporting.plots import plot_loss_curves, save_figure
from deblurgan.reporting.runlogs import read_metrics

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
        multiple = size_multiple(generator)
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
