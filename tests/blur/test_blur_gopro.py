"""GoPro-style synthesis: the sharp target stays aligned; paths smooth and seeded; no borders."""

from __future__ import annotations

import math

import pytest
import torch

from deblurgan.blur import (
    GoProBlurSynthesizer,
    random_camera_path,
    render_camera_path,
    synthesize_gopro_blur,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _blob(size: int = 64, centre: tuple[float, float] = (30.3, 33.7), sigma: float = 3.0):
    """A Gaussian spot on black, ``(1, 3, size, size)`` float64, centre (x, y)."""
    idx = torch.arange(size, dtype=torch.float64)
    ys, xs = torch.meshgrid(idx, idx, indexing="ij")
    spot = torch.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * sigma**2))
    return spot.expand(1, 3, size, size).clone()


def _centroid(image: torch.Tensor) -> torch.Tensor:
    """Intensity centroid (x, y) of channel 0 of a ``(3, H, W)`` or ``(1, 3, H, W)`` image."""
    plane = image.reshape(-1, *image.shape[-2:])[0].double()
    h, w = plane.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    total = plane.sum()
    return torch.stack([(plane * xs).sum() / total, (plane * ys).sum() / total])


def test_zero_motion_gives_no_blur(make_image) -> None:
    photo = make_image(2, 40, 48, seed=1)
    pair = synthesize_gopro_blur(
        photo, translation=0.0, rotation=0.0, zoom=0.0, num_frames=7, generator=_gen(0)
    )
    assert pair.params["margin"].tolist() == [0, 0]
    assert torch.equal(pair.sharp, photo)  # the middle frame is the photo itself
    torch.testing.assert_close(pair.blurry, photo, atol=1e-5, rtol=0)


def test_symmetric_translation_keeps_the_blob_centroid() -> None:
    # Sub-frames at -t .. +t along a line: the blur's centre is the sharp frame's position.
    photo = _blob()
    steps = torch.linspace(-6.0, 6.0, 9, dtype=torch.float64)
    shifts = torch.stack([steps, 0.5 * steps], dim=-1)
    blurry, sharp = render_camera_path(
        photo, shifts, torch.zeros(9), torch.ones(9), margin=8, gamma=None
    )
    assert torch.equal(sharp, photo[..., 8:-8, 8:-8])
    assert (_centroid(blurry) - _centroid(sharp)).abs().max() < 0.1
    # The blur is real: the spot is spread out along the path (peak drops a lot).
    assert float(blurry.max()) < 0.6 * float(sharp.max())


def test_random_centred_paths_keep_the_target_aligned() -> None:
    photo = _blob(72, (35.6, 36.2))
    synth = GoProBlurSynthesizer(
        num_frames=(7, 13), translation=(4.0, 8.0), rotation=0.0, zoom=0.0, gamma=None
    )
    for seed in range(3):
        pair = synth(photo, generator=_gen(seed))
        assert int(pair.params["num_frames"][0]) % 2 == 1
        assert (_centroid(pair.blurry) - _centroid(pair.sharp)).abs().max() < 0.1
    # A bent (non-centred) path keeps the middle frame sharp but may shift the blur's centre.
    bent = GoProBlurSynthesizer(
        num_frames=9, translation=8.0, rotation=0.0, zoom=0.0, centred=False, gamma=None
    )
    pair = bent(photo, generator=_gen(0))
    margin = int(pair.params["margin"][0])
    assert torch.equal(pair.sharp, photo[..., margin:-margin, margin:-margin])


def test_paths_are_centred_smooth_and_scaled() -> None:
    path = random_camera_path(
        4, 11, translation=(5.0, 9.0), rotation=(1.0, 2.0), zoom=(0.01, 0.03), generator=_gen(2)
    )
    shift, turn, zoom = path["translation"], path["rotation"], path["zoom"]
    assert shift.shape == (4, 11, 2) and turn.shape == (4, 11) and zoom.shape == (4, 11)
    # Identity pose in the middle; the largest excursion is the drawn amplitude.
    assert (shift[:, 5] == 0).all() and (turn[:, 5] == 0).all() and (zoom[:, 5] == 1).all()
    torch.testing.assert_close(shift.norm(dim=-1).amax(1), path["translation_amplitude"])
    torch.testing.assert_close(turn.abs().amax(1), path["rotation_amplitude"])
    torch.testing.assert_close(zoom.log().abs().amax(1), path["zoom_amplitude"].log1p())
    # Point-symmetric about the middle, so the mean pose is the middle one.
    torch.testing.assert_close(shift, -shift.flip(1))
    torch.testing.assert_close(zoom * zoom.flip(1), torch.ones_like(zoom))
    # Smooth: a quintic's second differences are small next to the step size.
    step = (shift[:, 1:] - shift[:, :-1]).norm(dim=-1)
    jerk = (shift[:, 2:] - 2 * shift[:, 1:-1] + shift[:, :-2]).norm(dim=-1)
    assert (jerk <= step.amax(1, keepdim=True)).all()


def test_rotation_blurs_the_corners_more_than_the_centre(photo) -> None:
    image = torch.from_numpy(photo[::4, ::4].copy()).permute(2, 0, 1).float() / 255  # 128 px
    turn = torch.linspace(-3.0, 3.0, 7)
    blurry, sharp = render_camera_path(
        image, torch.zeros(7, 2), turn, torch.ones(7), margin=8, gamma="srgb"
    )
    diff = (blurry - sharp).abs().mean(0)
    centre = diff[44:68, 44:68].mean()
    corners = torch.stack(
        [
            diff[:16, :16].mean(),
            diff[:16, -16:].mean(),
            diff[-16:, :16].mean(),
            diff[-16:, -16:].mean(),
        ]
    )
    assert (corners > 2 * centre).all()


def test_margin_keeps_every_sub_frame_inside_the_photo() -> None:
    synth = GoProBlurSynthesizer(num_frames=13, translation=(3.0, 6.0), rotation=2.0, zoom=0.05)
    height, width = 90, 120
    margin = synth.margin_for(height, width)
    pair = synth(torch.rand(3, height, width, generator=_gen(0)), generator=_gen(4))
    assert pair.blurry.shape == (3, height - 2 * margin, width - 2 * margin)
    # Where each output corner samples the photo, for every sub-frame: inside [0, size - 1].
    h, w = height - 2 * margin, width - 2 * margin
    cx, cy = (width - 1) / 2, (height - 1) / 2
    corners = torch.tensor(
        [[margin - cx, margin - cy], [margin + w - 1 - cx, margin + h - 1 - cy]],
        dtype=torch.float64,
    )
    corners = torch.cartesian_prod(corners[:, 0], corners[:, 1])  # (4, 2)
    for i in range(13):
        rad = math.radians(float(pair.params["rotation"][0, i]))
        s = float(pair.params["zoom"][0, i])
        tx, ty = pair.params["translation"][0, i].double().tolist()
        x = cx + s * (math.cos(rad) * corners[:, 0] + math.sin(rad) * corners[:, 1]) + tx
        y = cy + s * (-math.sin(rad) * corners[:, 0] + math.cos(rad) * corners[:, 1]) + ty
        assert (
            (x >= 0).all() and (x <= width - 1).all() and (y >= 0).all() and (y <= height - 1).all()
        )


def test_same_seed_same_pair_and_batches(make_image) -> None:
    synth = GoProBlurSynthesizer(num_frames=(5, 9), translation=4.0, moving_objects=(1, 2))
    photo = make_image(2, 48, 48, seed=5)
    first = synth(photo, generator=_gen(11))
    again = synth(photo, generator=_gen(11))
    other = synth(photo, generator=_gen(12))
    assert torch.equal(first.blurry, again.blurry) and torch.equal(first.sharp, again.sharp)
    assert all(torch.equal(first.params[k], again.params[k]) for k in first.params)
    assert not torch.equal(first.blurry, other.blurry)
    assert first.blurry.shape == first.sharp.shape and first.blurry.shape[0] == 2
    assert all(v.shape[0] == 2 for v in first.params.values())


def test_moving_objects_appear_in_the_target_and_smear_in_the_blur(make_image) -> None:
    photo = make_image(1, 64, 64, seed=3)
    pair = synthesize_gopro_blur(
        photo,
        num_frames=9,
        translation=0.0,
        rotation=0.0,
        zoom=0.0,
        moving_objects=1,
        object_size=0.3,
        object_speed=10.0,
        gamma=None,
        generator=_gen(1),
    )
    centre = pair.params["object_center"][0, 0]
    assert pair.params["object_velocity"][0, 0].norm() == pytest.approx(10.0, rel=1e-5)
    # The sharp target holds the object (it differs from the photo), the blur smears it.
    assert not torch.allclose(pair.sharp, photo)
    assert not torch.allclose(pair.blurry, pair.sharp)
    # Far from the object's path nothing moves: blurry == sharp == photo there.
    radius = float(pair.params["object_radii"][0, 0].max())
    ys, xs = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    far = ((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2).sqrt() > radius + 10 + 2
    assert far.any()
    torch.testing.assert_close(pair.blurry[..., far], photo[..., far], atol=1e-5, rtol=0)
    torch.testing.assert_close(pair.sharp[..., far], photo[..., far], atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_frames": 8},
        {"num_frames": (8, 8)},
        {"translation": -1.0},
        {"rotation": (2.0, 1.0)},
        {"moving_objects": -1},
        {"margin": -2},
        {"gamma": "log"},
    ],
)
def test_bad_settings_are_rejected(kwargs) -> None:
    with pytest.raises(ValueError):
        GoProBlurSynthesizer(**kwargs)


def test_too_small_photo_is_reported() -> None:
    synth = GoProBlurSynthesizer(translation=30.0)
    with pytest.raises(ValueError, match="too small"):
        synth(torch.rand(3, 40, 40), generator=_gen(0))
