"""The feedback generator: one estimate per iteration, state and estimate fed back, learning."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deblurgan.models import GENERATORS, build_generator


def _tiny(**kwargs: int) -> nn.Module:
    return build_generator({"name": "feedback", "width": 4, "n_blocks": 1, **kwargs})


def test_iterations_feed_back_the_estimate_and_the_lstm_state() -> None:
    net = _tiny(iterations=3).eval()
    nn.init.normal_(net.tail.weight, std=0.1)  # leave the identity start, so iterations differ
    blurry = torch.rand(2, 3, 16, 12)
    with torch.no_grad():
        estimates = net.forward_iterations(blurry)
        assert len(estimates) == 3 and all(e.shape == blurry.shape for e in estimates)
        torch.testing.assert_close(net(blurry), estimates[-1])
        assert not torch.allclose(estimates[0], estimates[1])
        # The recurrence unrolled by hand: input [blurry, previous estimate], state carried.
        estimate, state = blurry, None
        for expected in estimates:
            e1 = net.enc1(torch.cat([blurry, estimate], 1))
            e2 = net.enc2(e1)
            h, c = net.lstm(net.enc3(e2), state)
            state = (h, c)
            d1 = net.dec1(net.up1(net.dec2(net.up2(net.dec3(h)) + e2)) + e1)
            estimate = (blurry + net.tail(d1)).clamp(0, 1)
            torch.testing.assert_close(expected, estimate)
        # The state matters: the second pass from a fresh state gives another estimate.
        e1 = net.enc1(torch.cat([blurry, estimates[0]], 1))
        e2 = net.enc2(e1)
        h, _ = net.lstm(net.enc3(e2))
        d1 = net.dec1(net.up1(net.dec2(net.up2(net.dec3(h)) + e2)) + e1)
        assert not torch.allclose((blurry + net.tail(d1)).clamp(0, 1), estimates[1])


def test_feedback_starts_as_identity_and_learns_on_every_iteration(make_image) -> None:
    sharp = make_image(2, 32, 32, seed=2)
    blurry = F.avg_pool2d(F.pad(sharp, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    net = build_generator({"name": "feedback", "width": 8, "iterations": 2, "n_blocks": 1})
    assert all(torch.equal(e, blurry) for e in net.forward_iterations(blurry))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def loss() -> torch.Tensor:
        return sum(F.l1_loss(e, sharp) for e in net.forward_iterations(blurry)) / 2

    before = loss().item()
    for _ in range(30):
        value = loss()
        opt.zero_grad()
        value.backward()
        opt.step()
    assert loss().item() < 0.8 * before


def test_feedback_rejects_bad_settings_and_sizes() -> None:
    with pytest.raises(ValueError, match="iterations"):
        GENERATORS.build("feedback", iterations=0)
    with pytest.raises(ValueError, match="divisible by 4"):
        _tiny(iterations=1)(torch.rand(1, 3, 16, 10))
