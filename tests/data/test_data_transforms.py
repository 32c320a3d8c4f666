"""Paired transforms: one window and one flip for both images, seeded per item."""

from __future__ import annotations

import pytest
import torch

from deblurgan.data.transforms import (
    crop_window,
    item_generator,
    item_seed,
    random_crop_pair,
    random_flip_pair,
)


def test_item_seed_is_stable_and_mixes() -> None:
    assert item_seed(0, 7) == item_seed(0, 7)
    seeds = {item_seed(s, i) for s in range(3) for i in range(100)}
    assert len(seeds) == 300
    assert all(0 <= s < 2**63 for s in seeds)
    a = torch.rand(3, generator=item_generator(1, 2))
    assert torch.equal(a, torch.rand(3, generator=item_generator(1, 2)))
    assert not torch.equal(a, torch.rand(3, generator=item_generator(1, 3)))


def test_crop_window_covers_every_position_and_stays_inside() -> None:
    g = torch.Generator().manual_seed(0)
    seen = {crop_window(6, 5, (4, 3), generator=g) for _ in range(400)}
    assert seen == {(t, l) for t in range(3) for l in range(3)}
    with pytest.raises(ValueError, match="does not fit"):
        crop_window(6, 5, 6, generator=g)
    with pytest.raises(ValueError, match="crop size"):
        crop_window(6, 5, 0, generator=g)


def test_random_crop_pair_uses_one_window() -> None:
    g = torch.Generator().manual_seed(1)
    image = torch.arange(3 * 20 * 30, dtype=torch.float32).view(3, 20, 30)
    for _ in range(20):
        blurry, sharp = random_crop_pair(image, image + 0.5, (8, 12), generator=g)
        assert blurry.shape == (3, 8, 12)
        assert torch.equal(blurry + 0.5, sharp)
        top, left = divmod(int(blurry[0, 0, 0]), 30)
        assert torch.equal(blurry, image[:, top : top + 8, left : left + 12])
    with pytest.raises(ValueError, match="height and width"):
        random_crop_pair(image, image[:, :10], 4, generator=g)


def test_random_flip_pair_flips_both_alike() -> None:
    g = torch.Generator().manual_seed(2)
    image = torch.rand(3, 6, 7, generator=g)
    outcomes = set()
    for _ in range(64):
        blurry, sharp = random_flip_pair(image, image.clone(), generator=g)
        assert torch.equal(blurry, sharp)
        h = torch.equal(blurry, image.flip(-1)) or torch.equal(blurry, image.flip(-1, -2))
        v = torch.equal(blurry, image.flip(-2)) or torch.equal(blurry, image.flip(-1, -2))
        outcomes.add((h, v))
    assert outcomes == {(False, False), (True, False), (False, True), (True, True)}
    for _ in range(16):
        blurry, _ = random_flip_pair(image, image, generator=g, horizontal=False)
        assert torch.equal(blurry, image) or torch.equal(blurry, image.flip(-2))
