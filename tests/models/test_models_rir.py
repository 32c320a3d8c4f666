"""Residual-in-residual generators: sizes by hand, identity at start, learning, settings."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from deblurgan.models import GENERATORS, build_generator
from deblurgan.nn import SqueezeExcitation


def _conv3(a: int, b: int) -> int:
    return 9 * a * b + b


def _rcab(c: int) -> int:
    h = max(1, c // 16)
    return 2 * _conv3(c, c) + (c * h + h) + (h * c + c)


def _group(c: int, n: int) -> int:
    return n * _rcab(c) + _conv3(c, c)


def _expected(width: int, n_groups: int, n_blocks: int) -> int:
    c1, c2, c3 = width, 2 * width, 4 * width
    return (
        _conv3(3, c1)
        + 2 * _group(c1, n_blocks)
        + _conv3(c1, c2)
        + 2 * _group(c2, n_blocks)
        + _conv3(c2, c3)
        + n_groups * _group(c3, n_blocks)
        + _conv3(c3, c3)
        + (c3 * 4 * c2 + 4 * c2)  # 1x1 conv before the pixel shuffle
        + (c2 * 4 * c1 + 4 * c1)
        + _conv3(c1, 3)
    )


@pytest.mark.parametrize(("name", "settings"), [("rir", (16, 3, 4)), ("rir_large", (32, 5, 6))])
def test_registered_sizes_match_the_hand_count(name: str, settings: tuple[int, int, int]) -> None:
    with torch.device("meta"):
        net = build_generator(name)
    assert sum(p.numel() for p in net.parameters()) == _expected(*settings)
    _, n_groups, n_blocks = settings
    assert sum(isinstance(m, SqueezeExcitation) for m in net.modules()) == n_blocks * (4 + n_groups)
    assert net.size_multiple == 4


def test_rir_starts_as_identity_and_learns(make_image) -> None:
    sharp = make_image(2, 32, 32, seed=1)
    blurry = F.avg_pool2d(F.pad(sharp, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    model = build_generator({"name": "rir", "width": 8, "n_groups": 1, "n_blocks": 1})
    assert torch.equal(model(blurry), blurry)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = F.l1_loss(model(blurry), sharp).item()
    for _ in range(30):
        loss = F.l1_loss(model(blurry), sharp)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert F.l1_loss(model(blurry), sharp).item() < 0.8 * before


def test_rir_rejects_bad_settings_and_sizes() -> None:
    with pytest.raises(ValueError, match="n_groups"):
        GENERATORS.build("rir", n_groups=0)
    with pytest.raises(ValueError, match="width"):
        GENERATORS.build("rir_large", width=1.5)
    with pytest.raises(ValueError, match="divisible by 4"):
        GENERATORS.build("rir", width=4, n_groups=1, n_blocks=1)(torch.rand(1, 3, 10, 8))
