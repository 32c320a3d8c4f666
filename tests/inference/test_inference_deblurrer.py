"""Deblurrer: padding, tiling with blending (against the untiled result), batches, precision."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from deblurgan.inference import Deblurrer
from deblurgan.inference.deblurrer import blend_window, pad_to_multiple, tile_starts


class Pointwise(nn.Module):
    """A 1x1 convolution and a sigmoid: no spatial context at all."""

    size_multiple = 1

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.conv(x))


class ThreeConvs(nn.Module):
    """Three 3x3 zero-padded convolutions: receptive-field radius 3, so tile borders matter."""

    size_multiple = 1

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 3, 3, padding=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return (x + 0.5 * torch.tanh(self.body(x))).clamp(0, 1)


class Recorder(nn.Module):
    """Identity that checks the size multiple and records every input it sees."""

    def __init__(self, size_multiple: int) -> None:
        super().__init__()
        self.size_multiple = size_multiple
        self.shapes: list[tuple[int, ...]] = []
        self.threads: list[int] = []
        self.inference: list[bool] = []

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] % self.size_multiple or x.shape[-2] % self.size_multiple:
            raise RuntimeError(f"input {tuple(x.shape)} not padded to {self.size_multiple}")
        self.shapes.append(tuple(x.shape))
        self.threads.append(torch.get_num_threads())
        self.inference.append(torch.is_inference_mode_enabled())
        return x.clone()


class Downsampling(nn.Module):
    """Pool by 8 and upsample back plus a residual: only works on multiples of 8."""

    size_multiple = 8

    def forward(self, x: Tensor) -> Tensor:
        coarse = nn.functional.avg_pool2d(x, 8)
        return (0.5 * x + 0.5 * nn.functional.interpolate(coarse, scale_factor=8.0)).clamp(0, 1)


def test_pointwise_model_tiled_equals_untiled(make_image) -> None:
    model = Pointwise()
    blurry = make_image(2, 97, 130, seed=1)
    whole = Deblurrer(model, device="cpu", tile_size=256)(blurry)
    tiled = Deblurrer(model, device="cpu", tile_size=32, tile_overlap=8)(blurry)
    assert tiled.shape == blurry.shape
    torch.testing.assert_close(tiled, whole, atol=1e-6, rtol=0)
    # and both equal the model run directly
    torch.testing.assert_close(whole, model(blurry).detach(), atol=1e-6, rtol=0)


def test_receptive_field_model_exact_when_overlap_covers_it(make_image) -> None:
    # the dead zone (a quarter of the overlap, 4 px) covers the receptive-field radius (3 px)
    model = ThreeConvs()
    blurry = make_image(1, 96, 110, seed=2)
    whole = Deblurrer(model, device="cpu", tile_size=512)(blurry)
    tiled = Deblurrer(model, device="cpu", tile_size=40, tile_overlap=16)(blurry)
    assert (tiled - whole).abs().max() < 1e-5


def _border_mask(starts: list[int], tile: int, length: int, band: int) -> Tensor:
    """True within ``band`` pixels of an inner tile edge."""
    mask = torch.zeros(length, dtype=torch.bool)
    for start in starts:
        for edge in (start, start + tile):
            if 0 < edge < length:
                mask[max(edge - band, 0) : edge + band] = True
    return mask


def test_receptive_field_model_blends_without_seams(make_image) -> None:
    model = ThreeConvs()
    blurry = make_image(1, 96, 96, seed=3)
    whole = Deblurrer(model, device="cpu", tile_size=512)(blurry)
    blended = Deblurrer(model, device="cpu", tile_size=32, tile_overlap=4)(blurry)
    hard = Deblurrer(model, device="cpu", tile_size=32, tile_overlap=0)(blurry)

    starts = tile_starts(96, 32, 4)
    near = _border_mask(starts, 32, 96, band=4)
    border = near[:, None] | near[None, :]  # (H, W) pixels near an inner tile edge
    diff = (blended - whole).abs()[0].amax(dim=0)
    assert diff[~border].max() < 1e-6  # away from tile edges the tiles agree with the whole
    assert diff[border].max() < 0.01  # near them, the blend keeps the error small
    # abutting tiles without overlap show a seam: the blend must be far better than that
    hard_diff = (hard - whole).abs().max()
    assert hard_diff > 0.02
    assert diff.max() < hard_diff / 4
    # no seam: the largest jump between neighbouring pixels is no larger than in the whole
    jump = (blended[..., :, 1:] - blended[..., :, :-1]).abs().max()
    jump_whole = (whole[..., :, 1:] - whole[..., :, :-1]).abs().max()
    assert jump < jump_whole + 0.02


@pytest.mark.parametrize(("height", "width"), [(37, 53), (8, 8), (5, 3), (1, 1), (64, 65)])
@pytest.mark.parametrize("tile_size", [16, 1024])
def test_odd_sizes_keep_their_shape(height: int, width: int, tile_size: int) -> None:
    blurry = torch.rand(2, 3, height, width)
    restored = Deblurrer(Downsampling(), device="cpu", tile_size=tile_size, tile_overlap=4)(blurry)
    assert restored.shape == blurry.shape
    assert restored.dtype == torch.float32
    assert restored.min() >= 0 and restored.max() <= 1


def test_unbatched_and_batched_agree(make_image) -> None:
    model = ThreeConvs()
    deblurrer = Deblurrer(model, device="cpu", tile_size=32, tile_overlap=8)
    blurry = make_image(3, 45, 70, seed=4)
    batch = deblurrer(blurry)
    singles = torch.stack([deblurrer(image) for image in blurry])
    assert deblurrer(blurry[0]).shape == (3, 45, 70)
    torch.testing.assert_close(batch, singles, atol=1e-6, rtol=0)


def test_pads_to_the_size_multiple_and_crops_back() -> None:
    recorder = Recorder(size_multiple=16)
    blurry = torch.rand(1, 3, 37, 53)
    restored = Deblurrer(recorder, device="cpu")(blurry)
    assert recorder.shapes == [(1, 3, 48, 64)]
    assert recorder.inference == [True]
    torch.testing.assert_close(restored, blurry)


def test_pad_to_multiple_matches_numpy() -> None:
    image = torch.rand(2, 3, 7, 10)
    padded = pad_to_multiple(image, 4)  # pads 1 row (reflect) and 2 columns (reflect)
    reference = np.pad(image.numpy(), ((0, 0), (0, 0), (0, 1), (0, 2)), mode="reflect")
    np.testing.assert_array_equal(padded.numpy(), reference)
    small = torch.rand(3, 2, 3)  # pads 6 rows (> height: replicate) and 5 columns (replicate)
    padded = pad_to_multiple(small, 8)
    reference = np.pad(small.numpy(), ((0, 0), (0, 6), (0, 5)), mode="edge")
    np.testing.assert_array_equal(padded.numpy(), reference)
    assert pad_to_multiple(image, 1) is image or torch.equal(pad_to_multiple(image, 1), image)


@pytest.mark.parametrize(("tile_size", "expected_tile"), [(32, 32), (30, 32), (17, 24)])
def test_tiles_bound_what_the_model_sees(tile_size: int, expected_tile: int) -> None:
    recorder = Recorder(size_multiple=8)
    blurry = torch.rand(1, 3, 100, 77)
    restored = Deblurrer(recorder, device="cpu", tile_size=tile_size, tile_overlap=6)(blurry)
    torch.testing.assert_close(restored, blurry)
    assert len(recorder.shapes) > 1
    assert max(shape[-2] for shape in recorder.shapes) <= expected_tile
    assert max(shape[-1] for shape in recorder.shapes) <= expected_tile


def test_one_long_axis_tiles_only_that_axis() -> None:
    recorder = Recorder(size_multiple=8)
    blurry = torch.rand(1, 3, 20, 200)
    Deblurrer(recorder, device="cpu", tile_size=64, tile_overlap=8)(blurry)
    assert {shape[-2] for shape in recorder.shapes} == {24}  # 20 padded to 24, not tiled
    assert {shape[-1] for shape in recorder.shapes} == {64}


def test_tile_starts_cover_with_the_requested_overlap() -> None:
    for tile in (8, 13, 32):
        for overlap in range(tile):
            for length in range(1, 90, 7):
                starts = tile_starts(length, tile, overlap)
                extent = min(length, tile)
                assert starts[0] == 0 and starts[-1] + extent == length
                steps = np.diff(starts)
                assert (steps > 0).all() and (extent - steps >= overlap).all()


def test_blend_weights_are_positive_everywhere() -> None:
    for tile in (8, 16, 33):
        for overlap in range(tile):
            for length in (tile + 1, 2 * tile + 3, 5 * tile):
                starts = tile_starts(length, tile, overlap)
                total = torch.zeros(length)
                for i, start in enumerate(starts):
                    window = blend_window(
                        tile, overlap, taper_start=i > 0, taper_end=i < len(starts) - 1
                    )
                    total[start : start + tile] += window
                assert total.min() > 0, (tile, overlap, length)


def test_blend_window_is_a_raised_cosine() -> None:
    window = blend_window(20, 8, taper_start=True, taper_end=True)
    # dead zone of 8 // 4 = 2 samples, then 0.5 - 0.5 cos(pi k / 7) for k = 1..6, then 1
    rise = [0.5 - 0.5 * np.cos(np.pi * k / 7) for k in range(1, 7)]
    expected = np.array([0, 0, *rise, 1, 1, 1, 1, *rise[::-1], 0, 0])
    np.testing.assert_allclose(window.numpy(), expected, atol=1e-7)
    edge = blend_window(20, 8, taper_start=False, taper_end=False)
    assert torch.equal(edge, torch.ones(20))  # image borders are never down-weighted


def test_output_dtype_and_device_follow_the_contract() -> None:
    blurry = torch.rand(3, 16, 16, dtype=torch.float64)
    restored = Deblurrer(nn.Identity(), device="cpu")(blurry)
    assert restored.dtype == torch.float32 and restored.device == blurry.device
    torch.testing.assert_close(restored, blurry.float())


def test_output_is_an_ordinary_tensor() -> None:
    restored = Deblurrer(nn.Identity(), device="cpu")(torch.rand(3, 8, 8))
    assert not restored.is_inference()
    restored.mul_(0.5)  # in-place updates work outside inference mode
    (restored.requires_grad_() * 2).sum().backward()


def test_model_put_in_eval_mode() -> None:
    model = nn.Sequential(nn.Dropout(0.9))
    model.train()
    blurry = torch.rand(1, 3, 8, 8)
    torch.testing.assert_close(Deblurrer(model, device="cpu")(blurry), blurry)
    assert not model.training


def test_threads_apply_during_the_call_only() -> None:
    before = torch.get_num_threads()
    recorder = Recorder(size_multiple=1)
    Deblurrer(recorder, device="cpu", threads=2)(torch.rand(1, 3, 8, 8))
    assert recorder.threads == [2]
    assert torch.get_num_threads() == before


def test_fp16_on_cpu_falls_back_to_fp32_with_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="deblurgan.inference.deblurrer"):
        deblurrer = Deblurrer(Pointwise(), device="cpu", precision="fp16")
    assert deblurrer.precision == "fp32"
    assert "fp16" in caplog.text


def test_bf16_on_cpu_runs_through_autocast(make_image) -> None:
    model = ThreeConvs()
    blurry = make_image(1, 32, 32, seed=5)
    full = Deblurrer(model, device="cpu")(blurry)
    half = Deblurrer(model, device="cpu", precision="bf16")(blurry)
    assert half.dtype == torch.float32
    assert (half - full).abs().max() < 0.05
    assert not torch.equal(half, full)  # bf16 really ran


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_cuda_matches_cpu(make_image, precision: str) -> None:
    model = ThreeConvs()
    blurry = make_image(1, 70, 90, seed=6)
    cpu = Deblurrer(model, device="cpu", tile_size=32, tile_overlap=16)(blurry)
    gpu = Deblurrer(model, device="cuda", precision=precision, tile_size=32, tile_overlap=16)
    on_cpu_input = gpu(blurry)
    on_gpu_input = gpu(blurry.cuda())
    assert on_cpu_input.device.type == "cpu" and on_gpu_input.device.type == "cuda"
    tolerance = 1e-4 if precision == "fp32" else 0.05
    assert (on_cpu_input - cpu).abs().max() < tolerance
    assert (on_gpu_input.cpu() - cpu).abs().max() < tolerance


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"precision": "int8"}, ValueError),
        ({"tile_size": 0}, ValueError),
        ({"tile_size": 32, "tile_overlap": 32}, ValueError),
        ({"tile_overlap": -1}, ValueError),
        ({"threads": 0}, ValueError),
        ({"device": "toaster"}, ValueError),
        ({"device": 3}, TypeError),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        Deblurrer(nn.Identity(), **{"device": "cpu", **kwargs})


def test_bad_inputs_are_refused() -> None:
    deblurrer = Deblurrer(nn.Identity(), device="cpu")
    with pytest.raises(ValueError, match="3, H, W"):
        deblurrer(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="3, H, W"):
        deblurrer(torch.rand(8, 8))
    with pytest.raises(TypeError, match="float"):
        deblurrer(torch.zeros(3, 8, 8, dtype=torch.uint8))
    with pytest.raises(TypeError, match="Tensor"):
        deblurrer(np.zeros((3, 8, 8)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model returned"):
        Deblurrer(nn.Conv2d(3, 1, 1), device="cpu")(torch.rand(3, 8, 8))
