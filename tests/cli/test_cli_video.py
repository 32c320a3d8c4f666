"""``deblur video`` and ``deblur IN.mp4`` through ``main(argv)`` on tiny videos written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deblurgan.cli.main import main
from deblurgan.inference import Deblurrer
from deblurgan.io.video import probe_video
from deblurgan.models import build_generator, load_generator, save_generator
from video_helpers import write_test_video

av = pytest.importorskip("av")
TINY = {"name": "fpn_mobilenet", "width_mult": 0.25, "num_filters": 8, "num_filters_fpn": 16}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    return str(save_generator(build_generator(TINY), path))


def _frames(path: Path) -> torch.Tensor:
    with av.open(str(path)) as container:
        arrays = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 255


def test_video_is_restored_with_sound(tmp_path: Path, checkpoint: str) -> None:
    source = write_test_video(tmp_path / "clip.mp4", frames=4, audio=True)
    out = tmp_path / "out.mkv"
    code = main(["video", str(source), "-o", str(out), "-m", checkpoint, "--device", "cpu", "-q"])
    assert code == 0
    info = probe_video(out)
    assert (info.width, info.height, info.audio_streams) == (64, 48, 1)
    model = Deblurrer(load_generator(checkpoint), device="cpu")
    expected = model(_frames(source))
    got = _frames(out)
    assert got.shape == expected.shape
    # the model's output, through one more H.264 encoding at crf 18
    assert (got - expected).abs().mean() < 0.02
    assert (got - _frames(source)).abs().mean() > 2 * (got - expected).abs().mean()


def test_plain_deblur_dispatches_videos_and_names_the_output(
    tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_test_video(tmp_path / "clip.mov", frames=3)
    assert main([str(source), "-m", checkpoint, "--device", "cpu", "--compare"]) == 0
    out = tmp_path / "clip_deblurred.mov"
    assert probe_video(out).width == 128  # input | output
    assert "3 frames restored" in capsys.readouterr().out
    # an existing output is kept without --force, and the input is never written
    assert main([str(source), "-m", checkpoint, "--device", "cpu", "-q"]) == 1
    assert "exists (use --force" in capsys.readouterr().err
    before = source.read_bytes()
    code = main(["video", str(source), "-o", str(source), "-m", checkpoint, "--force", "-q"])
    assert code == 1 and "is the input" in capsys.readouterr().err
    assert source.read_bytes() == before


def test_odd_size_says_it_pads(
    tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_test_video(tmp_path / "odd.mp4", frames=2, size=(33, 25))
    assert main(["video", str(source), "-m", checkpoint, "--device", "cpu"]) == 0
    assert "33x25 is odd" in capsys.readouterr().err
    info = probe_video(tmp_path / "odd_deblurred.mp4")
    assert (info.width, info.height) == (34, 26)


def test_bad_videos_are_one_line(
    tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("hello\n" * 100)
    assert main(["video", str(text), "-m", checkpoint, "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"deblur: error: {text}: not a video file")
    full = write_test_video(tmp_path / "full.mp4", frames=30)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    assert main(["video", str(cut), "-o", str(tmp_path / "o.mp4"), "-m", checkpoint, "-q"]) == 1
    assert "truncated" in capsys.readouterr().err and not (tmp_path / "o.mp4").exists()


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_test_video(tmp_path / "clip.mp4", frames=2)
    image = tmp_path / "a.png"
    image.write_bytes(b"")
    assert main([str(source), str(image)]) == 2
    assert "give videos one at a time" in capsys.readouterr().err
    assert main(["video", str(source), "-o", str(tmp_path / "x.gif")]) == 2
    assert main(["video", str(source), "--crf", "52"]) == 2


def test_auto_backend_exports_a_long_video_and_falls_back_to_eager(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    auto_onnx_lite_unet: str,
) -> None:
    checkpoint = auto_onnx_lite_unet
    source = write_test_video(tmp_path / "clip.mp4", frames=30, size=(32, 24))
    argv = ["video", str(source), "-m", checkpoint, "--device", "cpu", "--crf", "0"]
    assert main([*argv, "-o", str(tmp_path / "onnx.mkv")]) == 0
    assert "backend onnxruntime" in capsys.readouterr().err  # enough work to repay the export
    assert main([*argv, "-o", str(tmp_path / "eager.mkv"), "--backend", "eager"]) == 0
    capsys.readouterr()
    onnx, eager = _frames(tmp_path / "onnx.mkv"), _frames(tmp_path / "eager.mkv")
    assert (onnx - eager).abs().max() <= 2 / 255  # the same frames, to the encoder's rounding

    def no_export(model: object, backend: str = "eager", **kwargs: object) -> object:
        if backend == "onnxruntime":
            raise RuntimeError("Unsupported: an operator ONNX cannot express")
        return prepare(model, backend, **kwargs)

    import deblurgan.inference.backends as backends

    prepare = backends.prepare_model
    monkeypatch.setattr(backends, "prepare_model", no_export)
    assert main([*argv, "-o", str(tmp_path / "fallback.mkv")]) == 0
    err = capsys.readouterr().err
    assert "onnxruntime unavailable" in err and "backend eager" in err
    short = write_test_video(tmp_path / "short.mp4", frames=3, size=(32, 24))
    out = str(tmp_path / "s.mkv")
    assert main(["video", str(short), "-m", checkpoint, "--device", "cpu", "-o", out]) == 0
    assert "backend eager" in capsys.readouterr().err  # a short clip does not pay for an export
