"""benchmarks/lai_noise.py finds the noise a Lai-style folder carries: none, or the noise added."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.blur import blur_image
from script_loader import load_script

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "lai_noise.py"


def _lai(root: Path, noise: float) -> None:
    """Two pairs blurred by a kernel, plus Gaussian noise of std ``noise``, stored in 8 bits."""
    rng = np.random.default_rng(0)
    for folder in ("kernels", "sharp", "blur"):
        (root / folder).mkdir(parents=True)
    kernel = np.zeros((9, 9))
    kernel[4, 1:8] = 1.0
    kernel[3, 6] = 0.5  # a bent 7 px streak
    Image.fromarray((kernel / kernel.max() * 255).astype(np.uint8)).save(
        root / "kernels" / "kernel_02.png"
    )
    k = torch.from_numpy(kernel / kernel.sum())
    for i in range(2):
        sharp = rng.random((3, 64, 80)).repeat(2, axis=1).repeat(2, axis=2)  # some texture
        blurry = blur_image(torch.from_numpy(sharp)[None], k)[0].numpy()
        blurry = blurry + noise * rng.standard_normal(blurry.shape)
        for folder, image in (("sharp", sharp), ("blur", blurry)):
            array = (np.clip(image, 0, 1) * 255).round().astype(np.uint8).transpose(1, 2, 0)
            Image.fromarray(array).save(root / folder / f"p{i}_kernel_02.png")


def _run(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    script = load_script(SCRIPT, "lai_noise")
    out = tmp_path / f"{root.name}.json"
    assert script.main(["--root", str(root), "--json", str(out)]) == 0
    assert "8-bit rounding alone: 0.00113" in capsys.readouterr().out
    return json.loads(out.read_text())


def test_a_clean_set_shows_only_the_rounding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the blurry file's 8-bit rounding (0.00113), plus the sharp file's, mostly averaged by the blur
    rows = _run_set(tmp_path, 0.0, capsys)
    assert all(0.0010 < r["residual_std"] < 0.0018 for r in rows)
    assert all(r["shift"] == [0, 0] for r in rows)


def test_added_noise_is_measured(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _run_set(tmp_path, 0.01, capsys)
    assert all(0.009 < r["residual_std"] < 0.0115 for r in rows)


def _run_set(tmp_path: Path, noise: float, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    root = tmp_path / f"lai_{noise}"
    _lai(root, noise)
    return _run(root, tmp_path, capsys)["rows"]
