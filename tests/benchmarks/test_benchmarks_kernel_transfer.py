"""benchmarks/kernel_transfer.py runs end to end on a tiny Lai-style folder and a tiny model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.models import build_generator, save_generator
from script_loader import load_script

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "kernel_transfer.py"


def test_prints_the_six_ways_per_kernel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = load_script(SCRIPT, "kernel_transfer")
    rng = np.random.default_rng(0)
    root = tmp_path / "lai"
    for folder in ("kernels", "sharp", "blur"):
        (root / folder).mkdir(parents=True)
    kernel = np.zeros((9, 9), np.uint8)
    kernel[4, 1:8] = 255  # a 6 px streak
    Image.fromarray(kernel).save(root / "kernels" / "kernel_01.png")
    for i in range(2):
        sharp = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
        Image.fromarray(sharp).save(root / "sharp" / f"p{i}_kernel_01.png")
    torch.manual_seed(0)
    model = save_generator(
        build_generator({"name": "resnet", "width": 4, "n_blocks": 1}), tmp_path / "m.safetensors"
    )
    args = [str(model), "--lai", str(root), "--kernels", "1", "--photos", "2", "--shift", "2"]
    assert script.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    ways = ["lai", "walk", "smooth", "gamma", "linear", "pipeline"]
    assert lines[1].split() == ["kernel", "extent", *ways]
    name, extent, *gains = lines[2].split()
    assert name == "kernel_01" and extent == "6"  # the streak's measured extent
    assert len(gains) == 6 and all(math.isfinite(float(g)) for g in gains)
    assert lines[3].startswith("mean")
