"""The training tricks end to end: n_critic, WGAN clipping, conditional critic, DiffAugment,
EMA, accumulation, mixed precision, multi-scale outputs, optimisers, exact resume of them all."""

from __future__ import annotations

import importlib
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

from deblurgan.models import load_generator
from deblurgan.training import GANModule, fit

fit_module = importlib.import_module("deblurgan.training.fit")

TINY_UNET = {"name": "lite_unet", "width": 4, "blocks": 1}


def _last(run_dir: Path) -> dict[str, Any]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)


def test_wgan_takes_n_critic_steps_clips_the_critic_and_uses_rmsprop(
    tmp_path: Path, make_config
) -> None:
    run_dir = tmp_path / "run"
    fit(
        make_config(
            run_dir,
            generator=TINY_UNET,
            adversarial={"name": "wgan", "clip_value": 0.01, "n_critic": 3},
            optim={"optimizer": "rmsprop", "lr_d": 5e-5, "lr_g": 5e-5},
            trainer={"max_steps": 2, "val_every": 2},
        )
    )
    state = _last(run_dir)
    # 3 critic + 1 generator optimiser steps per GAN step, and each loader batch fed all four.
    assert state["global_step"] == 8 and state["deblurgan"]["gan_step"] == 2
    critic = {k: v for k, v in state["state_dict"].items() if k.startswith("discriminator.")}
    assert critic and all(
        v.abs().max() <= 0.01 + 1e-7 for v in critic.values() if v.is_floating_point()
    )
    # The critic's optimiser state is RMSProp's (square_avg), not Adam's (exp_avg).
    assert all("square_avg" in s for s in state["optimizer_states"][1]["state"].values())


def test_module_splits_a_batch_into_n_critic_times_accumulate_micro_batches() -> None:
    module = GANModule(
        TINY_UNET,
        discriminator={"name": "patchgan", "width": 4, "depth": 2},
        adversarial={"name": "wgan_gp", "n_critic": 2},
        accumulate=3,
    )
    assert module.micro_batches == 6 and module.optimizer_steps_per_batch == 3
    with pytest.raises(ValueError, match="cannot be split into 6"):
        module._split(torch.rand(4, 3, 8, 8), torch.rand(4, 3, 8, 8))
    with pytest.raises(ValueError, match="unknown optimizer"):
        GANModule(TINY_UNET, optimizer="sgd")


def test_conditional_critic_sees_the_blurry_image(tmp_path: Path, make_config, monkeypatch) -> None:
    seen: list[tuple[int, int]] = []
    from deblurgan.models.discriminators.patchgan import PatchDiscriminator

    original = PatchDiscriminator.forward

    def spy(self, image, condition=None):
        seen.append((image.shape[1], -1 if condition is None else condition.shape[1]))
        return original(self, image, condition)

    monkeypatch.setattr(PatchDiscriminator, "forward", spy)
    fit(
        make_config(
            tmp_path / "run",
            generator=TINY_UNET,
            discriminator={"name": "patchgan", "width": 4, "depth": 2, "conditional": True},
            optim={"diffaugment": "color,translation,cutout"},
            trainer={"max_steps": 1, "val_every": 1},
        )
    )
    assert seen and all(pair == (3, 3) for pair in seen)


def test_ema_is_validated_and_exported(tmp_path: Path, make_config) -> None:
    run_dir = tmp_path / "run"
    exported = fit(
        make_config(
            run_dir,
            generator=TINY_UNET,
            optim={"ema_decay": 0.5},
            data={"val": None},
            trainer={"max_steps": 3},
        )
    )
    state = _last(run_dir)["state_dict"]
    ema = {k.removeprefix("generator_ema."): v for k, v in state.items() if "generator_ema." in k}
    live = {k.removeprefix("generator."): v for k, v in state.items() if k.startswith("generator.")}
    assert ema.keys() == live.keys()
    assert any(not torch.equal(ema[k], live[k]) for k in ema)  # an average, not a copy
    model = load_generator(exported)
    assert model.checkpoint_meta["ema"] is True
    for key, value in model.state_dict().items():
        assert torch.equal(value, ema[key]), key


def test_ema_is_the_running_average_of_the_weights() -> None:
    module = GANModule(TINY_UNET, ema_decay=0.75)
    assert module.generator_ema is not None
    before = [p.detach().clone() for p in module.generator_ema.parameters()]
    with torch.no_grad():
        for p in module.generator.parameters():
            p.add_(1.0)
    module._update_ema(5000)
    for old, new, live in zip(
        before, module.generator_ema.parameters(), module.generator.parameters(), strict=True
    ):
        torch.testing.assert_close(new, 0.75 * old + 0.25 * live)


def test_a_fit_hides_lightnings_warning_about_the_weight_average(
    tmp_path: Path, make_config
) -> None:
    config = make_config(
        tmp_path / "run",
        generator=TINY_UNET,
        optim={"ema_decay": 0.9},
        data={"val": None},
        trainer={"max_steps": 1},
    )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit(config)
    messages = [str(w.message) for w in seen]
    assert not [m for m in messages if "in eval mode" in m or "LeafSpec" in m], messages


def test_the_eval_mode_warning_stays_for_other_modules() -> None:
    module = GANModule(TINY_UNET, ema_decay=0.9)
    message = "Found 3 module(s) in eval mode at the start of training."
    for frozen, shown in ((False, 0), (True, 1)):
        if frozen:
            module.generator.eval()  # a user's module in eval mode: the warning is theirs
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fit_module._quiet_known_warnings(module)
            warnings.warn(message, UserWarning, stacklevel=1)
        assert len(seen) == shown


@pytest.mark.parametrize(("step", "decay"), [(0, 0.1), (8, 0.5), (890, 0.99), (20_000, 0.999)])
def test_ema_warmup_raises_the_decay_with_the_steps(step: int, decay: float) -> None:
    module = GANModule(TINY_UNET, ema_decay=0.999, ema_warmup=True)
    assert module.generator_ema is not None
    before = [p.detach().clone() for p in module.generator_ema.parameters()]
    with torch.no_grad():
        for p in module.generator.parameters():
            p.add_(1.0)
    module._update_ema(step)
    for old, new, live in zip(
        before, module.generator_ema.parameters(), module.generator.parameters(), strict=True
    ):
        torch.testing.assert_close(new, decay * old + (1 - decay) * live)


def test_ema_warmup_is_an_optim_setting(tmp_path: Path, make_config) -> None:
    run_dir = tmp_path / "run"
    config = make_config(
        run_dir,
        generator=TINY_UNET,
        optim={"ema_decay": 0.999, "ema_warmup": True},
        data={"val": None},
        trainer={"max_steps": 2},
    )
    fit(config)
    hparams = _last(run_dir)["hyper_parameters"]
    assert hparams["ema_decay"] == 0.999 and hparams["ema_warmup"] is True
    with pytest.raises(TypeError, match="ema_warmup must be true or false, got 'yes'"):
        GANModule(TINY_UNET, ema_decay=0.999, ema_warmup="yes")  # type: ignore[arg-type]


def test_accumulation_matches_one_big_batch() -> None:
    """Two micro-batches of 2 give the update of one batch of 4 (content loss, SGD-free Adam)."""
    torch.manual_seed(0)
    blurry, sharp = torch.rand(4, 3, 16, 16), torch.rand(4, 3, 16, 16)
    grads = []
    for accumulate in (1, 2):
        torch.manual_seed(1)
        module = GANModule(TINY_UNET, accumulate=accumulate)
        module.generator.tail.weight.data.normal_(0, 0.1)  # leave the identity start
        total = torch.zeros(())
        for part_blurry, part_sharp in module._split(blurry, sharp):
            content, _ = module.content_loss(module.generator(part_blurry), part_sharp)
            (content / accumulate).backward()
            total += content.detach() / accumulate
        grads.append([p.grad.clone() for p in module.generator.parameters()])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_multiscale_generator_is_trained_on_every_output(
    tmp_path: Path, make_config, monkeypatch
) -> None:
    from deblurgan.losses import WeightedLoss

    shapes: list[list[int]] = []
    original = WeightedLoss.forward

    def spy(self, restored, sharp):
        outputs = restored if isinstance(restored, list | tuple) else [restored]
        shapes.append([o.shape[-1] for o in outputs])
        return original(self, restored, sharp)

    monkeypatch.setattr(WeightedLoss, "forward", spy)
    fit(
        make_config(
            tmp_path / "run",
            generator={"name": "mimo_unet", "width": 4, "num_res": 1, "multi_output": True},
            content={"l1": 1.0, "fft": 0.1},
            data={"val": None},
            trainer={"max_steps": 1},
        )
    )
    assert shapes == [[8, 16, 32]]  # 1/4, 1/2 and full scale of the 32 px crops


@pytest.mark.parametrize("adversarial", ["ragan_ls", {"name": "wgan_gp", "n_critic": 2}])
def test_bf16_mixed_precision_trains_on_cpu(tmp_path: Path, make_config, adversarial) -> None:
    run_dir = tmp_path / "run"
    fit(
        make_config(
            run_dir,
            generator=TINY_UNET,
            adversarial=adversarial,
            trainer={"max_steps": 2, "precision": "bf16-mixed"},
            data={"val": None},
        )
    )
    state = _last(run_dir)
    assert state["deblurgan"]["gan_step"] == 2
    assert all(
        torch.isfinite(v).all() for v in state["state_dict"].values() if v.is_floating_point()
    )


@pytest.mark.parametrize(
    "recipe",
    [
        pytest.param(
            {
                "adversarial": {"name": "wgan_gp", "n_critic": 2},
                "optim": {"ema_decay": 0.9, "diffaugment": "color,translation,cutout"},
                "discriminator": {"name": "patchgan", "width": 4, "depth": 2, "conditional": True},
            },
            id="wgan_gp-n_critic-ema-diffaugment-conditional",
        ),
        pytest.param(
            {
                "adversarial": {"name": "ragan_ls", "pool_size": 3},
                "trainer": {"accumulate_grad_batches": 2},
                "optim": {"grad_clip": 1.0, "optimizer": "adamw"},
            },
            id="ragan_ls-pool-accumulation-clip",
        ),
    ],
)
def test_resume_is_exact_with_every_trick(
    tmp_path: Path, make_config, monkeypatch: pytest.MonkeyPatch, recipe: dict[str, Any]
) -> None:
    """4 steps in one go and 2 + resume + 2 give the same weights, optimisers and pool."""
    sections = {"generator": TINY_UNET, **recipe}
    sections["trainer"] = {"val_every": 3, **recipe.get("trainer", {})}
    snapshot = tmp_path / "step2.ckpt"
    original = fit_module._LastCheckpoint.on_train_batch_end

    def keep_step_two(self, trainer, module, *args):
        original(self, trainer, module, *args)
        if module.completed_steps == 2 and not snapshot.exists():
            shutil.copy(self.dirpath / "last.ckpt", snapshot)

    monkeypatch.setattr(fit_module._LastCheckpoint, "on_train_batch_end", keep_step_two)
    straight = tmp_path / "straight"
    fit(make_config(straight, **sections))
    monkeypatch.undo()
    resumed = tmp_path / "resumed"
    fit(make_config(resumed, **sections, resume=str(snapshot)))

    a, b = _last(straight), _last(resumed)
    assert a["global_step"] == b["global_step"]
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"], strict=True):
        for index, slot in opt_a["state"].items():
            for name, value in slot.items():
                assert torch.equal(
                    torch.as_tensor(value), torch.as_tensor(opt_b["state"][index][name])
                )
    pool_a = a["deblurgan"].get("adversarial", {})
    pool_b = b["deblurgan"].get("adversarial", {})
    assert repr(pool_a.keys()) == repr(pool_b.keys())
