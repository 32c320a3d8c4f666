"""The realistic degradation: smooth streaks, averaging domains, saturation, noise, sizes, seeds.

Numerical pieces are checked against references written here from their definitions (a
continuous exposure integral, the IEC sRGB curve, a convolution by scipy, numpy's padding, a
truncated lognormal by scipy), never against the pipeline's own helpers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from scipy import signal, stats

from deblurgan.blur import (
    GoProBlurSynthesizer,
    RealisticDegradation,
    adaptive_frame_times,
    add_signal_dependent_noise,
    build_degradation,
    convolve_valid,
    reflect_pad,
    render_camera_path,
)

# No noise, no JPEG, no highlight boost: what is left is the blur and the 8-bit rounding.
QUIET: dict[str, Any] = {"shot_noise": (0.0, 0.0), "jpeg_prob": 0.0, "highlight_gain": (1.0, 1.0)}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _srgb_encode(x: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1, written out here."""
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(np.maximum(x, 0), 1 / 2.4) - 0.055)


def _srgb_decode(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, np.power((np.maximum(v, 0) + 0.055) / 1.055, 2.4))


def test_consecutive_sub_frames_are_at_most_one_pixel_apart() -> None:
    synth = GoProBlurSynthesizer(
        "auto", translation=(20.0, 40.0), rotation=1.5, zoom=0.03, moving_objects=1,
        object_speed=25.0, gamma=None,
    )  # fmt: skip
    height, width = 150, 170
    for seed in range(3):
        pair = synth(torch.rand(3, height, width, generator=_gen(9)), generator=_gen(seed))
        p = {k: v[0].double() for k, v in pair.params.items()}
        margin, n = int(p["margin"]), int(p["num_frames"])
        times = p["times"]
        assert n == len(times) and times[0] == -1 and times[n // 2] == 0 and times[-1] == 1
        assert float(p["weights"].sum()) == pytest.approx(1.0)
        # Where the output's corners and centre sample the photo in every sub-frame: a similarity
        # moves pixels by an affine field, so the largest step is at a corner.
        cx, cy = (width - 1) / 2, (height - 1) / 2
        xs = [margin - cx, width - 1 - margin - cx, 0.0]
        ys = [margin - cy, height - 1 - margin - cy, 0.0]
        gaps = []
        for qx in xs:
            for qy in ys:
                rad = torch.deg2rad(p["rotation"])
                x = cx + p["zoom"] * (rad.cos() * qx + rad.sin() * qy) + p["translation"][:, 0]
                y = cy + p["zoom"] * (-rad.sin() * qx + rad.cos() * qy) + p["translation"][:, 1]
                gaps.append(torch.hypot(x.diff(), y.diff()).max())
        centre = p["object_center"][0] + p["object_velocity"][0] * times[:, None]  # (N, 2)
        gaps.append(centre.diff(dim=0).norm(dim=-1).max())
        assert max(float(g) for g in gaps) <= 1.0 + 1e-3
        assert n <= 2 * math.ceil(float(p["longest_streak"])) + 3  # not many more than needed


def test_a_uniform_sweep_blurs_a_step_edge_into_the_exposure_integral() -> None:
    # A vertical step edge swept left-right at constant speed over L px: the continuous exposure
    # averages the (bilinear) edge over a window of L px, computed here by brute force.
    length, width, margin = 23.0, 96, 14
    column = np.where(np.arange(width) >= 48, 1.0, 0.0)
    image = torch.tensor(column, dtype=torch.float64).expand(1, 3, 8 + 2 * margin, width).clone()

    def sweep(t: torch.Tensor) -> dict[str, torch.Tensor]:
        shift = torch.stack([length / 2 * t, 0 * t], dim=-1)[None]
        return {"translation": shift, "rotation": 0 * t[None], "zoom": 1 + 0 * t[None]}

    times, weights = adaptive_frame_times(sweep, radius=0.0)
    path = sweep(times)
    blurry, _ = render_camera_path(
        image, path["translation"][0], path["rotation"][0], path["zoom"][0], margin=margin,
        gamma=None, weights=weights, times=times,
    )  # fmt: skip
    xs = np.arange(margin, width - margin)
    fine = np.linspace(-length / 2, length / 2, 20001)
    reference = [np.interp(x + fine, np.arange(width), column).mean() for x in xs]
    # Sub-frames 1 px apart (trapezoid rule) miss the kinks of the ramp by at most 1 / (8 L).
    np.testing.assert_allclose(blurry[0, 0, 4].numpy(), reference, atol=1 / (8 * length) + 1e-4)


def test_linear_and_gamma_averaging_of_two_frames_by_hand() -> None:
    # Half the exposure sees the photo, half sees it shifted by one column: every pixel averages
    # its own value with its left neighbour's. Columns alternate 0.2 and 0.9 (sRGB values).
    a, b = 0.2, 0.9
    row = torch.tensor([a, b] * 8, dtype=torch.float64)
    photo = row.expand(1, 3, 6, 16).clone()
    shifts = torch.tensor([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    weights = torch.tensor([0.5, 0.5, 0.0])
    args = (shifts, torch.zeros(3), torch.ones(3))
    linear, _ = render_camera_path(photo, *args, margin=1, gamma="srgb", weights=weights)
    gamma, _ = render_camera_path(photo, *args, margin=1, gamma=None, weights=weights)
    by_hand_linear = _srgb_encode((_srgb_decode(np.float64(a)) + _srgb_decode(np.float64(b))) / 2)
    torch.testing.assert_close(linear, torch.full_like(linear, float(by_hand_linear)))
    torch.testing.assert_close(gamma, torch.full_like(gamma, (a + b) / 2))
    assert float(by_hand_linear) > (a + b) / 2 + 0.05  # light averages brighter than codes


@pytest.mark.parametrize("averaging", ["linear", "gamma"])
def test_the_pipeline_averages_sub_frames_in_the_drawn_domain(make_image, averaging) -> None:
    camera = RealisticDegradation(
        frame_width=640, camera_path_prob=1.0, moving_objects=(0, 0), rotation=(0.5, 1.0),
        linear_prob=1.0 if averaging == "linear" else 0.0, **QUIET,
    )  # fmt: skip
    image = make_image(1, 64, 80, seed=2)[0].double()
    image = (image * 255).round() / 255
    pair = camera(image, generator=_gen(5))
    p = pair.params
    assert p["averaging"] == averaging and p["kind"] == "camera_path" and p["num_frames"] >= 9
    m = p["margin"]
    window = torch.from_numpy(np.pad(image.numpy(), ((0, 0), (m, m), (m, m)), mode="reflect"))
    path = p["path"]
    reference, _ = render_camera_path(
        window, path["translation"], path["rotation"], path["zoom"], margin=m,
        gamma="srgb" if averaging == "linear" else None, weights=path["weights"],
    )  # fmt: skip
    torch.testing.assert_close(pair.blurry.double(), reference, atol=0.6 / 255, rtol=0)
    torch.testing.assert_close(pair.sharp, image.float(), atol=0, rtol=0)  # the photo itself


def test_saturated_highlights_are_boosted_smeared_and_clipped() -> None:
    image = torch.full((3, 64, 64), 0.1)
    image[:, 30:34, 30:34] = 1.0  # a small clipped light
    settings = {**QUIET, "frame_width": 64, "blur_size": (0.3, 0.3), "camera_path_prob": 0.0}
    settings.update(linear_prob=1.0, highlight_threshold=0.9)
    dim = RealisticDegradation(**settings)(image, generator=_gen(3))
    bright = RealisticDegradation(**{**settings, "highlight_gain": (8.0, 8.0)})(
        image, generator=_gen(3)
    )
    assert torch.equal(dim.kernel, bright.kernel)  # same draws: only the boost differs
    assert float(dim.blurry.max()) < 0.9  # a 4 px light spread over a 19 px streak: dim ...
    assert int((bright.blurry == 1.0).sum()) >= 3 * 12  # ... boosted 8x: a saturated streak
    assert float(bright.blurry.max()) == 1.0
    # By hand: light (boosted 8x above 0.9) convolved with the kernel, clipped, encoded.
    light = _srgb_decode(image.double().numpy())
    ramp = np.clip((image.double().numpy() - 0.9) / 0.1, 0, 1)
    boosted = light * (1 + 7 * ramp)
    k = bright.kernel.double().numpy()
    m = bright.params["margin"]
    padded = np.pad(boosted, ((0, 0), (m, m), (m, m)), mode="reflect")
    blurred = np.stack([signal.convolve2d(c, k, mode="valid") for c in padded])
    expected = _srgb_encode(np.clip(blurred, 0, 1))
    np.testing.assert_allclose(bright.blurry.double().numpy(), expected, atol=0.6 / 255)


def test_noise_variance_is_a_x_plus_b_on_flat_patches() -> None:
    a, b, rho = 2e-3, 4e-5, 0.7
    for x in (0.05, 0.3, 0.8):
        flat = torch.full((3, 256, 256), x, dtype=torch.float64)
        noisy = add_signal_dependent_noise(flat, a, b, correlation=rho, generator=_gen(int(x * 9)))
        var = noisy.flatten(1).var(dim=1)
        np.testing.assert_allclose(var.numpy(), a * x + b, rtol=0.03)
        residual = (noisy - x).flatten(1)
        assert float(torch.corrcoef(residual)[0, 1]) == pytest.approx(rho, abs=0.02)
    # Through the whole pipeline: a flat grey stays flat under any blur; the noise is added in
    # linear light, so its spread in sRGB codes is the curve's slope times sqrt(a x + b).
    camera = RealisticDegradation(
        frame_width=256, jpeg_prob=0.0, highlight_gain=(1.0, 1.0), shot_noise=(a, a),
        read_noise=(2.18, 1.2, 0.0),
    )  # fmt: skip
    pair = camera(torch.full((3, 256, 256), 0.5), generator=_gen(1))
    read = pair.params["read_noise"]
    assert read == pytest.approx(math.exp(2.18 * math.log(a) + 1.2))  # Brooks et al.'s line
    x = float(_srgb_decode(np.float64(0.5)))
    slope = 1.055 / 2.4 * x ** (1 / 2.4 - 1)
    expected = slope**2 * (a * x + read) + 1 / (12 * 255**2)
    measured = pair.blurry.double().flatten(1).var(dim=1)
    np.testing.assert_allclose(measured.numpy(), expected, rtol=0.06)


def test_blur_sizes_follow_the_truncated_lognormal_and_scale_with_the_frame() -> None:
    camera = RealisticDegradation()
    drawn = [camera.draw(generator=_gen(i), frame_width=1280) for i in range(2000)]
    fractions = np.array([d["blur_size"] for d in drawn])
    lo, hi = camera.blur_size
    assert lo <= fractions.min() and fractions.max() <= hi
    assert lo * 1280 == pytest.approx(3.0) and hi * 1280 >= 80
    np.testing.assert_allclose([d["blur_px"] for d in drawn], fractions * 1280)
    mu, sigma = math.log(camera.size_median), camera.size_sigma
    law = stats.truncnorm((math.log(lo) - mu) / sigma, (math.log(hi) - mu) / sigma, mu, sigma)
    assert stats.kstest(np.log(fractions), law.cdf).pvalue > 0.01
    uniform = RealisticDegradation(size_distribution="log_uniform")
    logs = [
        math.log(uniform.draw(generator=_gen(i), frame_width=1)["blur_size"]) for i in range(2000)
    ]
    flat = stats.uniform(math.log(lo), math.log(hi) - math.log(lo))
    assert stats.kstest(logs, flat.cdf).pvalue > 0.01
    # frame_width=None: fractions of the image's own longer side.
    own = RealisticDegradation(frame_width=None, **QUIET)
    pair = own(torch.rand(3, 40, 64), generator=_gen(0))
    assert pair.params["blur_px"] == pytest.approx(pair.params["blur_size"] * 64)


def test_same_seed_same_pair_and_parameters(make_image) -> None:
    camera = RealisticDegradation(frame_width=96)
    image = make_image(1, 48, 64, seed=1)[0]
    kinds = set()
    for seed in range(6):
        first, again = (camera(image, generator=_gen(seed)) for _ in range(2))
        assert torch.equal(first.blurry, again.blurry) and torch.equal(first.sharp, again.sharp)
        assert first.params.keys() == again.params.keys()
        assert all(
            torch.equal(v, again.params[k]) if isinstance(v, torch.Tensor) else True
            for k, v in first.params.items()
        )
        assert first.blurry.shape == first.sharp.shape == image.shape
        assert torch.equal(first.blurry * 255, (first.blurry * 255).round())  # 8-bit values
        kinds.add(first.params["kind"])
    assert kinds == {"camera_path", "shake"}
    other = camera(image, generator=_gen(99))
    assert not torch.equal(other.blurry, camera(image, generator=_gen(0)).blurry)
    with pytest.raises(TypeError, match="generator"):
        camera(image, generator=None)  # type: ignore[arg-type]


def test_jpeg_quality_is_drawn_in_its_range() -> None:
    camera = RealisticDegradation(frame_width=64, jpeg_prob=0.5, jpeg_quality=(70, 80))
    qualities = [camera.draw(generator=_gen(i), frame_width=64)["jpeg_quality"] for i in range(60)]
    compressed = [q for q in qualities if q is not None]
    assert 10 < len(compressed) < 50 and all(70 <= q <= 80 for q in compressed)


def test_moving_objects_are_part_of_the_sharp_target(make_image) -> None:
    camera = RealisticDegradation(frame_width=96, camera_path_prob=1.0, moving_objects=(1, 1))
    image = make_image(1, 64, 64, seed=4)[0]
    pair = camera(image, generator=_gen(2))
    assert pair.params["moving_objects"] == 1 and "objects" in pair.params
    assert not torch.allclose(pair.sharp, (image * 255).round() / 255)


def test_reflect_pad_matches_numpy() -> None:
    image = torch.arange(2 * 5 * 7, dtype=torch.float64).view(2, 5, 7)
    for pads in [(1, 2, 3, 0), (4, 4, 6, 6), (9, 3, 15, 20)]:
        top, bottom, left, right = pads
        expected = np.pad(image.numpy(), ((0, 0), (top, bottom), (left, right)), mode="reflect")
        np.testing.assert_array_equal(reflect_pad(image, *pads).numpy(), expected)


@pytest.mark.parametrize("size", [5, 17])  # a direct and an FFT convolution
def test_convolve_valid_matches_scipy(size: int) -> None:
    image = torch.rand(3, 40, 52, generator=_gen(0), dtype=torch.float64)
    kernel = torch.rand(size, size, generator=_gen(1), dtype=torch.float64)
    out = convolve_valid(image, kernel)
    for c in range(3):
        expected = signal.convolve2d(image[c].numpy(), kernel.numpy(), mode="valid")
        np.testing.assert_allclose(out[c].numpy(), expected, atol=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frame_width": 0},
        {"blur_size": (0.1, 0.05)},
        {"size_distribution": "uniform"},
        {"camera_path_prob": 1.5},
        {"moving_objects": (0, 1.5)},
        {"max_frames": 10},
        {"highlight_threshold": 1.0},
        {"highlight_gain": (0.5, 2.0)},
        {"shot_noise": (0.0, 1e-3)},
        {"read_noise": (1.0, 2.0)},
        {"noise_correlation": (0.5, 1.5)},
        {"jpeg_quality": (50, 101)},
    ],
)
def test_bad_settings_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RealisticDegradation(**kwargs)


def test_build_degradation_takes_specs() -> None:
    assert build_degradation(None) == RealisticDegradation()
    assert build_degradation("realistic") == RealisticDegradation()
    built = build_degradation({"name": "realistic", "jpeg_quality": [70, 90], "frame_width": None})
    assert built.jpeg_quality == (70, 90) and built.frame_width is None
    assert build_degradation(built) is built
    with pytest.raises(ValueError, match="realistic"):
        build_degradation({"name": "naive"})
    with pytest.raises(TypeError, match="jpeg"):
        build_degradation({"jpeg": 3})
    with pytest.raises(TypeError):
        build_degradation(42)
