"""Frame averaging (the GoPro recipe): windows, linear-light means, and pairs from a real video."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from deblurgan.blur import average_frames, frame_pairs, read_video_frames, video_pairs


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _square_frames(count: int, size: int = 64) -> list[np.ndarray]:
    """A white square moving 2 px per frame over a dark gradient, uint8 HxWx3."""
    base = np.tile(np.linspace(20, 90, size, dtype=np.uint8), (size, 1))
    frames = []
    for i in range(count):
        frame = np.stack([base, base, base], axis=-1).copy()
        frame[20:36, 4 + 2 * i : 20 + 2 * i] = (250, 200, 40)
        frames.append(frame)
    return frames


def _write_video(path: Path, frames: list[np.ndarray], codec: str = "mpeg4") -> Path:
    av = pytest.importorskip("av")  # only the tests that write videos need PyAV
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for array in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _decode(path: Path) -> list[torch.Tensor]:
    """Reference decode, straight through PyAV."""
    av = pytest.importorskip("av")
    with av.open(str(path)) as container:
        return [
            torch.from_numpy(f.to_ndarray(format="rgb24")).permute(2, 0, 1).float() / 255
            for f in container.decode(video=0)
        ]


def test_average_frames_in_linear_light_and_encoded() -> None:
    frames = torch.rand(5, 3, 6, 7, generator=_gen(0), dtype=torch.float64)
    blurry, sharp = average_frames(frames, gamma=None)
    torch.testing.assert_close(blurry, frames.mean(0))
    assert sharp is frames[2] or torch.equal(sharp, frames[2])
    x = frames.numpy()
    light = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).mean(0)
    expected = np.where(light <= 0.0031308, 12.92 * light, 1.055 * light ** (1 / 2.4) - 0.055)
    np.testing.assert_allclose(average_frames(frames)[0].numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(
        average_frames(frames, gamma=2.2)[0].numpy(), (x**2.2).mean(0) ** (1 / 2.2), atol=1e-12
    )
    with pytest.raises(ValueError, match="odd"):
        average_frames(frames[:4])


def test_frame_windows_and_strides() -> None:
    stream = [torch.full((3, 2, 2), i / 32) for i in range(20)]
    pairs = list(frame_pairs(stream, num_frames=5, gamma=None))
    assert [(p.start, p.middle) for p in pairs] == [(0, 2), (5, 7), (10, 12), (15, 17)]
    assert all(float(p.blurry.mean()) == pytest.approx(p.middle / 32) for p in pairs)
    strided = list(frame_pairs(iter(stream), num_frames=3, stride=7, gamma=None))
    assert [p.start for p in strided] == [0, 7, 14]
    overlapping = list(frame_pairs(iter(stream), num_frames=5, stride=2, gamma=None))
    assert [p.start for p in overlapping] == list(range(0, 16, 2))
    drawn = list(frame_pairs(iter(stream * 3), num_frames=(3, 9), gamma=None, generator=_gen(1)))
    counts = [p.num_frames for p in drawn]
    assert all(n % 2 == 1 and 3 <= n <= 9 for n in counts) and len(set(counts)) > 1
    assert [p.start for p in drawn[1:]] == list(np.cumsum(counts)[:-1])


def test_frame_pairs_reject_bad_settings_and_frames() -> None:
    stream = [torch.zeros(3, 4, 4)] * 5
    with pytest.raises(TypeError, match="Generator"):
        frame_pairs(stream, num_frames=(3, 5))
    with pytest.raises(ValueError, match="odd"):
        frame_pairs(stream, num_frames=4)
    with pytest.raises(ValueError, match="stride"):
        frame_pairs(stream, num_frames=3, stride=0)
    mixed = [torch.zeros(3, 4, 4), torch.zeros(3, 4, 5), torch.zeros(3, 4, 4)]
    with pytest.raises(ValueError, match="same size"):
        list(frame_pairs(mixed, num_frames=3))


def test_video_pairs_average_decoded_frames(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "clip.mp4", _square_frames(30))
    decoded = _decode(video)
    assert len(decoded) == 30
    pairs = list(video_pairs(video, num_frames=5, gamma=None))
    assert len(pairs) == 6
    for pair in pairs:
        assert pair.blurry.shape == pair.sharp.shape == (3, 64, 64)
        assert torch.equal(pair.sharp, decoded[pair.middle])
        window = torch.stack(decoded[pair.start : pair.start + 5])
        torch.testing.assert_close(pair.blurry, window.mean(0), atol=1e-6, rtol=0)
    # The square moves 2 px a frame: columns 12-19 are covered in all 5 frames of window 0,
    # columns 4-11 only in some (a smeared edge), column 40 never.
    red = pairs[0].blurry[0, 28]
    assert (red[12:20] > 0.9).all()
    assert (red[5:11] < red[12:20].min() - 0.05).all()
    assert abs(float(red[40]) - float(decoded[0][0, 28, 40])) < 0.03


def test_video_pairs_with_a_random_window_length(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "clip.mp4", _square_frames(30))
    pairs = list(video_pairs(video, num_frames=(3, 7), generator=_gen(0)))
    assert pairs and sum(p.num_frames for p in pairs) <= 30
    again = list(video_pairs(video, num_frames=(3, 7), generator=_gen(0)))
    assert [p.start for p in pairs] == [p.start for p in again]
    assert all(torch.equal(a.blurry, b.blurry) for a, b in zip(pairs, again, strict=True))


def test_bad_videos_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such video"):
        video_pairs(tmp_path / "missing.mp4", num_frames=3)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 20)
    with pytest.raises(ValueError, match=r"junk\.mp4: cannot read video"):
        list(read_video_frames(junk))


def test_missing_pyav_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(ImportError, match=r"deblurgan\[video\]"):
        video_pairs(tmp_path / "clip.mp4", num_frames=3)
