"""Units of the training package: LR schedule, padding, step-indexed sampling, module checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from deblurgan.metrics import psnr
from deblurgan.training import (
    DeblurDataModule,
    GANModule,
    StepBatchSampler,
    lr_factor,
    pad_to_multiple,
)

TINY_RESNET = {"name": "resnet", "width": 4, "n_blocks": 1}


def test_lr_factor_by_hand() -> None:
    # warm-up 4 steps: 1/4, 2/4, 3/4, then 1; decay from step 10 of 20 down to 0.1 at step 20.
    assert [lr_factor(s, max_steps=20, warmup_steps=4) for s in range(5)] == [
        0.25,
        0.5,
        0.75,
        1.0,
        1.0,
    ]
    assert lr_factor(9, max_steps=20, decay_start=0.5, min_lr_ratio=0.1) == 1.0
    assert lr_factor(10, max_steps=20, decay_start=0.5, min_lr_ratio=0.1) == 1.0
    assert lr_factor(15, max_steps=20, decay_start=0.5, min_lr_ratio=0.1) == pytest.approx(0.55)
    assert lr_factor(20, max_steps=20, decay_start=0.5, min_lr_ratio=0.1) == pytest.approx(0.1)
    assert lr_factor(99, max_steps=20, decay_start=0.5, min_lr_ratio=0.1) == pytest.approx(0.1)
    assert lr_factor(10**6, max_steps=None, warmup_steps=0) == 1.0


def test_cosine_decay_follows_the_half_cosine() -> None:
    import math

    kwargs = {"max_steps": 20, "decay_start": 0.5, "min_lr_ratio": 0.1, "decay": "cosine"}
    for step in range(0, 25):
        progress = min(max(step - 10, 0) / 10, 1.0)
        expected = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
        assert lr_factor(step, **kwargs) == pytest.approx(expected)
    # warm-up still applies first
    assert lr_factor(0, warmup_steps=4, **kwargs) == 0.25
    with pytest.raises(ValueError, match="unknown learning-rate decay"):
        lr_factor(3, max_steps=10, decay="step")


def test_module_schedule_drives_both_optimisers() -> None:
    module = GANModule(
        TINY_RESNET,
        discriminator={"name": "patchgan", "width": 4, "depth": 1},
        lr_g=1e-3,
        lr_d=2e-3,
        max_steps=4,
        decay_start=0.5,
        min_lr_ratio=0.0,
    )
    optimizers, schedulers = module.configure_optimizers()
    seen = []
    for _ in range(4):
        seen += [opt.param_groups[0]["lr"] for opt in optimizers]
        for scheduler in schedulers:
            scheduler.step()
    # decay from step round(0.5 * 4) = 2: factor 1 at step 2, 1 - 1/2 at step 3
    assert seen == pytest.approx([1e-3, 2e-3, 1e-3, 2e-3, 1e-3, 2e-3, 5e-4, 1e-3])
    assert [tuple(opt.param_groups[0]["betas"]) for opt in optimizers] == [(0.5, 0.999)] * 2


def test_pad_to_multiple_reflects_and_keeps_the_original() -> None:
    image = torch.arange(2 * 3 * 5 * 6, dtype=torch.float32).view(2, 3, 5, 6)
    padded = pad_to_multiple(image, 4)
    assert padded.shape == (2, 3, 8, 8)
    torch.testing.assert_close(padded[..., :5, :6], image)
    torch.testing.assert_close(padded[..., 5, :6], image[..., 3, :])  # reflection about row 4
    assert pad_to_multiple(image, 1) is image
    tiny = torch.rand(1, 3, 2, 2)
    assert pad_to_multiple(tiny, 8).shape == (1, 3, 8, 8)  # too small to reflect: replicate


def test_step_sampler_is_a_function_of_the_step() -> None:
    steps = {"done": 0}
    sampler = StepBatchSampler(10, batch_size=3, seed=5, completed_steps=lambda: steps["done"])
    assert len(sampler) == 3  # 10 // 3, the last item of each epoch dropped
    run = []
    for _ in range(3):  # three epochs in a row
        for batch in sampler:
            run.append(batch)
            steps["done"] += 1
    epochs = [sorted(i for batch in run[e : e + 3] for i in batch) for e in (0, 3, 6)]
    assert all(len(set(e)) == 9 and set(e) <= set(range(10)) for e in epochs)
    assert run[0:3] != run[3:6]  # a new permutation each epoch
    for done in range(9):  # resuming after any step continues the same sequence
        steps["done"] = done
        assert next(iter(sampler)) == run[done]


def test_step_sampler_shards_ranks_and_checks_sizes() -> None:
    ranks = [list(StepBatchSampler(8, batch_size=2, seed=1, rank=r, world_size=2)) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 2
    for a, b in zip(*ranks, strict=True):
        assert not set(a) & set(b)
    with pytest.raises(ValueError, match="fewer than one batch"):
        StepBatchSampler(3, batch_size=2, world_size=2)
    with pytest.raises(ValueError, match="rank"):
        StepBatchSampler(8, batch_size=2, rank=2, world_size=2)
    assert list(StepBatchSampler(4, batch_size=2, shuffle=False)) == [[0, 1], [2, 3]]


def test_datamodule_builds_loaders(photo_dir) -> None:
    spec = {"name": "synthetic", "root": str(photo_dir), "crop_size": 32, "length": 4}
    spec["sampler"] = {"name": "trajectory", "kernel_size": 7}
    dm = DeblurDataModule(spec, val=spec, batch_size=2, val_batch_size=1)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["blurry"].shape == batch["sharp"].shape == (2, 3, 32, 32)
    assert len(batch["name"]) == 2
    assert len(dm.val_dataloader()) == 4
    assert DeblurDataModule(spec).val_dataloader() == []
    with pytest.raises(ValueError, match=r"data\.val"):
        DeblurDataModule(spec, val={"root": "x"})
    with pytest.raises(ValueError, match="num_workers"):
        DeblurDataModule(spec, num_workers=-1)


def test_module_hparams_are_plain_and_rebuild_it() -> None:
    module = GANModule(
        "resnet",
        discriminator="patchgan",
        adversarial={"name": "lsgan"},
        content={"l1": 1.0, "mse": {"weight": 0.5}},
        betas=(0.9, 0.99),
    )
    hp = dict(module.hparams)
    assert hp["generator"] == {"name": "resnet"}
    assert hp["discriminator"] == {"name": "patchgan"}
    assert hp["betas"] == [0.9, 0.99]
    clone = GANModule(**hp)
    assert type(clone.adversarial).__name__ == "LeastSquaresLoss"
    assert clone.content_loss.weights == {"l1": 1.0, "mse": 0.5}
    assert clone.optimizer_steps_per_batch == 2 and clone.completed_steps == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"generator": 3}, TypeError, "generator must be a registry name"),
        ({"generator": {"width": 4}}, ValueError, "needs a 'name'"),
        ({"generator": TINY_RESNET, "lr_g": -1.0}, ValueError, "lr_g"),
        ({"generator": TINY_RESNET, "betas": (0.5,)}, ValueError, "betas"),
        ({"generator": TINY_RESNET, "betas": (0.5, 1.0)}, ValueError, "betas"),
        ({"generator": TINY_RESNET, "max_steps": -5}, ValueError, "max_steps"),
        ({"generator": TINY_RESNET, "decay_start": 2.0}, ValueError, "decay_start"),
        ({"generator": TINY_RESNET, "decay": "exp"}, ValueError, "learning-rate decay"),
        ({"generator": TINY_RESNET, "grad_clip": float("nan")}, ValueError, "grad_clip"),
        ({"generator": TINY_RESNET, "content": [1.0]}, TypeError, "content"),
        ({"generator": TINY_RESNET, "discriminator": "nope"}, KeyError, "valid names"),
    ],
)
def test_module_rejects_bad_arguments(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        GANModule(**kwargs)


def test_validation_pads_to_the_generator_multiple() -> None:
    module = GANModule(
        {"name": "fpn_mobilenet", "width_mult": 0.25, "num_filters": 8, "num_filters_fpn": 16}
    ).eval()
    with torch.no_grad():
        restored = module._restore(torch.rand(1, 3, 40, 50))
    assert restored.shape == (1, 3, 40, 50)
    assert 0 <= float(restored.min()) and float(restored.max()) <= 1


def test_validation_and_deblur_eval_score_a_small_pair_the_same(tmp_path: Path) -> None:
    # One padding for both: a 4 px tall image is too short to reflect 4 rows (replicated) but
    # wide enough to reflect its 3 columns; the two used to pad it differently.
    from deblurgan.cli.main import main
    from deblurgan.io import write_image
    from deblurgan.models.weights import save_generator
    from deblurgan.training import GANModule

    torch.manual_seed(0)
    module = GANModule({"name": "lite_unet", "width": 4, "blocks": 1}).eval()
    with torch.no_grad():
        for parameter in module.generator.parameters():
            parameter.normal_(0, 0.3)  # not the identity: the padded border reaches the output
    blurry = torch.randint(0, 256, (1, 3, 4, 21)).float() / 255
    sharp = torch.randint(0, 256, (1, 3, 4, 21)).float() / 255
    with torch.inference_mode():
        validation = psnr(module._restore(blurry), sharp).mean().item()
    write_image(tmp_path / "data" / "blur" / "a.png", blurry[0])
    write_image(tmp_path / "data" / "sharp" / "a.png", sharp[0])
    model = save_generator(module.generator, tmp_path / "g.safetensors")
    out = tmp_path / "scores.json"
    argv = ["eval", "--data", str(tmp_path / "data"), "-m", str(model), "--metrics", "psnr"]
    assert main([*argv, "--device", "cpu", "--json", str(out), "-q"]) == 0
    scores = json.loads(out.read_text())["methods"]
    (evaluated,) = (row["psnr"] for name, row in scores.items() if name != "identity")
    assert evaluated == pytest.approx(validation, abs=1e-3)


def test_the_module_defaults_are_the_configs_defaults() -> None:
    # One source of defaults: a setting train.yaml leaves at its default must mean the same
    # when fit() or GANModule is called from Python without it.
    import inspect

    from omegaconf import OmegaConf

    from deblurgan.training import GANModule
    from deblurgan.training.cli import CONFIG_DIR

    optim = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "train.yaml"))["optim"]
    signature = inspect.signature(GANModule.__init__).parameters
    for key, value in optim.items():
        if key == "backbone_warmup":  # a callback's setting, read by fit (default 0 there too)
            assert value == 0
            continue
        default = signature[key].default
        assert (list(default) if isinstance(default, tuple) else default) == value, key
