"""End-to-end training on CPU: checkpoints, logs, export, exact resume, divergence guard."""

from __future__ import annotations

import csv
import importlib
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

from deblurgan.models import load_generator
from deblurgan.models.weights import read_checkpoint
from deblurgan.training import DivergenceError, GANModule, fit
from deblurgan.training.fit import export_checkpoint

fit_module = importlib.import_module("deblurgan.training.fit")


def _metric_rows(run_dir: Path, version: int = 0) -> list[dict[str, str]]:
    with open(run_dir / "csv" / f"version_{version}" / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def _generator_state(path: Path) -> dict[str, torch.Tensor]:
    return read_checkpoint(path)[1]


def test_export_can_replace_inference_settings_of_the_generator(
    tmp_path: Path, nafnet_run: Path
) -> None:
    as_trained = load_generator(nafnet_run.parent.parent / "generator.safetensors")
    assert as_trained.tlc is True
    last = nafnet_run
    out = export_checkpoint(
        last, tmp_path / "off.safetensors", {}, generator_settings={"tlc": False}
    )
    model = load_generator(out)
    assert model.tlc is False and model.arch_spec["tlc"] is False
    torch.testing.assert_close(model.state_dict(), as_trained.state_dict(), rtol=0, atol=0)
    # A setting the weights were trained with is refused by name, before anything is built:
    # one that changes shapes (width) and one mixed with an inference-only one.
    for settings in ({"width": 8}, {"middle_kernel": 5, "tlc": False}):
        with pytest.raises(ValueError, match="inference-only \\(tlc, train_size\\)"):
            export_checkpoint(last, tmp_path / "wide.safetensors", {}, generator_settings=settings)
    assert not (tmp_path / "wide.safetensors").exists()
    # train_size (the TLC window) is inference-only too.
    out = export_checkpoint(
        last, tmp_path / "window.safetensors", {}, generator_settings={"train_size": 64}
    )
    assert load_generator(out).train_size == 64


def test_fit_trains_logs_checkpoints_and_exports(tmp_path: Path, make_config) -> None:
    run_dir = tmp_path / "run"
    exported = fit(make_config(run_dir))

    assert exported == run_dir / "generator.safetensors"
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / "checkpoints" / "best.ckpt").is_file()
    assert (run_dir / "config.yaml").is_file()
    assert any((run_dir / "tensorboard").glob("events.out.tfevents.*"))

    rows = _metric_rows(run_dir)
    keys = set().union(*rows)
    for key in ("train/g_loss", "train/d_loss", "train/content", "train/adv", "train/lr_g"):
        assert key in keys
    for key in ("val/psnr", "val/ssim", "val/psnr_input"):
        assert key in keys
    train_rows = [r for r in rows if r["train/g_loss"]]
    assert len(train_rows) == 4  # one row per GAN step, not per optimiser step
    assert all(torch.isfinite(torch.tensor(float(r["train/g_loss"]))) for r in train_rows)

    # The Lightning checkpoint loads with weights_only and counts two optimiser steps per GAN step.
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 8 and last["deblurgan"]["gan_step"] == 4

    model = load_generator(exported)
    assert model.arch_spec["name"] == "fpn_mobilenet"
    meta = model.checkpoint_meta
    assert meta["checkpoint"] == "best.ckpt" and meta["steps"] in (2, 4)
    assert set(meta["val"]) == {"val/psnr", "val/ssim", "val/psnr_input"}
    assert meta["recipe"]["generator"]["num_filters"] == 8
    restored = model(torch.rand(1, 3, 32, 32))
    assert restored.shape == (1, 3, 32, 32)

    # The module rebuilds itself from the checkpoint alone (names and numbers only).
    module = GANModule.load_from_checkpoint(run_dir / "checkpoints" / "last.ckpt")
    assert module.hparams.discriminator == {"name": "patchgan", "width": 4, "depth": 2}
    torch.testing.assert_close(
        module.generator.state_dict(), _generator_state(run_dir / "checkpoints" / "last.ckpt")
    )


def test_resume_mid_run_matches_an_uninterrupted_run(
    tmp_path: Path, make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 4 GAN steps straight, keeping a copy of the checkpoint written after step 2 ...
    snapshot = tmp_path / "step2.ckpt"
    original = fit_module._LastCheckpoint.on_train_batch_end

    def keep_step_two(self, trainer, module, *args):
        original(self, trainer, module, *args)
        if module.completed_steps == 2:
            shutil.copy(self.dirpath / "last.ckpt", snapshot)

    monkeypatch.setattr(fit_module._LastCheckpoint, "on_train_batch_end", keep_step_two)
    straight = tmp_path / "straight"
    fit(make_config(straight, trainer={"val_every": 3}))
    monkeypatch.undo()
    assert torch.load(snapshot, weights_only=True)["deblurgan"]["gan_step"] == 2

    # ... then 2 steps + resume + 2 steps: the learning-rate decay, the critic, the data
    # position and the validation schedule all continue as if never stopped.
    resumed = tmp_path / "resumed"
    fit(make_config(resumed, trainer={"val_every": 3}, resume=str(snapshot)))

    a = torch.load(straight / "checkpoints" / "last.ckpt", weights_only=True)
    b = torch.load(resumed / "checkpoints" / "last.ckpt", weights_only=True)
    assert a["global_step"] == b["global_step"] == 8
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    losses_a = [r["train/g_loss"] for r in _metric_rows(straight) if r["train/g_loss"]]
    losses_b = [r["train/g_loss"] for r in _metric_rows(resumed) if r["train/g_loss"]]
    assert losses_b == losses_a[2:]


def test_resume_in_place_continues_a_finished_run(tmp_path: Path, make_config) -> None:
    run_dir = tmp_path / "run"
    fit(make_config(run_dir, trainer={"max_steps": 2}, data={"val": None}))
    last = run_dir / "checkpoints" / "last.ckpt"
    fit(make_config(None, trainer={"max_steps": 3}, data={"val": None}, resume=str(last)))
    state = torch.load(last, weights_only=True)
    assert state["deblurgan"]["gan_step"] == 3
    assert len(_metric_rows(run_dir, version=1)) == 1  # the new launch logged its one step
    assert load_generator(run_dir / "generator.safetensors").checkpoint_meta["steps"] == 3


def test_resume_refuses_another_architecture(tmp_path: Path, make_config) -> None:
    run_dir = tmp_path / "run"
    fit(make_config(run_dir, trainer={"max_steps": 1}, data={"val": None}))
    other = make_config(
        tmp_path / "other",
        generator={**make_config(None)["generator"], "num_filters": 16},
        resume=str(run_dir / "checkpoints" / "last.ckpt"),
    )
    with pytest.raises(ValueError, match="trained with generator="):
        fit(other)
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        fit(make_config(tmp_path / "x", resume=str(tmp_path / "missing.ckpt")))


def test_resume_may_change_an_inference_only_setting(nafnet_run: Path, make_config) -> None:
    # A run recorded with nafnet's tlc on (the default before 2026-12-06) resumes under a
    # config with it off: tlc changes test-time statistics only. The weights' settings do not.
    saved = torch.load(nafnet_run, weights_only=True)["hyper_parameters"]["generator"]
    assert saved["tlc"] is True
    off = {**saved, "tlc": False}
    fit(make_config(None, generator=off, trainer={"max_steps": 2}, resume=str(nafnet_run)))
    state = torch.load(nafnet_run, weights_only=True)
    assert state["deblurgan"]["gan_step"] == 2
    assert state["hyper_parameters"]["generator"]["tlc"] is False
    wider = {**off, "width": 8}
    with pytest.raises(ValueError, match="trained with generator="):
        fit(make_config(None, generator=wider, trainer={"max_steps": 3}, resume=str(nafnet_run)))


def test_init_weights_starts_the_generator_from_a_saved_one(tmp_path: Path, make_config) -> None:
    import lightning as L

    first = fit(make_config(tmp_path / "a", trainer={"max_steps": 1}, data={"val": None}))

    class AtStart(L.Callback):
        def __init__(self) -> None:
            self.state: dict[str, torch.Tensor] = {}

        def on_train_start(self, trainer, module) -> None:  # type: ignore[no-untyped-def]
            self.state = {k: v.clone() for k, v in module.generator.state_dict().items()}

    cfg = make_config(
        tmp_path / "b", trainer={"max_steps": 1}, data={"val": None}, init_weights=str(first)
    )
    at_start = AtStart()
    second = fit(cfg, callbacks=[at_start])
    saved = _generator_state(first)
    assert at_start.state.keys() == saved.keys()
    for key, value in saved.items():
        assert torch.equal(at_start.state[key], value), key
    # Only the weights came along: the new run counts its own steps and trains on from there.
    assert load_generator(second).checkpoint_meta["steps"] == 1
    assert any(not torch.equal(v, saved[k]) for k, v in _generator_state(second).items())

    wider = {**make_config(None)["generator"], "num_filters": 16}
    with pytest.raises(ValueError, match=r"init_weights=.*does not fit"):
        fit(make_config(tmp_path / "c", generator=wider, init_weights=str(first)))
    other = {"name": "resnet", "width": 4, "n_blocks": 1}
    with pytest.raises(ValueError, match=r"holds a 'fpn_mobilenet' generator.*'resnet'"):
        fit(make_config(tmp_path / "d", generator=other, init_weights=str(first)))
    with pytest.raises(FileNotFoundError):
        fit(make_config(tmp_path / "e", init_weights=str(tmp_path / "missing.safetensors")))


def test_backbone_weights_start_the_generators_backbone(tmp_path: Path, make_config) -> None:
    import lightning as L

    from deblurgan.models.backbones import EfficientNetLite

    classifier = EfficientNetLite(width=0.25, depth=0.5)  # a file with a head and classifier
    torch.nn.init.constant_(classifier._conv_stem.weight, 0.25)
    weights = tmp_path / "effnet.pth"
    torch.save(classifier.state_dict(), weights)

    class AtStart(L.Callback):
        def __init__(self) -> None:
            self.state: dict[str, torch.Tensor] = {}

        def on_train_start(self, trainer, module) -> None:  # type: ignore[no-untyped-def]
            self.state = {k: v.clone() for k, v in module.generator.backbone.state_dict().items()}

    generator = {
        "name": "fpn_efficientnet_lite",
        "width": 0.25,
        "depth": 0.5,
        "num_filters": 8,
        "num_filters_fpn": 16,
    }
    at_start = AtStart()
    cfg = make_config(
        tmp_path / "a",
        generator=generator,
        trainer={"max_steps": 1},
        data={"val": None},
        backbone_weights=str(weights),
    )
    fit(cfg, callbacks=[at_start])
    expected = classifier.state_dict()
    assert at_start.state and all(torch.equal(v, expected[k]) for k, v in at_start.state.items())
    resnet = {"name": "resnet", "width": 4, "n_blocks": 1}
    with pytest.raises(ValueError, match="has no pretrained backbone to load"):
        fit(make_config(tmp_path / "b", generator=resnet, backbone_weights=str(weights)))


def test_content_only_training_takes_one_optimiser_step_per_batch(
    tmp_path: Path, make_config
) -> None:
    run_dir = tmp_path / "run"
    cfg = make_config(run_dir, discriminator=None, trainer={"max_steps": 3, "val_every": 3})
    cfg["generator"] = {"name": "resnet", "width": 4, "n_blocks": 1}
    exported = fit(cfg)
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 3 and len(last["optimizer_states"]) == 1
    keys = set().union(*_metric_rows(run_dir))
    assert "train/content" in keys and "train/d_loss" not in keys
    assert load_generator(exported).arch_spec["name"] == "resnet"


def test_divergence_stops_training_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deblurgan.losses import WeightedLoss

    calls = {"n": 0}
    original = WeightedLoss.forward

    def poisoned(self, restored, sharp):
        calls["n"] += 1
        total, parts = original(self, restored, sharp)
        return (total * float("nan"), parts) if calls["n"] == 3 else (total, parts)

    monkeypatch.setattr(WeightedLoss, "forward", poisoned)
    run_dir = tmp_path / "run"
    cfg = make_config(run_dir, data={"val": None}, trainer={"checkpoint_every": 1})
    with pytest.raises(DivergenceError, match=r"GAN step 2\b.*last good checkpoint is kept"):
        fit(cfg)
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["deblurgan"]["gan_step"] == 2
    assert not (run_dir / "generator.safetensors").exists()


def test_fast_dev_run_exports_without_checkpoints(tmp_path: Path, make_config) -> None:
    run_dir = tmp_path / "run"
    exported = fit(make_config(run_dir, trainer={"fast_dev_run": 1}))
    assert not (run_dir / "checkpoints" / "last.ckpt").exists()
    assert load_generator(exported).checkpoint_meta["checkpoint"] is None


@pytest.mark.parametrize(
    ("sections", "error", "match"),
    [
        ({"trainer": {"max_steps": 0}}, ValueError, "trainer.max_steps"),
        ({"trainer": {"max_epochs": 3}}, ValueError, "unknown trainer setting"),
        ({"optim": {"lr": 1.0}}, ValueError, "unknown optim setting"),
        ({"optim": {"adv_weight": -1.0}}, ValueError, "adv_weight"),
        ({"generator": None}, ValueError, "no generator"),
        ({"generator": {"name": "nope"}}, ValueError, "unknown generator 'nope'"),
        ({"adversarial": "nope"}, KeyError, "unknown adversarial loss 'nope'"),
        ({"content": {"nope": 1.0}}, KeyError, "unknown content loss 'nope'"),
        ({"data": {"train": None}}, ValueError, "data.train"),
        ({"data": {"batch_size": 0}}, ValueError, "data.batch_size"),
        ({"data": {"batch_size": 7}}, ValueError, "fewer than one batch"),
    ],
)
def test_fit_rejects_bad_configs(tmp_path: Path, make_config, sections, error, match) -> None:
    with pytest.raises(error, match=match):
        fit(make_config(tmp_path / "run", **sections))


def test_fit_reports_missing_values(tmp_path: Path, make_config) -> None:
    cfg = make_config(tmp_path / "run")
    cfg["data"]["train"]["root"] = "???"
    with pytest.raises(ValueError, match=r"missing required setting\(s\) data.train.root"):
        fit(cfg)


def test_a_new_run_never_replaces_an_earlier_one(tmp_path: Path, make_config) -> None:
    run_dir = tmp_path / "run"
    fit(make_config(run_dir, trainer={"max_steps": 1}, data={"val": None}))
    before = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match=r"holds an earlier run .*resume=.*overwrite=true"):
        fit(make_config(run_dir, trainer={"max_steps": 1}, data={"val": None}))
    after = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*") if p.is_file()}
    assert after == before  # nothing written, nothing removed
    # overwrite=true clears the earlier run first: no stale best.ckpt, one CSV version
    (run_dir / "stale.txt").write_text("from the earlier run")
    fit(make_config(run_dir, trainer={"max_steps": 1}, data={"val": None}, overwrite=True))
    assert not (run_dir / "stale.txt").exists()
    assert sorted(p.name for p in (run_dir / "csv").iterdir()) == ["version_0"]


def test_max_time_stops_cleanly_and_the_run_resumes(tmp_path: Path, make_config) -> None:
    run_dir = tmp_path / "run"
    # 0.0001 min: stops after the first step, yet writes last.ckpt and the generator.
    fit(make_config(run_dir, trainer={"max_steps": 50, "max_time": 0.0001}, data={"val": None}))
    last = run_dir / "checkpoints" / "last.ckpt"
    done = torch.load(last, weights_only=True)["deblurgan"]["gan_step"]
    assert 1 <= done < 50
    assert (run_dir / "generator.safetensors").is_file()
    fit(make_config(None, trainer={"max_steps": done + 1}, data={"val": None}, resume=str(last)))
    assert torch.load(last, weights_only=True)["deblurgan"]["gan_step"] == done + 1
    with pytest.raises(ValueError, match="max_time"):
        fit(make_config(tmp_path / "bad", trainer={"max_time": -1}))


def test_last_checkpoint_is_written_at_least_every_few_minutes(
    tmp_path: Path, make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    fit_module = importlib.import_module("deblurgan.training.fit")

    clock = iter(range(0, 10**6, 400))  # each look at the clock: 400 s later
    monkeypatch.setattr(fit_module.time, "monotonic", lambda: float(next(clock)))
    saved: list[int] = []
    real_save = fit_module._LastCheckpoint._save

    def spy(self: Any, trainer: Any) -> None:
        saved.append(trainer.global_step)
        real_save(self, trainer)

    monkeypatch.setattr(fit_module._LastCheckpoint, "_save", spy)
    run_dir = tmp_path / "run"
    trainer = {"max_steps": 3, "checkpoint_every": 1000, "checkpoint_minutes": 5}
    fit(make_config(run_dir, trainer=trainer, data={"val": None}))
    # One save per GAN step (global_step counts both optimisers' steps), not waiting for step
    # 1000: every step looks 400 s after the last save, more than 5 minutes.
    assert len(set(saved)) == 3 and saved == sorted(saved)  # the end calls it once more
    with pytest.raises(ValueError, match="checkpoint_minutes"):
        fit(make_config(tmp_path / "bad", trainer={"checkpoint_minutes": 0}))


def test_stop_at_ends_the_run_early_on_the_full_schedule(tmp_path: Path, make_config) -> None:
    # max_steps 8 sets the decay; stop_at 3 ends the run there. The learning rate at the stop
    # is the 8-step schedule's, not the end of a 3-step one; a resume with stop_at 5 goes on.
    optim = {"warmup_steps": 0, "decay": "linear", "decay_start": 0.0, "min_lr_ratio": 0.0}
    run_dir = tmp_path / "run"
    trainer = {"max_steps": 8, "stop_at": 3}
    fit(make_config(run_dir, trainer=trainer, optim=optim, data={"val": None}))
    last = run_dir / "checkpoints" / "last.ckpt"
    state = torch.load(last, weights_only=True)
    assert state["deblurgan"]["gan_step"] == 3
    (scheduler, *_) = state["lr_schedulers"]
    assert scheduler["_last_lr"][0] == pytest.approx(1e-3 * (1 - 3 / 8))
    resumed = {"max_steps": 8, "stop_at": 5}
    fit(make_config(None, trainer=resumed, optim=optim, data={"val": None}, resume=str(last)))
    state = torch.load(last, weights_only=True)
    assert state["deblurgan"]["gan_step"] == 5
    assert state["lr_schedulers"][0]["_last_lr"][0] == pytest.approx(1e-3 * (1 - 5 / 8))
    # a run already at its stop_at ends at once, unchanged
    fit(make_config(None, trainer=resumed, optim=optim, data={"val": None}, resume=str(last)))
    assert torch.load(last, weights_only=True)["deblurgan"]["gan_step"] == 5


@pytest.mark.parametrize("stop_at", [0, 9, 2.5, True])
def test_stop_at_must_be_a_step_within_the_run(tmp_path: Path, make_config, stop_at) -> None:
    with pytest.raises(ValueError, match=r"trainer.stop_at must be a GAN step from 1 to .*\(8\)"):
        fit(make_config(tmp_path / "run", trainer={"max_steps": 8, "stop_at": stop_at}))
