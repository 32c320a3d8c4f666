"""SRGAN generator and critic (Ledig et al., 2017): layout, parameter counts by hand, behaviour."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deblurgan.models import DISCRIMINATORS, build_generator
from deblurgan.models.discriminators import SRGANDiscriminator


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_srgan_generator_count_by_hand() -> None:
    with torch.device("meta"):
        model = build_generator("srgan")
    conv3 = 64 * 64 * 9 + 64
    block = 2 * conv3 + 2 * (2 * 64) + 64  # two convs, two BNs, one per-channel PReLU
    head = 3 * 64 * 81 + 64 + 64  # 9x9 conv and its PReLU
    body_tail = conv3 + 2 * 64
    tail = 64 * 3 * 81 + 3
    assert _count(model) == head + 16 * block + body_tail + tail == 1_255_107
    # Fig. 4 of the paper, with its two upsampling blocks (64 -> 256 conv, PReLU) counted in,
    # gives SRResNet's familiar 1.55 M.
    assert _count(model) + 2 * (64 * 256 * 9 + 256 + 64) == 1_550_659
    blocks = [m for m in model.body if isinstance(m, nn.Module)]
    assert len(blocks) == 16
    assert [type(m).__name__ for m in blocks[0].body] == [
        "Conv2d", "BatchNorm2d", "PReLU", "Conv2d", "BatchNorm2d",
    ]  # fmt: skip
    assert model.head[0].kernel_size == (9, 9) and model.tail.kernel_size == (9, 9)


def test_srgan_generator_skips_and_range() -> None:
    torch.manual_seed(0)
    model = build_generator({"name": "srgan", "width": 4, "n_blocks": 2}).eval()
    blurry = torch.rand(1, 3, 19, 23)  # any size: no down-sampling
    with torch.inference_mode():
        restored = model(blurry)
        # Independent recomputation of Fig. 4 (without upsampling) from the modules.
        x = blurry * 2 - 1
        first = model.head(x)
        h = first
        for block in model.body:
            h = h + block.body(h)
        expected = (torch.tanh(model.tail(first + model.body_tail(h))) + 1) / 2
    torch.testing.assert_close(restored, expected)
    assert restored.shape == blurry.shape and 0 <= restored.min() and restored.max() <= 1
    residual = build_generator(
        {"name": "srgan", "width": 4, "n_blocks": 0, "global_residual": True}
    )
    with torch.no_grad():
        residual.tail.weight.zero_()
        residual.tail.bias.zero_()
    torch.testing.assert_close(residual.eval()(blurry), blurry)  # zero output -> identity
    with pytest.raises(ValueError, match=r"n_blocks"):
        build_generator({"name": "srgan", "n_blocks": -1})


def test_srgan_critic_layout_and_count() -> None:
    with torch.device("meta"):
        paper = SRGANDiscriminator(input_size=96)
        pooled = DISCRIMINATORS.build("srgan")
    convs = [m for m in paper.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [c.stride[0] for c in convs] == [1, 2, 1, 2, 1, 2, 1, 2]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in paper.features) == 7
    widths = [3, 64, 64, 128, 128, 256, 256, 512, 512]
    conv_params = 64 * 3 * 9 + 64  # the first convolution has a bias and no BN
    conv_params += sum(widths[i] * widths[i + 1] * 9 + 2 * widths[i + 1] for i in range(1, 8))
    dense = 512 * 6 * 6 * 1024 + 1024 + 1024 + 1  # 96 / 16 = 6
    assert _count(paper) == conv_params + dense
    assert _count(pooled) == conv_params + 512 * 1024 + 1024 + 1024 + 1


def test_srgan_critic_sizes_and_errors() -> None:
    critic = SRGANDiscriminator(width=4, input_size=32)
    assert critic(torch.rand(2, 3, 32, 32))[0].shape == (2, 1, 1, 1)
    with pytest.raises(ValueError, match=r"32x32.*got 64x64"):
        critic(torch.rand(2, 3, 64, 64))
    with pytest.raises(ValueError, match=r"multiple of 16"):
        SRGANDiscriminator(input_size=40)
    pooled = SRGANDiscriminator(width=4, spectral_norm=True)
    assert pooled(torch.rand(2, 3, 48, 80))[0].shape == (2, 1, 1, 1)
    assert any("parametrizations.weight.original" in k for k in pooled.state_dict())
