"""Aligned augmentation: quarter turns, colour jitter and PairAugment keep pairs consistent."""

from __future__ import annotations

import pytest
import torch

from deblurgan.data.transforms import (
    PairAugment,
    item_generator,
    random_colour_jitter_pair,
    random_crop_pair,
    random_flip_pair,
    random_rot90_pair,
)


def _image(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def test_rot90_draws_every_turn_on_squares_and_only_half_turns_otherwise() -> None:
    g = torch.Generator().manual_seed(0)
    square = _image(3, 5, 5)
    turns = set()
    for _ in range(64):
        blurry, sharp = random_rot90_pair(square, square + 1, generator=g)
        assert torch.equal(blurry + 1, sharp)
        turns.add(next(k for k in range(4) if torch.equal(blurry, torch.rot90(square, k, (1, 2)))))
    assert turns == {0, 1, 2, 3}
    wide = _image(3, 4, 6)
    shapes = set()
    for _ in range(32):
        blurry, _ = random_rot90_pair(wide, wide, generator=g)
        assert blurry.shape == wide.shape
        shapes.add(torch.equal(blurry, wide.flip(-1, -2)))
    assert shapes == {True, False}


def test_jitter_applies_the_hand_computed_factors_to_both_images() -> None:
    blurry, sharp = _image(3, 6, 7, seed=1) * 0.5, _image(3, 6, 7, seed=2) * 0.5
    u = torch.rand(3, generator=torch.Generator().manual_seed(3), dtype=torch.float64).tolist()
    b, c, s = (1 - 0.4 + 0.8 * u[0]), (1 - 0.3 + 0.6 * u[1]), (1 - 0.2 + 0.4 * u[2])
    out_b, out_s = random_colour_jitter_pair(
        blurry,
        sharp,
        brightness=0.4,
        contrast=0.3,
        saturation=0.2,
        generator=torch.Generator().manual_seed(3),
    )
    weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
    bright = [(x * b).clamp(0, 1) for x in (blurry, sharp)]
    mean = (bright[1] * weights).sum(0).mean()  # contrast pivots on the sharp image's mean grey
    contrasted = [((x - mean) * c + mean).clamp(0, 1) for x in bright]
    expected = []
    for x in contrasted:
        grey = (x * weights).sum(0, keepdim=True)
        expected.append(((x - grey) * s + grey).clamp(0, 1))
    torch.testing.assert_close(out_b, expected[0])
    torch.testing.assert_close(out_s, expected[1])


def test_jitter_is_one_function_for_both_images_and_off_by_default() -> None:
    image = _image(2, 3, 8, 8, seed=4)
    b, s = random_colour_jitter_pair(
        image,
        image.clone(),
        brightness=0.5,
        contrast=0.5,
        saturation=0.5,
        generator=item_generator(0, 1),
    )
    assert torch.equal(b, s) and not torch.equal(b, image)
    g = torch.Generator().manual_seed(5)
    b, s = random_colour_jitter_pair(image, image, generator=g)
    assert b is image and s is image
    # Always three draws, whatever is enabled: the next number is the fourth of the stream.
    assert (
        torch.rand(1, generator=g, dtype=torch.float64)
        == torch.rand(4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)[3]
    )
    with pytest.raises(ValueError, match="brightness"):
        random_colour_jitter_pair(image, image, brightness=1.5, generator=g)
    with pytest.raises(ValueError, match="RGB"):
        random_colour_jitter_pair(image[:, :2], image[:, :2], generator=g)


def test_pair_augment_keeps_pairs_aligned_and_earlier_steps_unchanged() -> None:
    image = _image(3, 20, 24, seed=6)
    full = PairAugment(crop_size=8, flip=True, rot90=True, jitter={"contrast": 0.3})
    seen = set()
    for i in range(16):
        blurry, sharp = full(image, image.clone(), generator=item_generator(1, i))
        assert blurry.shape == (3, 8, 8) and torch.equal(blurry, sharp)
        seen.add(tuple(blurry[:, 0, 0].tolist()))
    assert len(seen) == 16
    # Crop and flip alone are exactly the two transforms in a row (disabled steps draw nothing),
    # and switching on later steps does not move the crop window.
    plain = PairAugment(crop_size=8, flip=True)
    g = item_generator(2, 0)
    expected = random_flip_pair(*random_crop_pair(image, image, 8, generator=g), generator=g)
    assert torch.equal(plain(image, image, generator=item_generator(2, 0))[0], expected[0])
    crop_only, _ = PairAugment(crop_size=8)(image, image, generator=item_generator(3, 0))
    turned, _ = PairAugment(crop_size=8, rot90=True)(image, image, generator=item_generator(3, 0))
    assert any(torch.equal(turned, torch.rot90(crop_only, k, (1, 2))) for k in range(4))
    assert not PairAugment().random and PairAugment(jitter={"saturation": 0.1}).random


def test_pair_augment_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="crop_size"):
        PairAugment(crop_size=0)
    with pytest.raises(ValueError, match="unknown jitter"):
        PairAugment(jitter={"hue": 0.1})
    with pytest.raises(TypeError, match="jitter"):
        PairAugment(jitter=0.2)  # type: ignore[arg-type]
    assert PairAugment(crop_size=(4, 6)).min_size == (4, 6)
