"""scripts/make_demo_video.py: a tiny demo from the shipped photos goes through deblur video."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from deblurgan.cli.main import main
from deblurgan.io.video import probe_video
from deblurgan.models import build_generator, save_generator

ROOT = Path(__file__).parents[2]
av = pytest.importorskip("av")


def test_demo_video_is_deblurred_with_its_sound(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_demo_video", ROOT / "scripts" / "make_demo_video.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    demo = tmp_path / "demo.mp4"
    args = [str(ROOT / "examples"), str(demo), "--size", "64x36", "--seconds", "0.12"]
    assert script.main([*args, "--subframes", "3"]) == 0
    info = probe_video(demo)
    assert (info.width, info.height, info.frames, info.audio_streams) == (64, 36, 12, 1)
    model = tmp_path / "tiny.safetensors"
    torch.manual_seed(0)
    save_generator(build_generator({"name": "resnet", "width": 4, "n_blocks": 1}), model)
    out = tmp_path / "out.mp4"
    assert (
        main(["video", str(demo), "-o", str(out), "-m", str(model), "--device", "cpu", "-q"]) == 0
    )
    restored = probe_video(out)
    assert (restored.frames, restored.audio_streams) == (12, 1)
