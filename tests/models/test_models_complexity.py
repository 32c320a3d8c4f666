"""MAC counting against hand computations; meta device equals CPU; padding and fallback."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import deblurgan.models.complexity as complexity
from deblurgan.models import build_generator
from deblurgan.models.complexity import count_macs, generator_macs, module_macs
from deblurgan.nn import SelfAttention2d


def _small_net() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.Conv2d(8, 8, 3, padding=1, groups=8),  # depthwise
        nn.Conv2d(8, 4, 1, groups=2),  # grouped pointwise
        nn.ReLU(),
        nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1),  # (B, 2, 12, 12)
        nn.Flatten(),
        nn.Linear(288, 5),
    )


def test_count_macs_matches_hand_computation() -> None:
    # Input (2, 3, 6, 6). conv: 576 outputs x 27; depthwise: 576 x 9; grouped 1x1: 288 x 4;
    # transposed: 288 inputs x 2 x 16; linear: 10 outputs x 288.
    expected = 576 * 27 + 576 * 9 + 288 * 4 + 288 * 32 + 10 * 288
    assert expected == 33_984
    net = _small_net().train()
    assert count_macs(net, (2, 3, 6, 6)) == expected
    assert net.training and all(m.training for m in net)  # the mode comes back
    with torch.device("meta"):
        meta_net = _small_net()
    assert count_macs(meta_net, (2, 3, 6, 6)) == expected  # runs on the meta device
    grouped_t = nn.ConvTranspose2d(4, 4, 3, groups=2)
    x = torch.zeros(1, 4, 5, 5)
    assert module_macs(grouped_t, (x,), grouped_t(x)) == 100 * 2 * 9


def test_self_attention_adds_its_matrix_products() -> None:
    net = nn.Sequential(SelfAttention2d(8, reduction=4))
    # 1x1 convolutions: 16 positions x 8 x (2 + 2 + 8); products: 16^2 x (2 + 8).
    assert count_macs(net, (1, 8, 4, 4)) == 16 * 8 * 12 + 256 * 10


def test_count_macs_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="input_shape"):
        count_macs(_small_net(), (2, 3, 0, 6))


def test_generator_macs_pads_to_the_size_multiple() -> None:
    spec = {"width": 4, "n_blocks": 1}
    model = build_generator({"name": "resnet", **spec})
    # 30x61 is padded to 32x64 (multiples of 4).
    assert generator_macs("resnet", spec, height=30, width=61) == count_macs(model, (1, 3, 32, 64))
    with pytest.raises(ValueError, match="unknown generator"):
        generator_macs("nope")


def test_generator_macs_falls_back_to_a_scaled_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = {"width": 4, "n_blocks": 1}
    exact = generator_macs("resnet", spec, height=64, width=128)
    real = complexity.count_macs
    devices: list[str] = []

    def no_meta(model: nn.Module, shape: tuple[int, ...], **kwargs: object) -> int:
        device = next(model.parameters()).device
        devices.append(device.type)
        if device.type == "meta":
            raise NotImplementedError("no meta kernel")
        return real(model, shape, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(complexity, "count_macs", no_meta)
    # A quarter of the size (16x32), scaled by 16: exact for a convolutional network.
    assert generator_macs("resnet", spec, height=64, width=128) == exact
    assert devices == ["meta", "cpu"]
