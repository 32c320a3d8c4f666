"""Blocks of deblurgan.nn checked against hand-written functional references and key layouts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deblurgan.nn import ACTIVATIONS, NORMS, ConvNormAct, ResidualBlock, get_act, get_norm


def test_get_norm_kinds() -> None:
    batch = get_norm("batch", 4)
    assert isinstance(batch, nn.BatchNorm2d) and batch.affine and batch.track_running_stats
    inst = get_norm("instance", 4)
    assert isinstance(inst, nn.InstanceNorm2d) and not inst.affine
    assert not inst.track_running_stats and not list(inst.state_dict())
    tracked = get_norm("instance", 4, track_running_stats=True)
    assert sorted(tracked.state_dict()) == ["num_batches_tracked", "running_mean", "running_var"]
    assert isinstance(get_norm("none", 4), nn.Identity)
    assert set(NORMS) == {"batch", "instance", "none"}


def test_get_norm_and_act_reject_unknown_names() -> None:
    with pytest.raises(ValueError, match=r"unknown norm 'group'.*batch, instance, none"):
        get_norm("group", 4)
    with pytest.raises(ValueError, match=r"channels"):
        get_norm("batch", 0)
    with pytest.raises(ValueError, match=r"unknown activation 'gelu'"):
        get_act("gelu")


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_get_act_matches_functional(name: str) -> None:
    x = torch.linspace(-8, 8, 33)
    expected = {
        "relu": x.clamp(min=0),
        "relu6": x.clamp(0, 6),
        "leaky_relu": torch.where(x > 0, x, 0.2 * x),
        "tanh": torch.tanh(x),
        "none": x,
    }[name]
    torch.testing.assert_close(get_act(name)(x.clone()), expected)


def test_conv_norm_act_matches_functional_reference() -> None:
    g = torch.Generator().manual_seed(1)
    block = ConvNormAct(3, 5, 3, stride=2, norm="batch", act="relu6").eval()
    bn = block[1]
    assert isinstance(bn, nn.BatchNorm2d)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(5, generator=g))
        bn.running_var.copy_(torch.rand(5, generator=g) + 0.5)
        bn.weight.copy_(torch.randn(5, generator=g))
        bn.bias.copy_(torch.randn(5, generator=g))
    x = torch.randn(2, 3, 9, 11, generator=g)
    conv_weight = block[0].weight
    assert block[0].bias is None  # a norm follows: no bias by default
    y = F.conv2d(x, conv_weight, stride=2, padding=1)
    shape = (1, 5, 1, 1)
    y = (y - bn.running_mean.view(shape)) / torch.sqrt(bn.running_var.view(shape) + bn.eps)
    y = (y * bn.weight.view(shape) + bn.bias.view(shape)).clamp(0, 6)
    with torch.no_grad():
        out = block(x)
    assert out.shape == (2, 5, 5, 6)
    torch.testing.assert_close(out, y)


def test_conv_norm_act_layout_and_depthwise() -> None:
    block = ConvNormAct(8, 8, 3, groups=8, norm="none", act="none")
    assert list(block.state_dict()) == ["0.weight", "0.bias"]  # no norm: conv has a bias
    assert block[0].weight.shape == (8, 1, 3, 3)
    assert isinstance(block[1], nn.Identity) and isinstance(block[2], nn.Identity)
    with pytest.raises(ValueError, match=r"stride"):
        ConvNormAct(3, 4, 3, stride=0)


def test_residual_block_matches_functional_reference() -> None:
    g = torch.Generator().manual_seed(2)
    block = ResidualBlock(4, norm="instance", dropout=0.0)
    x = torch.randn(2, 4, 7, 6, generator=g)
    c1, c2 = block.conv_block[1], block.conv_block[5]
    assert isinstance(c1, nn.Conv2d) and isinstance(c2, nn.Conv2d)

    def inorm(t: torch.Tensor) -> torch.Tensor:
        mean = t.mean((2, 3), keepdim=True)
        var = t.var((2, 3), unbiased=False, keepdim=True)
        return (t - mean) / torch.sqrt(var + 1e-5)

    h = inorm(F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), c1.weight, c1.bias)).clamp(min=0)
    h = inorm(F.conv2d(F.pad(h, (1, 1, 1, 1), mode="reflect"), c2.weight, c2.bias))
    with torch.no_grad():
        torch.testing.assert_close(block(x), x + h)


def test_residual_block_with_zero_weights_is_identity() -> None:
    block = ResidualBlock(4, norm="batch", padding_mode="zeros").eval()
    for p in block.parameters():
        nn.init.zeros_(p)
    x = torch.randn(1, 4, 5, 5)
    with torch.no_grad():
        torch.testing.assert_close(block(x), x)


def test_residual_block_key_layout_matches_pix2pix() -> None:
    with_dropout = ResidualBlock(4, dropout=0.5)
    without = ResidualBlock(4)
    zeros = ResidualBlock(4, padding_mode="zeros", norm="batch")
    assert [k for k in with_dropout.state_dict()] == [
        "conv_block.1.weight",
        "conv_block.1.bias",
        "conv_block.6.weight",
        "conv_block.6.bias",
    ]
    assert [k for k in without.state_dict() if "weight" in k] == [
        "conv_block.1.weight",
        "conv_block.5.weight",
    ]
    assert zeros.conv_block[0].bias is None  # batch norm: no conv bias, as in pix2pix
    assert [k for k in zeros.state_dict() if k.endswith(".weight")] == [
        "conv_block.0.weight",
        "conv_block.1.weight",
        "conv_block.3.weight",
        "conv_block.4.weight",
    ]
    with pytest.raises(ValueError, match=r"padding_mode"):
        ResidualBlock(4, padding_mode="circular")
    with pytest.raises(ValueError, match=r"dropout"):
        ResidualBlock(4, dropout=1.0)
