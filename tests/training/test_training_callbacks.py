"""Training callbacks on tiny Lightning runs: sample grids, loss curves, backbone warm-up."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import lightning as L
import numpy as np
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.strategies import DDPStrategy
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset

from deblurgan.training.callbacks import (
    BackboneWarmup,
    LossCurves,
    SampleGrid,
    plot_loss_curves,
    read_metrics,
)
from deblurgan.training.module import GANModule

LITE_UNET = {"name": "lite_unet", "width": 4, "blocks": 1}
TINY_FPN = {"name": "fpn_mobilenet", "width_mult": 0.25, "num_filters": 8, "num_filters_fpn": 16}


class _Pairs(Dataset):
    """Seeded blurry/sharp pairs; ``offset`` makes a distinct set (e.g. for validation)."""

    def __init__(self, length: int, height: int, width: int, offset: int = 0) -> None:
        self.length, self.height, self.width, self.offset = length, height, width, offset

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        g = torch.Generator().manual_seed(self.offset + index)
        sharp = torch.rand(3, self.height, self.width, generator=g)
        return {"blurry": sharp * 0.8 + 0.1, "sharp": sharp, "name": f"{self.offset + index}"}


def _trainer(
    tmp_path: Path, max_steps: int, callbacks: list[L.Callback], **kwargs: Any
) -> L.Trainer:
    settings: dict[str, Any] = {
        "logger": CSVLogger(tmp_path),
        "log_every_n_steps": 1,
        "num_sanity_val_steps": 0,
        "enable_model_summary": False,
    }
    settings.update(kwargs)
    return L.Trainer(
        max_steps=max_steps,
        max_epochs=-1,
        callbacks=callbacks,
        enable_checkpointing=False,
        enable_progress_bar=False,
        accelerator="cpu",
        default_root_dir=tmp_path,
        **settings,
    )


def _png(path: Path) -> torch.Tensor:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return torch.from_numpy(np.asarray(image.convert("RGB")).copy()).permute(2, 0, 1) / 255


class _ModeSpy(L.Callback):
    """Runs after SampleGrid: the generator must be back in train mode after each grid."""

    def __init__(self) -> None:
        self.modes: list[bool] = []

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, *args: Any) -> None:
        self.modes.append(pl_module.generator.training)


def test_sample_grids_and_loss_curves_of_a_tiny_run(tmp_path: Path) -> None:
    module = GANModule(LITE_UNET, lr_g=1e-3)
    train = DataLoader(_Pairs(8, 16, 16), batch_size=2, shuffle=False)
    spy = _ModeSpy()
    board = TensorBoardLogger(tmp_path, name="tb")
    board._experiment = mock.MagicMock()
    trainer = _trainer(
        tmp_path,
        5,
        [SampleGrid(2, count=2), LossCurves(), spy],
        logger=[CSVLogger(tmp_path), board],
    )
    trainer.fit(module, train)

    folder = tmp_path / "samples"
    assert sorted(p.name for p in folder.iterdir()) == [
        "step_0000002.png",
        "step_0000004.png",
        "step_0000005.png",  # at train end
    ]
    grid = _png(folder / "step_0000005.png")
    assert grid.shape == (3, 2 * 16, 3 * 16)  # rows: images; columns: blurry | restored | sharp
    first = train.dataset[0], train.dataset[1]  # no val loader: the first training batch
    for row, item in enumerate(first):
        cells = grid[:, row * 16 : (row + 1) * 16].split(16, dim=-1)
        torch.testing.assert_close(cells[0], item["blurry"], atol=0.5 / 255 + 1e-6, rtol=0)
        torch.testing.assert_close(cells[2], item["sharp"], atol=0.5 / 255 + 1e-6, rtol=0)
    module.generator.eval()
    with torch.no_grad():
        restored = module.generator(torch.stack([i["blurry"] for i in first])).clamp(0, 1)
    torch.testing.assert_close(grid[:, :16, 16:32], restored[0], atol=0.5 / 255 + 1e-6, rtol=0)
    assert all(spy.modes)

    calls = board._experiment.add_image.call_args_list
    assert [(c.args[0], c.kwargs["global_step"]) for c in calls] == [
        (SampleGrid.TAG, 2),
        (SampleGrid.TAG, 4),
        (SampleGrid.TAG, 5),
    ]
    assert tuple(calls[-1].args[1].shape) == (3, 32, 48)

    curves = tmp_path / "loss_curves.png"
    with Image.open(curves) as image:
        assert image.format == "PNG" and image.width > 100
        image.verify()
    metrics = read_metrics(tmp_path / "lightning_logs")
    assert metrics["train/g_loss"][0] == [0, 1, 2, 3, 4]
    assert not list(tmp_path.glob("**/.*tmp"))  # no temporary files left behind


def test_sample_grid_uses_the_first_validation_batch_and_pads(tmp_path: Path) -> None:
    # FPN needs multiples of 32: validation images of 24x40 are padded, restored and cropped.
    module = GANModule(TINY_FPN, lr_g=1e-3)
    train = DataLoader(_Pairs(4, 32, 32), batch_size=2)
    val = DataLoader(_Pairs(4, 24, 40, offset=100), batch_size=2)
    trainer = _trainer(
        tmp_path,
        1,
        [SampleGrid(1, count=3)],
        limit_val_batches=1,
        val_check_interval=50,
        check_val_every_n_epoch=None,
    )
    trainer.fit(module, train, val)
    grid = _png(tmp_path / "samples" / "step_0000001.png")
    assert grid.shape == (3, 2 * 24, 3 * 40)  # count 3, but the batch holds 2
    torch.testing.assert_close(
        grid[:, 24:, :40], val.dataset[1]["blurry"], atol=0.5 / 255 + 1e-6, rtol=0
    )


def test_sample_grid_restores_eval_mode_and_validates() -> None:
    grid = SampleGrid(1, count=1)
    module = GANModule(LITE_UNET)
    module.generator.eval()
    grid._keep({"blurry": torch.rand(2, 3, 12, 20), "sharp": torch.rand(2, 3, 12, 20)}, "test")
    assert grid.grid(module).shape == (3, 12, 60)
    assert not module.generator.training
    with pytest.raises(ValueError, match="every"):
        SampleGrid(0)
    with pytest.raises(TypeError, match="'blurry' and 'sharp'"):
        grid._keep([torch.rand(1, 3, 8, 8)], "training")


def test_sample_grid_reads_the_validation_batch_without_touching_the_global_rng() -> None:
    grid = SampleGrid(1, count=1)
    val = DataLoader(_Pairs(6, 8, 8, offset=50), batch_size=2, shuffle=True)
    trainer = SimpleNamespace(is_global_zero=True, limit_val_batches=1.0, val_dataloaders=[val])
    state = torch.get_rng_state()
    grid.on_train_start(trainer, None)  # type: ignore[arg-type]
    assert torch.equal(torch.get_rng_state(), state)  # a shuffling loader draws from it
    assert grid._blurry is not None and grid._blurry.shape == (1, 3, 8, 8)
    grid.on_train_batch_start(trainer, None, {"blurry": torch.zeros(1, 3, 8, 8)}, 0)  # type: ignore[arg-type]
    assert grid._blurry.abs().sum() > 0  # the validation batch is kept, not the training one


def _write_csv(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(text)


def test_loss_curves_merge_resumed_versions(tmp_path: Path) -> None:
    rows0 = "".join(f"0,{s},1.0,\n" for s in range(10)) + "0,4,,20.0\n0,9,,21.0\n"
    _write_csv(tmp_path / "csv/version_0/metrics.csv", "epoch,step,train/g_loss,val/psnr\n" + rows0)
    # Resumed from the checkpoint of step 5: version 0's steps 5-9 were trained again.
    rows1 = "".join(f"0,{s},2.0,\n" for s in range(5, 13)) + "0,9,,22.0\n0,12,,23.0\n"
    _write_csv(tmp_path / "csv/version_1/metrics.csv", "epoch,step,train/g_loss,val/psnr\n" + rows1)
    # A later version (10 sorts after 1 and 2 by number) that restarts at step 12.
    _write_csv(tmp_path / "csv/version_10/metrics.csv", "step,val/psnr\n12,24.0\n")
    _write_csv(tmp_path / "csv/version_2/metrics.csv", "step,val/psnr_input\n")  # empty

    metrics = read_metrics(tmp_path)
    steps, values = metrics["train/g_loss"]
    assert steps == list(range(12)) and values == [1.0] * 5 + [2.0] * 7  # 12 was re-run
    assert metrics["val/psnr"] == ([4, 9, 12], [20.0, 22.0, 24.0])
    assert read_metrics(tmp_path, steps_per_batch=2)["val/psnr"][0] == [2, 4, 6]

    out = plot_loss_curves(tmp_path, tmp_path / "plots" / "curves.png")
    assert out == tmp_path / "plots" / "curves.png"
    with Image.open(out) as image:
        image.verify()
    with pytest.raises(ValueError, match="format"):
        plot_loss_curves(tmp_path, tmp_path / "curves.unknown")
    empty = tmp_path / "empty_run"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty_run"):
        plot_loss_curves(empty, empty / "curves.png")


def test_csv_step_column_counts_gan_steps_not_optimiser_steps(tmp_path: Path) -> None:
    """Why LossCurves does not divide by optimizer_steps_per_batch: Lightning logs batches."""
    module = GANModule(LITE_UNET, discriminator={"name": "patchgan", "width": 4, "depth": 2})
    assert module.optimizer_steps_per_batch == 2
    trainer = _trainer(tmp_path, 8, [LossCurves()])
    trainer.fit(module, DataLoader(_Pairs(8, 16, 16), batch_size=2))
    assert trainer.global_step == 8 and module.completed_steps == 4
    metrics = read_metrics(tmp_path / "lightning_logs")
    assert metrics["train/d_loss"][0] == metrics["train/g_loss"][0] == [0, 1, 2, 3]
    assert (tmp_path / "loss_curves.png").is_file()


def test_loss_curves_without_csv_logger_warns(tmp_path: Path, caplog: Any) -> None:
    trainer = SimpleNamespace(
        is_global_zero=True,
        fast_dev_run=False,
        sanity_checking=False,
        loggers=[],
        default_root_dir=str(tmp_path),
    )
    with caplog.at_level(logging.WARNING, logger="deblurgan.training.callbacks"):
        LossCurves().on_train_end(trainer, None)  # type: ignore[arg-type]
    assert "no CSVLogger" in caplog.text
    assert not (tmp_path / "loss_curves.png").exists()
    with pytest.raises(ValueError, match="extension"):
        LossCurves(filename="curves")


class _WeightSpy(L.Callback):
    def __init__(self, module: GANModule) -> None:
        self.backbone = [{k: v.clone() for k, v in module.generator.backbone.state_dict().items()}]
        self.heads = [module.generator.head1.block0.weight.detach().clone()]
        self.frozen: list[bool] = []

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, *args: Any) -> None:
        params = list(pl_module.generator.backbone.parameters())
        self.frozen.append(not any(p.requires_grad for p in params))

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, *args: Any) -> None:
        weights = pl_module.generator.backbone.state_dict(keep_vars=False)
        self.backbone.append({k: v.clone() for k, v in weights.items()})
        self.heads.append(pl_module.generator.head1.block0.weight.detach().clone())


def test_backbone_warmup_freezes_the_backbone_for_the_first_steps(tmp_path: Path) -> None:
    # With a critic, Lightning's optimiser toggling must not thaw the frozen backbone.
    critic = {"name": "patchgan", "width": 4, "depth": 2}
    module = GANModule(TINY_FPN, discriminator=critic, lr_g=1e-2)
    spy = _WeightSpy(module)
    trainer = _trainer(tmp_path, 4 * 2, [BackboneWarmup(2), spy], logger=False)
    trainer.fit(module, DataLoader(_Pairs(8, 32, 32), batch_size=2))

    assert spy.frozen == [True, True, False, False]

    def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
        weights = [k for k, v in a.items() if v.is_floating_point() and "running" not in k]
        return all(torch.equal(a[k], b[k]) for k in weights)

    assert same(spy.backbone[0], spy.backbone[1]) and same(spy.backbone[0], spy.backbone[2])
    assert not same(spy.backbone[2], spy.backbone[3]) and not same(spy.backbone[3], spy.backbone[4])
    assert all(not torch.equal(a, b) for a, b in zip(spy.heads, spy.heads[1:], strict=False))
    assert all(p.requires_grad for p in module.generator.parameters())


def test_backbone_warmup_on_resume_and_with_frozen_norms() -> None:
    module = GANModule(TINY_FPN)
    backbone = module.generator.backbone
    kept_frozen = next(backbone.parameters())
    kept_frozen.requires_grad_(False)  # a user's own choice survives the warm-up
    warmup = BackboneWarmup(3, freeze_norm=True)
    trainer = SimpleNamespace(global_step=0)
    resumed = SimpleNamespace(generator=module.generator, completed_steps=1)

    warmup.setup(trainer, resumed, "fit")  # type: ignore[arg-type]
    warmup.on_fit_start(trainer, resumed)  # type: ignore[arg-type]
    assert not any(p.requires_grad for p in backbone.parameters())
    warmup.on_train_batch_start(trainer, resumed, None, 0)  # type: ignore[arg-type]
    norms = [m for m in backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms) and module.generator.head1.training

    resumed.completed_steps = 3  # resumed after the warm-up: trains before the first update
    warmup.on_train_batch_start(trainer, resumed, None, 0)  # type: ignore[arg-type]
    assert all(m.training for m in norms)
    assert not kept_frozen.requires_grad
    assert all(p.requires_grad for p in backbone.parameters() if p is not kept_frozen)


def test_backbone_warmup_needs_a_backbone() -> None:
    module = GANModule(LITE_UNET)
    with pytest.raises(ValueError, match=r"LiteUNetGenerator has no 'backbone'.*warm-up needs"):
        BackboneWarmup(5).setup(None, module, "fit")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="steps"):
        BackboneWarmup(-1)


def test_backbone_warmup_asks_ddp_for_unused_parameter_detection() -> None:
    module = GANModule(TINY_FPN)
    plain = SimpleNamespace(strategy=DDPStrategy())
    with pytest.raises(ValueError, match="ddp_find_unused_parameters_true"):
        BackboneWarmup(5).setup(plain, module, "fit")  # type: ignore[arg-type]
    BackboneWarmup(0).setup(plain, module, "fit")  # type: ignore[arg-type]
    detecting = SimpleNamespace(strategy=DDPStrategy(find_unused_parameters=True))
    BackboneWarmup(5).setup(detecting, module, "fit")  # type: ignore[arg-type]
