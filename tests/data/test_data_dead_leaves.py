"""Dead leaves images and pairs: radius law, occlusion order, coverage, anti-aliasing, blur."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.data import (
    DATASETS,
    DeadLeavesDataset,
    SyntheticBlurDataset,
    dead_leaves_image,
    dead_leaves_partition,
    sample_radii,
)

SMALL = {"name": "trajectory", "kernel_size": 9, "num_samples": 200}
ALL_SHAPES = ("disc", "ellipse", "rectangle")


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("alpha", [1.0, 2.0, 3.0, 4.5])
def test_radius_sampler_follows_the_truncated_power_law(alpha: float) -> None:
    from scipy import stats

    rmin, rmax = 1.5, 80.0
    radii = sample_radii(200_000, radius_min=rmin, radius_max=rmax, alpha=alpha, generator=_g(0))
    assert radii.shape == (200_000,) and rmin <= radii.min() and radii.max() <= rmax
    # scipy's truncated Pareto (density ~ x^-(b+1) on [scale, c * scale]) or, for alpha = 1,
    # the log-uniform law: an independent reference for the whole distribution.
    if alpha == 1.0:
        reference = stats.loguniform(rmin, rmax)
    else:
        reference = stats.truncpareto(alpha - 1, rmax / rmin, scale=rmin)
    assert stats.kstest(radii.numpy(), reference.cdf).statistic < 0.006
    # And the log-log slope of the histogram density is -alpha.
    edges = np.geomspace(rmin, rmax, 16)
    counts, _ = np.histogram(radii.numpy(), bins=edges)
    density = counts / np.diff(edges)
    centres = np.sqrt(edges[1:] * edges[:-1])
    used = counts > 50
    slope = np.polyfit(np.log(centres[used]), np.log(density[used]), 1)[0]
    assert abs(slope + alpha) < 0.1


def test_radius_sampler_uses_only_its_generator() -> None:
    state = torch.get_rng_state()
    a = sample_radii(5, radius_min=1.0, radius_max=9.0, generator=_g(3))
    assert torch.equal(a, sample_radii(5, radius_min=1.0, radius_max=9.0, generator=_g(3)))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(
        sample_radii(4, radius_min=2.0, radius_max=2.0, generator=_g(0)),
        torch.full((4,), 2.0, dtype=torch.float64),
    )


def test_image_contract_determinism_and_global_rng() -> None:
    state = torch.get_rng_state()
    image = dead_leaves_image((20, 30), generator=_g(1))
    assert image.shape == (3, 20, 30) and image.dtype == torch.float32
    assert 0 <= image.min() and image.max() <= 1
    assert torch.equal(image, dead_leaves_image((20, 30), generator=_g(1)))
    assert not torch.equal(image, dead_leaves_image((20, 30), generator=_g(2)))
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is never touched
    # Every option combination renders.
    for texture in ("flat", "gradient", "sine"):
        for colours in ("uniform", "palette"):
            out = dead_leaves_image(
                17, generator=_g(4), shapes=ALL_SHAPES, texture=texture, colours=colours
            )
            assert out.shape == (3, 17, 17) and 0 <= out.min() and out.max() <= 1


def _inside(shape: int, axes: np.ndarray, angle: float, dx: np.ndarray, dy: np.ndarray):
    """Point-in-leaf test written directly from the shape definitions (rotated frame)."""
    u = math.cos(angle) * dx + math.sin(angle) * dy
    v = -math.sin(angle) * dx + math.cos(angle) * dy
    a, b = axes
    if shape == 2:  # rectangle with half-sides a, b
        return (np.abs(u) <= a) & (np.abs(v) <= b)
    return (u / a) ** 2 + (v / b) ** 2 <= 1  # ellipse (disc when a == b)


@pytest.mark.parametrize("shapes", [("disc",), ALL_SHAPES])
def test_partition_covers_the_frame_with_the_frontmost_leaf(shapes: tuple[str, ...]) -> None:
    # Brute force: at each pixel centre the label is the first leaf (lowest index) containing it.
    height, width = 40, 56
    part = dead_leaves_partition((height, width), generator=_g(7), radius_min=1.0, shapes=shapes)
    labels = part.labels.numpy()
    assert labels.shape == (height, width)
    assert labels.min() >= 0 and labels.max() < len(part)  # covered: no background anywhere
    ys, xs = np.mgrid[0:height, 0:width]
    px, py = xs.ravel() + 0.5, ys.ravel() + 0.5
    first = np.full(px.shape, -1)
    for k in range(len(part)):
        cx, cy = part.centres[k].double().numpy()
        hit = _inside(
            int(part.shapes[k]),
            part.axes[k].double().numpy(),
            float(part.angles[k]),
            px - cx,
            py - cy,
        )
        first[(first < 0) & hit] = k
        if (first >= 0).all():
            break
    # float32 geometry inside the renderer: allow a handful of pixels exactly on an edge.
    assert (first != labels.ravel()).mean() < 0.003
    assert set(np.unique(part.shapes.numpy())) <= {
        ("disc", "ellipse", "rectangle").index(s) for s in shapes
    }


@pytest.mark.parametrize("shapes", [("disc",), ALL_SHAPES])
def test_visible_leaf_sizes_follow_the_dead_leaves_law(shapes: tuple[str, ...]) -> None:
    # In a dead leaves image the leaf seen at a point has size r with probability ~ r^2 p(r)
    # (bigger leaves cover more points), so for alpha = 3:
    # P(visible size > R) = ln(rmax / R) / ln(rmax / rmin), everywhere in the frame. A crop
    # that under-represents leaves reaching in from outside would show too few large ones.
    rmin, rmax = 1.0, 64.0
    fractions = {2.0: [], 8.0: []}
    for seed in range(200):
        part = dead_leaves_partition(
            48, generator=_g(seed), radius_min=rmin, radius_max=rmax, shapes=shapes
        )
        visible = part.radii[part.labels]
        for r, values in fractions.items():
            values.append(float((visible > r).float().mean()))
    for r, values in fractions.items():
        theory = math.log(rmax / r) / math.log(rmax / rmin)
        assert abs(np.mean(values) - theory) < 0.05, (r, np.mean(values), theory)


def test_fixed_leaf_count_leaves_background() -> None:
    part = dead_leaves_partition(32, generator=_g(0), radius_min=2.0, radius_max=3.0, leaves=5)
    assert len(part) == 5 and (part.labels < 0).any() and part.labels.max() < 5
    # Background pixels get one colour of their own.
    image = dead_leaves_image(
        32, generator=_g(0), radius_min=1.0, radius_max=1.5, leaves=2, texture="flat", supersample=1
    )
    colours = torch.unique(image.reshape(3, -1).T, dim=0)
    assert 1 <= len(colours) <= 3


def _two_colour_mix(image: torch.Tensor) -> tuple[torch.Tensor, float] | None:
    """Weights t of the most common colour in each pixel, assuming a mix of the top two."""
    pixels = image.reshape(3, -1).T.double()
    values, counts = torch.unique((pixels * 1e5).round(), dim=0, return_counts=True)
    if len(values) < 2:
        return None  # the leaf missed every pixel
    top = values[counts.argsort(descending=True)[:2]] / 1e5
    c0, c1 = top[0], top[1]
    t = ((pixels - c1) @ (c0 - c1)) / (c0 - c1).square().sum()
    residual = float((pixels - (c1 + t[:, None] * (c0 - c1))).abs().max())
    return t.view(image.shape[-2:]), residual


def test_anti_aliasing_averages_the_subpixels_on_edges() -> None:
    # One disc of radius 7 on the background, flat colours. Aliased: two colours only. With
    # 4x4 supersampling an edge pixel is t * one + (1 - t) * the other, t in {1/16, ..., 15/16},
    # and the disc's weights add up to its area pi r^2.
    kwargs = dict(radius_min=7.0, radius_max=7.0, leaves=1, texture="flat")
    for seed in range(5):
        aliased = dead_leaves_image(40, generator=_g(seed), supersample=1, **kwargs)
        assert len(torch.unique(aliased.reshape(3, -1).T, dim=0)) <= 2
    checked = 0
    for seed in range(40):
        smooth = dead_leaves_image(40, generator=_g(seed), supersample=4, **kwargs)
        mix = _two_colour_mix(smooth)
        if mix is None:
            continue
        t, residual = mix
        assert residual < 1e-4  # every pixel is a mix of the two colours
        partial = (t > 1e-3) & (t < 1 - 1e-3)
        sixteenths = t[partial] * 16
        assert (sixteenths - sixteenths.round()).abs().le(1e-3).all()
        disc = t if float(t.sum()) < float((1 - t).sum()) else 1 - t  # the smaller colour
        if bool((torch.cat([disc[0], disc[-1], disc[:, 0], disc[:, -1]]) < 1e-3).all()):
            # The whole disc is in the frame: its edge is anti-aliased and its area is right.
            assert partial.sum() >= 20
            assert abs(float(disc.sum()) - math.pi * 49) < 0.03 * math.pi * 49
            checked += 1
    assert checked >= 3


def test_texture_shades_each_leaf_mildly() -> None:
    flat = dead_leaves_image(32, generator=_g(5), texture="flat", supersample=1)
    shaded = dead_leaves_image(
        32, generator=_g(5), texture="gradient", supersample=1, texture_strength=0.2
    )
    # Same leaves and colours; the ramp changes each pixel by at most 20% inside a disc.
    assert not torch.equal(flat, shaded)
    assert ((shaded - flat).abs() <= 0.2 * flat + 1e-5).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"radius_min": 0.0}, "radius_min"),
        ({"radius_min": 5.0, "radius_max": 2.0}, "radius_max"),
        ({"alpha": float("nan")}, "alpha"),
        ({"shapes": ("disc", "star")}, "star"),
        ({"texture": "wood"}, "texture"),
        ({"colours": "rainbow"}, "colours"),
        ({"supersample": 0}, "supersample"),
        ({"texture_strength": 2.0}, "texture_strength"),
        ({"leaves": 0}, "leaves"),
    ],
)
def test_bad_options_are_rejected(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        dead_leaves_image(16, generator=_g(0), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="size"):
        dead_leaves_image(0, generator=_g(0))


def test_dataset_items_match_the_synthetic_contract() -> None:
    data = DeadLeavesDataset(24, length=5, sampler=SMALL, seed=3, return_kernel=True)
    assert len(data) == 5 and data.margin == 4
    for i in range(5):
        item = data[i]
        assert set(item) == {"blurry", "sharp", "name", "kernel"}
        assert item["name"] == f"dead_leaves_{i}"
        for key in ("blurry", "sharp"):
            assert item[key].shape == (3, 24, 24) and item[key].dtype == torch.float32
            assert 0 <= item[key].min() and item[key].max() <= 1
        assert item["kernel"].shape == (9, 9) and abs(float(item["kernel"].sum()) - 1) < 1e-5
    first = data[1]
    again = DeadLeavesDataset(24, length=5, sampler=SMALL, seed=3, return_kernel=True)[1]
    assert all(torch.equal(first[k], again[k]) for k in ("blurry", "sharp", "kernel"))
    assert not torch.equal(first["sharp"], data[2]["sharp"])
    other = DeadLeavesDataset(24, length=5, sampler=SMALL, seed=4)[1]
    assert not torch.equal(first["sharp"], other["sharp"])
    assert torch.equal(data[-4]["sharp"], first["sharp"])
    with pytest.raises(IndexError):
        data[5]
    built = DATASETS.from_spec(
        {
            "name": "dead_leaves",
            "crop_size": 16,
            "length": 2,
            "sampler": SMALL,
            "shapes": ["rectangle"],
        }
    )
    assert isinstance(built, DeadLeavesDataset) and built[0]["sharp"].shape == (3, 16, 16)


def _srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(x: np.ndarray) -> np.ndarray:
    return np.where(
        x <= 0.0031308, 12.92 * x, 1.055 * np.maximum(x, 0.0031308) ** (1 / 2.4) - 0.055
    )


def test_blurry_is_the_sharp_image_convolved_in_linear_light() -> None:
    from scipy import ndimage

    data = DeadLeavesDataset(
        32, length=3, sampler=SMALL, noise_std=0.0, return_kernel=True, shapes=ALL_SHAPES
    )
    for i in range(3):
        item = data[i]
        kernel = item["kernel"].double().numpy()
        light = _srgb_to_linear(item["sharp"].double().numpy())
        # True convolution; away from the crop border every tap lies inside the sharp crop.
        blurred = np.stack([ndimage.convolve(c, kernel, mode="nearest") for c in light])
        expected = _linear_to_srgb(np.clip(blurred, 0, 1))[:, 4:-4, 4:-4]
        got = item["blurry"].double().numpy()[:, 4:-4, 4:-4]
        np.testing.assert_allclose(got, expected, atol=2e-5, rtol=0)
        assert np.abs(got - item["sharp"].numpy()[:, 4:-4, 4:-4]).max() > 0.01


def test_dataset_with_gopro_blur_and_jitter() -> None:
    spec = {"name": "gopro", "num_frames": 3, "translation": 4.0, "rotation": 1.0, "zoom": 0.0}
    data = DeadLeavesDataset(24, length=2, sampler=spec, jitter={"brightness": 0.2})
    assert data[0]["blurry"].shape == (3, 24, 24) and data.gopro
    with pytest.raises(ValueError, match="return_kernel"):
        DeadLeavesDataset(24, sampler="gopro", return_kernel=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"crop_size": 0},
        {"length": 0},
        {"noise_std": (0.1, 0.0)},
        {"texture": "wood"},
        {"radius_min": 50.0, "radius_max": 10.0},
        {"jitter": {"hue": 0.1}},
    ],
)
def test_dataset_rejects_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DeadLeavesDataset(**{"sampler": SMALL, **kwargs})  # type: ignore[arg-type]


# Items of SyntheticBlurDataset recorded with the code before the blur pipeline was shared
# with the dead leaves (sums of blurry and sharp, two blurry pixels): the refactor must keep
# every random draw in place, so these only change if the items do.
SYNTHETIC_CONFIGS = {
    "kernel": dict(
        crop_size=32,
        length=6,
        sampler={"name": "trajectory", "kernel_size": 9, "num_samples": 200},
        rot90=True,
        jitter={"brightness": 0.2, "contrast": 0.2, "saturation": 0.2},
        return_kernel=True,
        seed=5,
    ),
    "srgb_fft": dict(
        crop_size=24,
        length=4,
        sampler={"name": "linear", "kernel_size": 17},
        linear_light=False,
        noise_std=0.02,
        seed=7,
    ),
    "gopro": dict(
        crop_size=24,
        length=3,
        sampler={
            "name": "gopro",
            "num_frames": 3,
            "translation": 4.0,
            "rotation": 1.0,
            "zoom": 0.0,
        },
        seed=2,
    ),
}
SYNTHETIC_RECORDED = {
    "kernel": [
        ("pattern_0", 1280.125876, 1198.393975, 0.498746, 0.746279),
        ("ramp_1", 1470.931217, 1463.572361, 0.546576, 0.178223),
        ("pattern_2", 1366.157907, 1324.952555, 0.533763, 0.384380),
        ("ramp_3", 1536.984654, 1535.417749, 0.519960, 0.542942),
        ("pattern_4", 1654.231229, 1538.212780, 0.521878, 0.277143),
        ("ramp_5", 1189.514547, 1186.760267, 0.496332, 0.192854),
    ],
    "srgb_fft": [
        ("pattern_0", 795.774032, 796.474004, 0.506446, 0.699274),
        ("ramp_1", 652.139595, 649.747289, 0.531132, 0.559026),
        ("pattern_2", 901.412314, 901.074087, 0.517509, 0.187474),
        ("ramp_3", 639.052444, 636.832696, 0.458205, 0.106014),
    ],
    "gopro": [
        ("pattern_0", 882.844323, 811.226869, 0.497106, 0.347348),
        ("ramp_1", 907.444271, 904.324887, 0.501752, 0.638222),
        ("pattern_2", 951.798052, 892.539023, 0.475586, 0.751968),
    ],
}


@pytest.fixture(scope="module")
def pattern_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Integer patterns: the same pixels on every platform (no resampling library involved).
    folder = tmp_path_factory.mktemp("patterns")
    y, x = np.mgrid[0:80, 0:96]
    a = np.stack([(x * 7 + y * 3) % 256, (x * y) % 251, ((x ^ y) * 5) % 256], -1)
    Image.fromarray(a.astype(np.uint8)).save(folder / "pattern.png")
    b = np.stack([(x * 2) % 256, (y * 3) % 256, ((x + y) * 4) % 256], -1)
    Image.fromarray(b[:72].astype(np.uint8)).save(folder / "ramp.png")
    return folder


@pytest.mark.parametrize("config", sorted(SYNTHETIC_CONFIGS))
def test_synthetic_items_are_unchanged_by_the_shared_pipeline(
    pattern_dir: Path, config: str
) -> None:
    data = SyntheticBlurDataset(pattern_dir, **SYNTHETIC_CONFIGS[config])  # type: ignore[arg-type]
    for i, (name, blurry_sum, sharp_sum, p1, p2) in enumerate(SYNTHETIC_RECORDED[config]):
        item = data[i]
        blurry, sharp = item["blurry"].double(), item["sharp"].double()
        assert item["name"] == name
        got = [blurry.sum().item(), sharp.sum().item()]
        np.testing.assert_allclose(got, [blurry_sum, sharp_sum], atol=2e-3, rtol=0)
        pixels = [blurry[1, 7, 11].item(), blurry[2, -3, 4].item()]
        np.testing.assert_allclose(pixels, [p1, p2], atol=2e-5, rtol=0)
