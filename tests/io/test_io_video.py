"""Video streaming with PyAV on tiny videos written here: timing, sound, orientation, failures."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import torch

from deblurgan.io.video import VideoError, is_video_path, probe_video, transform_video
from video_helpers import write_test_video

av = pytest.importorskip("av")


def _times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(frame.time) for frame in container.decode(video=0)]


def _audio_payloads(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def _frames(path: Path) -> torch.Tensor:
    with av.open(str(path)) as container:
        arrays = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return torch.from_numpy(__import__("numpy").stack(arrays)).float() / 255


def test_identity_keeps_frames_rate_size_and_copies_audio(tmp_path: Path) -> None:
    source = write_test_video(tmp_path / "in.mp4", frames=6, audio=True)
    result = transform_video(source, tmp_path / "out.mp4", lambda x: x)
    info = probe_video(result.path)
    assert (result.frames, info.frames, info.width, info.height) == (6, 6, 64, 48)
    assert info.rate == Fraction(25) and info.audio_streams == 1 and not result.padded
    assert _audio_payloads(result.path) == _audio_payloads(source)  # remuxed, not re-encoded
    assert _times(result.path) == pytest.approx(_times(source))
    # crf 18 H.264 twice: close to the input, not bit-exact
    assert (_frames(result.path) - _frames(source)).abs().mean() < 0.02


def test_transform_sees_batches_and_its_output_is_written(tmp_path: Path) -> None:
    source = write_test_video(tmp_path / "in.mkv", frames=5)
    sizes: list[int] = []

    def invert(batch: torch.Tensor) -> torch.Tensor:
        sizes.append(batch.shape[0])
        return 1 - batch

    result = transform_video(source, tmp_path / "out.mkv", invert, batch_size=2)
    assert sizes == [2, 2, 1] and result.frames == 5
    assert (_frames(result.path) - (1 - _frames(source))).abs().mean() < 0.02


def test_variable_frame_rate_keeps_each_timestamp(tmp_path: Path) -> None:
    times = [0.0, 0.04, 0.2, 0.21, 0.5]
    source = write_test_video(tmp_path / "vfr.mkv", times=times)
    result = transform_video(source, tmp_path / "out.mp4", lambda x: x)
    assert _times(result.path) == pytest.approx(times, abs=1e-3)


def test_rotation_metadata_is_kept(tmp_path: Path) -> None:
    source = write_test_video(tmp_path / "portrait.mp4", rotation=90)
    result = transform_video(source, tmp_path / "out.mp4", lambda x: x)
    assert probe_video(result.path).rotation == 90


def test_odd_size_padded_to_even_or_kept_in_444(tmp_path: Path) -> None:
    source = write_test_video(tmp_path / "odd.mp4", size=(65, 49))
    padded = transform_video(source, tmp_path / "a.mp4", lambda x: x)
    assert padded.padded and (probe_video(padded.path).width, probe_video(padded.path).height) == (
        66,
        50,
    )
    frames = _frames(padded.path)
    # the added column repeats the last one
    assert (frames[:, :, 65] - frames[:, :, 64]).abs().max() < 0.05
    exact = transform_video(source, tmp_path / "b.mp4", lambda x: x, pixel_format="yuv444p")
    info = probe_video(exact.path)
    assert not exact.padded and (info.width, info.height) == (65, 49)


def test_interrupted_run_leaves_nothing(tmp_path: Path) -> None:
    source = write_test_video(tmp_path / "in.mp4", frames=4, audio=True)
    calls = 0

    def fail_later(batch: torch.Tensor) -> torch.Tensor:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return batch

    with pytest.raises(KeyboardInterrupt):
        transform_video(source, tmp_path / "out" / "o.mp4", fail_later)
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p.write_text("not a video\n" * 50), "not a video file FFmpeg can read"),
        (lambda p: p.write_bytes(b""), "not a video file FFmpeg can read"),
        (lambda p: None, "no such file"),
    ],
    ids=["text", "empty", "missing"],
)
def test_bad_inputs_are_one_line(tmp_path: Path, make, problem: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.mp4"
    make(path)
    with pytest.raises(VideoError, match=problem) as info:
        transform_video(path, tmp_path / "out.mp4", lambda x: x)
    assert "\n" not in str(info.value) and str(info.value).startswith(str(path))
    assert not (tmp_path / "out.mp4").exists()


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w", format="mp4") as container:
        sound = container.add_stream("aac", rate=8000)
        block = av.AudioFrame.from_ndarray(
            torch.zeros(1, 1024).numpy(), format="fltp", layout="mono"
        )
        block.sample_rate, block.pts = 8000, 0
        for packet in [*sound.encode(block), *sound.encode()]:
            container.mux(packet)
    with pytest.raises(VideoError, match=r"no video stream in this file \(it holds audio"):
        probe_video(path)


def test_image_is_refused(tmp_path: Path) -> None:
    from deblurgan.io import write_image

    path = write_image(tmp_path / "photo.png", torch.rand(3, 8, 8))
    with pytest.raises(VideoError, match="is an image"):
        probe_video(path)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_truncated_file_is_one_line_and_writes_nothing(tmp_path: Path, suffix: str) -> None:
    source = write_test_video(tmp_path / f"in{suffix}", frames=30, audio=True)
    data = source.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match="truncated") as info:
        transform_video(cut, tmp_path / "out.mp4", lambda x: x)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, cut.name])


def test_unwritable_extension_and_names() -> None:
    assert is_video_path("a.MKV") and not is_video_path("a.png")
    with pytest.raises(VideoError, match=r"cannot write \.gif videos"):
        transform_video(None, "x.gif", lambda x: x, frames=iter([]))
