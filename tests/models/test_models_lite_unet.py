"""The shipped architecture: starts as the identity, learns, rejects unpadded sizes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from deblurgan.models import build_generator


def test_untrained_lite_unet_is_the_identity() -> None:
    model = build_generator({"name": "lite_unet", "width": 4, "blocks": 1})
    blurry = torch.rand(2, 3, 40, 24)
    assert torch.equal(model(blurry), blurry)


def test_lite_unet_learns_to_sharpen(make_image) -> None:
    # A box-blurred smooth image: a few Adam steps must bring the output closer to the sharp one.
    sharp = make_image(2, 32, 32, seed=3)
    blurry = F.avg_pool2d(F.pad(sharp, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    model = build_generator({"name": "lite_unet", "width": 8, "blocks": 1})
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = F.l1_loss(model(blurry), sharp).item()
    for _ in range(40):
        loss = F.l1_loss(model(blurry), sharp)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert F.l1_loss(model(blurry), sharp).item() < 0.7 * before


def test_lite_unet_rejects_sizes_that_are_not_multiples() -> None:
    model = build_generator({"name": "lite_unet", "width": 4, "blocks": 1})
    with pytest.raises(ValueError, match="divisible by 8"):
        model(torch.rand(1, 3, 30, 32))


def test_saturated_lite_unet_still_learns() -> None:
    # Every output pixel pushed far above 1 (as after one bad step at a high learning rate): the
    # clamp keeps the output in [0, 1], and the gradient still reaches the weights to pull it back.
    model = build_generator({"name": "lite_unet", "width": 4, "blocks": 1})
    with torch.no_grad():
        model.tail.bias.fill_(5.0)
    blurry = torch.rand(1, 3, 16, 16)
    target = blurry.clone()
    out = model(blurry)
    assert torch.equal(out, torch.ones_like(out))  # clamped forward
    F.l1_loss(out, target).backward()
    assert model.tail.bias.grad is not None and (model.tail.bias.grad > 0).all()
    opt = torch.optim.Adam([model.tail.bias], lr=0.6)  # a plain clamp would leave it at 5 forever
    for _ in range(12):
        opt.zero_grad()
        F.l1_loss(model(blurry), target).backward()
        opt.step()
    assert (model(blurry) < 1).float().mean() > 0.9  # back in range
