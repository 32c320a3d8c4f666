"""Every experiment preset composes through Hydra and trains one step at tiny width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from PIL import Image

from deblurgan.training import fit
from deblurgan.training.cli import CONFIG_DIR, train_main
from script_loader import load_script


def _tiny_settings() -> dict[str, dict[str, Any]]:
    module = load_script(Path(__file__).parents[1] / "models" / "tiny_settings.py", "tiny_settings")
    return module.TINY


TINY = _tiny_settings()

PRESETS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


def test_every_recipe_of_the_founding_documents_has_a_preset() -> None:
    assert set(PRESETS) >= {
        "deblurgan",
        "deblurganv2_mobilenet",
        "deblurganv2_inception",
        "deblurganv2_mobilenet_dsc",
        "mimo_unet_pure_gan",
        "pix2pix_attention",
        "lpips_diffaug",
    }


@pytest.fixture(scope="module")
def big_photo_dir(tmp_path_factory: pytest.TempPathFactory, photos: list[np.ndarray]) -> Path:
    folder = tmp_path_factory.mktemp("presets")
    for index, photo in enumerate(photos[:2]):
        Image.fromarray(photo[:200, :200]).save(folder / f"photo{index}.png")
    return folder


def _compose(name: str, overrides: list[str]) -> dict[str, Any]:
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"experiment={name}", *overrides])
    container = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(container, dict)
    container.pop("hydra", None)
    return container


# lpips_diffaug's step builds VGG16 LPIPS and takes about 35 s on 2 cores: the slow tier (CI).
SLOW_PRESETS = {"lpips_diffaug"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_PRESETS else n for n in PRESETS]
)
def test_preset_trains_one_step_at_tiny_width(
    name: str, big_photo_dir: Path, tmp_path: Path
) -> None:
    cfg = _compose(name, [f"data.root={big_photo_dir}", "data.num_workers=0"])
    generator = cfg["generator"]["name"]
    cfg["generator"] = {**cfg["generator"], **TINY[generator]}
    cfg["discriminator"] = {**cfg["discriminator"], "width": 4}
    cfg["data"].update(crop_size=128, batch_size=1)
    cfg["trainer"].update(
        fast_dev_run=1, accelerator="cpu", devices=1, enable_progress_bar=False,
        enable_model_summary=False,
    )  # fmt: skip
    if cfg["trainer"]["precision"] == "16-mixed":  # fp16 autocast is a GPU feature
        cfg["trainer"]["precision"] = "bf16-mixed"
    cfg["run_dir"] = str(tmp_path / "run")
    exported = fit(cfg)
    assert exported.is_file()


def test_presets_keep_their_published_settings() -> None:
    v2 = _compose("deblurganv2_mobilenet", ["data.root=x"])
    assert v2["generator"]["name"] == "fpn_mobilenet"
    assert v2["discriminator"]["name"] == "double_scale"
    assert v2["adversarial"]["name"] == "ragan_ls"
    assert v2["optim"]["adv_weight"] == 0.01
    assert {k: v["weight"] if isinstance(v, dict) else v for k, v in v2["content"].items()} == {
        "mse": 0.5,
        "perceptual": 0.006,
    }
    v1 = _compose("deblurgan", ["data.root=x"])
    assert v1["adversarial"]["name"] == "wgan_gp" and v1["adversarial"]["n_critic"] == 5
    assert v1["content"]["perceptual"]["weight"] == 100
    mimo = _compose("mimo_unet_pure_gan", ["data.root=x", "adversarial=wgan_gp"])
    assert mimo["adversarial"]["name"] == "wgan_gp"
    assert mimo["discriminator"]["conditional"] is True


def test_deblur_train_takes_an_experiment_name(big_photo_dir: Path, tmp_path: Path) -> None:
    code = train_main(
        [
            "experiment=mimo_unet_pure_gan",
            f"data.root={big_photo_dir}",
            "data.num_workers=0",
            "data.crop_size=64",
            "generator.width=4",
            "generator.num_res=1",
            "discriminator.width=4",
            "trainer.fast_dev_run=1",
            "trainer.accelerator=cpu",
            "trainer.enable_progress_bar=false",
            f"run_dir={tmp_path / 'run'}",
        ]
    )
    assert code == 0
    assert (tmp_path / "run" / "generator.safetensors").is_file()
