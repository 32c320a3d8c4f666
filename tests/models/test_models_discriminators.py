"""Global critic and conditional PatchGAN: shapes, receptive fields, counts, error paths."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deblurgan.models import DISCRIMINATORS
from deblurgan.models.discriminators import GlobalDiscriminator, PatchDiscriminator


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_global_critic_sees_the_whole_image() -> None:
    critic = GlobalDiscriminator(width=2, depth=4, norm="none")
    image = torch.rand(1, 3, 48, 80, requires_grad=True)
    (logits,) = critic(image)
    assert logits.shape == (1, 1, 1, 1)
    logits.sum().backward()
    assert image.grad is not None and bool((image.grad != 0).all())  # every pixel counts
    # Any size: odd sides too.
    assert critic(torch.rand(2, 3, 37, 53))[0].shape == (2, 1, 1, 1)


def test_global_critic_layout_and_count() -> None:
    with torch.device("meta"):
        critic = DISCRIMINATORS.build("global")
    convs = [m for m in critic.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 512]
    assert all(c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs)
    widths = [3, 64, 128, 256, 512, 512]
    expected = sum(widths[i] * widths[i + 1] * 16 + widths[i + 1] for i in range(5)) + 512 + 1
    assert _count(critic) == expected
    sn = GlobalDiscriminator(width=4, spectral_norm=True, norm="batch")
    assert any("parametrizations.weight.original" in k for k in sn.state_dict())
    assert sn(torch.rand(2, 3, 64, 64))[0].shape == (2, 1, 1, 1)
    with pytest.raises(ValueError, match=r"depth"):
        GlobalDiscriminator(depth=0)


def test_conditional_patchgan_concatenates_the_condition_first() -> None:
    torch.manual_seed(0)
    conditional = PatchDiscriminator(width=4, conditional=True)
    assert conditional.model[0].in_channels == 6
    plain = PatchDiscriminator(6, width=4)
    plain.load_state_dict(conditional.state_dict())  # the same layout, 6 input channels
    image, blurry = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        ours = conditional(image, blurry)[0]
        torch.testing.assert_close(ours, plain(torch.cat([blurry, image], 1))[0])
        assert not torch.allclose(ours, plain(torch.cat([image, blurry], 1))[0])
    with pytest.raises(ValueError, match=r"conditional"):
        conditional(image)
    with pytest.raises(ValueError, match=r"differs"):
        conditional(image, blurry[:, :, :32])
    with pytest.raises(ValueError, match=r"unconditional"):
        PatchDiscriminator(width=4)(image, blurry)


def test_conditional_patchgan_from_spec_with_spectral_norm() -> None:
    critic = DISCRIMINATORS.from_spec(
        {"name": "patchgan", "width": 4, "conditional": True, "spectral_norm": True, "norm": "none"}
    )
    maps = critic(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64))
    assert [m.shape for m in maps] == [torch.Size([1, 1, 6, 6])]
    # pix2pix's conditional 70x70 critic (6 input channels, batch norm) prints 2.769 M: the
    # unconditional instance-norm count, plus 3 x 64 x 4 x 4 first-layer weights, plus BN affine
    # parameters in place of the biases of the three normalised convolutions.
    with torch.device("meta"):
        pix2pix = PatchDiscriminator(width=64, conditional=True, norm="batch")
    assert _count(pix2pix) == 2_764_737 + 3 * 64 * 16 + (128 + 256 + 512) == 2_768_705
