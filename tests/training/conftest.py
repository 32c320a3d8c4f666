"""Fixtures for the training tests: a folder of two small real photos and a tiny recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

SAMPLER = {"name": "trajectory", "kernel_size": 7}
TINY_FPN = {"name": "fpn_mobilenet", "width_mult": 0.25, "num_filters": 8, "num_filters_fpn": 16}
TINY_CRITIC = {"name": "patchgan", "width": 4, "depth": 2}


@pytest.fixture
def photo_dir(tmp_path: Path, photos: list[np.ndarray]) -> Path:
    """Two small real photos (64x64 and 60x80) in a folder."""
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(photos[0][::8, ::8]).save(folder / "astronaut.png")
    Image.fromarray(photos[1][::5, ::5][:60, :80]).save(folder / "chelsea.jpg", quality=95)
    return folder


def tiny_config(photo_dir: Path, run_dir: Path | None, **sections: Any) -> dict[str, Any]:
    """A complete fit() config: tiny FPN generator and critic, 32 px crops, a few GAN steps."""
    cfg: dict[str, Any] = {
        "generator": dict(TINY_FPN),
        "discriminator": dict(TINY_CRITIC),
        "adversarial": "ragan_ls",
        "content": {"l1": 1.0},
        "optim": {"lr_g": 1e-3, "lr_d": 1e-3, "adv_weight": 0.01, "warmup_steps": 1},
        "data": {
            "train": {
                "name": "synthetic",
                "root": str(photo_dir),
                "crop_size": 32,
                "length": 6,
                "sampler": SAMPLER,
            },
            "val": {
                "name": "synthetic",
                "root": str(photo_dir),
                "crop_size": 32,
                "length": 2,
                "seed": 7,
                "flip": False,
                "sampler": SAMPLER,
            },
            "batch_size": 2,
            "num_workers": 0,
        },
        "trainer": {
            "max_steps": 4,
            "val_every": 2,
            "checkpoint_every": 2,
            "log_every": 1,
            "num_sanity_val_steps": 0,
            "enable_progress_bar": False,
            "enable_model_summary": False,
        },
        "run_dir": None if run_dir is None else str(run_dir),
        "resume": None,
        "seed": 0,
    }
    for key, value in sections.items():
        # Network and loss specs are replaced whole; settings sections are merged.
        replace = key in ("generator", "discriminator", "adversarial", "content")
        if not replace and isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    return cfg


@pytest.fixture
def make_config(photo_dir: Path):
    """Factory ``make_config(run_dir, **sections)`` of tiny fit() configs on ``photo_dir``."""

    def factory(run_dir: Path | None, **sections: Any) -> dict[str, Any]:
        return tiny_config(photo_dir, run_dir, **sections)

    return factory


@pytest.fixture
def nafnet_run(tmp_path: Path, make_config) -> Path:
    """``last.ckpt`` of a one-step tiny nafnet run that recorded ``tlc: true`` (as the runs of
    the default model before 2026-12-06); its export is ``run/generator.safetensors``."""
    from deblurgan.training import fit

    generator = {
        "name": "nafnet",
        "width": 4,
        "enc_blocks": [1],
        "middle_blocks": 1,
        "dec_blocks": [1],
        "train_size": 16,
        "tlc": True,
    }
    cfg = make_config(tmp_path / "run", generator=generator)
    cfg["trainer"] = {**cfg["trainer"], "max_steps": 1, "val_every": 1}
    fit(cfg)
    return tmp_path / "run" / "checkpoints" / "last.ckpt"
