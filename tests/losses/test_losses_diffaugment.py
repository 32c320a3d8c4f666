"""DiffAugment: each operation against a hand computation from the same seeded draws."""

from __future__ import annotations

import pytest
import torch

from deblurgan.losses import DIFFAUGMENT_POLICIES, DiffAugment


def _seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _augment(policy: str, seed: int = 0, **kwargs: object) -> DiffAugment:
    return DiffAugment(policy, generator=_seeded(seed), **kwargs)  # type: ignore[arg-type]


def test_shapes_single_and_paired() -> None:
    x, condition = torch.rand(2, 3, 16, 12), torch.rand(2, 1, 16, 12)
    out = _augment("color,translation,cutout")(x)
    assert isinstance(out, torch.Tensor) and out.shape == x.shape
    pair = _augment("color,translation,cutout")(x, condition)
    assert isinstance(pair, tuple) and len(pair) == 2
    assert pair[0].shape == x.shape and pair[1].shape == condition.shape


def test_brightness_adds_one_draw_per_sample() -> None:
    x = torch.rand(4, 3, 8, 8)
    u = torch.rand(4, generator=_seeded(3))
    out = _augment("brightness", seed=3)(x)
    shift = out - x
    # One constant per sample: the official U(-0.5, 0.5) in [-1, 1] units is U(-0.25, 0.25) here.
    expected = ((u - 0.5) * 0.5).view(4, 1, 1, 1).expand_as(x)
    torch.testing.assert_close(shift, expected, rtol=0, atol=1e-6)
    assert shift.abs().max() <= 0.25
    assert len({round(v, 6) for v in shift[:, 0, 0, 0].tolist()}) == 4
    # Images in [-1, 1] get the official amount, u - 0.5.
    out = _augment("brightness", seed=3, value_range=(-1.0, 1.0))(x)
    torch.testing.assert_close(out - x, (u - 0.5).view(4, 1, 1, 1).expand_as(x), rtol=0, atol=1e-6)


def test_saturation_and_contrast_scale_deviations_from_the_mean() -> None:
    x = torch.rand(3, 3, 6, 5)
    u = torch.rand(3, generator=_seeded(1)).view(3, 1, 1, 1)
    out = _augment("saturation", seed=1)(x)
    for b in range(3):
        for c in range(3):
            for i in range(6):
                for j in range(5):
                    grey = sum(x[b, k, i, j].item() for k in range(3)) / 3
                    want = (x[b, c, i, j].item() - grey) * 2 * u[b].item() + grey
                    assert out[b, c, i, j].item() == pytest.approx(want, abs=1e-6)
    out = _augment("contrast", seed=1)(x)
    mean = x.reshape(3, -1).mean(1).view(3, 1, 1, 1)
    torch.testing.assert_close(out, (x - mean) * (u + 0.5) + mean)


def test_color_is_brightness_then_saturation_then_contrast() -> None:
    x = torch.rand(2, 3, 4, 4)
    g = _seeded(5)
    b, s, c = (torch.rand(2, generator=g).view(2, 1, 1, 1) for _ in range(3))
    want = x + (b - 0.5) * 0.5
    want = (want - want.mean(1, keepdim=True)) * 2 * s + want.mean(1, keepdim=True)
    mean = want.mean((1, 2, 3), keepdim=True)
    want = (want - mean) * (c + 0.5) + mean
    torch.testing.assert_close(_augment("color", seed=5)(x), want)


@pytest.mark.parametrize(("value_range", "fill"), [((0.0, 1.0), 0.5), ((-1.0, 1.0), 0.0)])
def test_translation_moves_a_delta_by_the_drawn_offset(
    value_range: tuple[float, float], fill: float
) -> None:
    size, batch = 16, 6
    x = torch.zeros(batch, 1, size, size)
    x[:, :, 7, 9] = 1.0
    g = _seeded(2)
    shift = round(size * 0.125)  # 2
    dy = torch.randint(-shift, shift + 1, (batch,), generator=g)
    dx = torch.randint(-shift, shift + 1, (batch,), generator=g)
    out = _augment("translation", seed=2, value_range=value_range)(x)
    assert (dy != 0).any() and (dx != 0).any()
    for i in range(batch):
        oy, ox = int(dy[i]), int(dx[i])
        want = torch.roll(x[i], (oy, ox), dims=(-2, -1))
        # The border the shift uncovers holds the fill value (the official zero in [-1, 1]).
        if oy > 0:
            want[:, :oy] = fill
        elif oy < 0:
            want[:, size + oy :] = fill
        if ox > 0:
            want[:, :, :ox] = fill
        elif ox < 0:
            want[:, :, size + ox :] = fill
        assert torch.equal(out[i], want), (i, oy, ox)
        assert out[i, 0, 7 + oy, 9 + ox] == 1.0


@pytest.mark.parametrize(("size", "cut"), [(16, 8), (10, 5)])
def test_cutout_blanks_a_square_of_the_ratio(size: int, cut: int) -> None:
    batch = 8
    x = torch.ones(batch, 3, size, size)
    g = _seeded(4)
    high = size + 1 - cut % 2  # the official centre range keeps even and odd squares unbiased
    cy = torch.randint(0, high, (batch,), generator=g)
    cx = torch.randint(0, high, (batch,), generator=g)
    out = _augment("cutout", seed=4)(x)
    for i in range(batch):
        top, left = int(cy[i]) - cut // 2, int(cx[i]) - cut // 2
        want = torch.ones(3, size, size)
        want[:, max(0, top) : max(0, top + cut), max(0, left) : max(0, left + cut)] = 0.5
        assert torch.equal(out[i], want), i
        inside = 0 <= top and top + cut <= size and 0 <= left and left + cut <= size
        if inside:
            assert int((out[i, 0] == 0.5).sum()) == cut * cut
    zeroed = _augment("cutout", seed=4, value_range=(-1.0, 1.0))(x)
    assert set(zeroed.unique().tolist()) <= {0.0, 1.0}  # the official x * mask


def test_same_transform_for_paired_inputs() -> None:
    x = torch.rand(3, 3, 16, 16)
    policy = "color,translation,cutout"
    image, condition = _augment(policy, seed=7)(x, x.clone())
    assert torch.equal(image, condition)
    # The condition does not change the draws: the image gets what it would get alone.
    alone = _augment(policy, seed=7)(x)
    torch.testing.assert_close(image, alone)
    # Geometry is shared: a condition that is the image's negative stays its negative.
    image, negative = _augment("translation,cutout", seed=7, value_range=(-1.0, 1.0))(x, -x)
    assert torch.equal(negative, -image)


def test_reproducible_with_a_seeded_generator_and_with_the_global_rng() -> None:
    x = torch.rand(2, 3, 16, 16)
    a = _augment("color,translation,cutout", seed=11)(x)
    b = _augment("color,translation,cutout", seed=11)(x)
    c = _augment("color,translation,cutout", seed=12)(x)
    assert torch.equal(a, b) and not torch.equal(a, c)
    augment = DiffAugment()
    torch.manual_seed(3)
    d = augment(x)
    torch.manual_seed(3)
    assert torch.equal(d, augment(x))


def test_each_sample_gets_its_own_parameters() -> None:
    x = torch.rand(1, 3, 16, 16).expand(4, 3, 16, 16)
    out = _augment("color,translation,cutout", seed=0)(x)
    assert all(not torch.equal(out[0], out[i]) for i in range(1, 4))


def test_matches_the_official_transform_on_minus_one_to_one_images() -> None:
    """The documented choice: DiffAugment(x) == (official(2x - 1) + 1) / 2 for equal draws."""
    x = torch.rand(3, 3, 16, 16)
    ours = _augment("color,translation,cutout", seed=9)(x)
    official = _augment("color,translation,cutout", seed=9, value_range=(-1.0, 1.0))(2 * x - 1)
    torch.testing.assert_close(ours, (official + 1) / 2)


def test_gradients_flow_to_every_input() -> None:
    x = torch.rand(2, 3, 8, 8, requires_grad=True)
    condition = torch.rand(2, 3, 8, 8, requires_grad=True)
    image, cond = _augment("color,translation,cutout")(x, condition)
    (image.square().sum() + cond.sum()).backward()
    assert x.grad is not None and condition.grad is not None
    assert x.grad.abs().sum() > 0 and condition.grad.abs().sum() > 0

    x64 = torch.rand(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)

    def augment(image: torch.Tensor) -> torch.Tensor:
        out = _augment("color,translation,cutout", seed=1)(image)
        assert isinstance(out, torch.Tensor)
        return out

    assert torch.autograd.gradcheck(augment, (x64,))


def test_empty_policy_is_the_identity() -> None:
    x = torch.rand(2, 3, 8, 8)
    assert torch.equal(DiffAugment("")(x), x)
    assert torch.equal(DiffAugment([])(x), x)
    pair = DiffAugment(" , ")(x, x + 1)
    assert isinstance(pair, tuple) and torch.equal(pair[1], x + 1)


def test_policy_parsing_and_errors() -> None:
    assert DiffAugment(" color , cutout").policy == ("color", "cutout")
    assert DiffAugment(["translation"]).policy == ("translation",)
    with pytest.raises(ValueError, match=r"'colour'.*valid: color, translation, cutout"):
        DiffAugment("colour,cutout")
    with pytest.raises(TypeError, match="policy"):
        DiffAugment(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="translation_ratio"):
        DiffAugment(translation_ratio=1.5)
    with pytest.raises(ValueError, match="value_range"):
        DiffAugment(value_range=(1.0, 0.0))
    augment = DiffAugment()
    with pytest.raises(ValueError, match="share batch size"):
        augment(torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 6))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        augment(torch.rand(3, 8, 8))
    with pytest.raises(TypeError, match="at least one"):
        augment()
    assert set(DIFFAUGMENT_POLICIES) >= {"color", "translation", "cutout"}
