"""A light residual U-Net on pixel-unshuffled input: the first shipped model's fast CPU generator.

Design, and why: DeblurGAN-v2's FPN works at 1/4 resolution and adds its output to the input, so
fine detail must be rebuilt from coarse features; trained from scratch (no ImageNet backbone) it
learns slowly. Here the input is rearranged losslessly into a half-resolution tensor with 12
channels (pixel unshuffle, Shi et al., 2016, "Real-Time Single Image and Video Super-Resolution
Using an Efficient Sub-Pixel Convolutional Neural Network"), processed by a three-level U-Net of
residual blocks without normalisation (as in MIMO-UNet, Cho et al., 2021, and NAFNet, Chen et al.,
2022), shuffled back to full resolution and added to the blurry input (a global residual: the
network predicts the correction). Every pixel keeps a full-resolution path, the convolutions run
on a quarter of the pixels, and the last layer starts at zero so the untrained model is the
identity. The output is clamped to [0, 1] with a straight-through gradient: a plain clamp passes no
gradient where the output saturates, so one bad step that pushes every pixel out of range (seen at
learning rate 1e-3) would leave the network stuck there for good.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.models.registries import GENERATORS

__all__ = ["LiteUNetGenerator"]


class _ResBlock(nn.Module):
    """conv3x3 - ReLU - conv3x3, plus the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(F.relu(self.conv1(x), inplace=True))


def clamp_straight_through(x: Tensor) -> Tensor:
    """``x.clamp(0, 1)`` forward; backward passes the gradient as if there were no clamp.

    Example:
        >>> import torch
        >>> x = torch.tensor([-0.5, 0.5, 1.5], requires_grad=True)
        >>> y = clamp_straight_through(x)
        >>> y.detach().tolist(), torch.autograd.grad(y.sum(), x)[0].tolist()
        ([0.0, 0.5, 1.0], [1.0, 1.0, 1.0])
    """
    return x + (x.clamp(0, 1) - x).detach()


def _stage(channels: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(*[_ResBlock(channels) for _ in range(blocks)])


@GENERATORS.register("lite_unet")
class LiteUNetGenerator(nn.Module):
    """Light residual U-Net at half resolution (pixel unshuffle in, pixel shuffle out).

    Args:
        width: channels at the first level (doubled at each of the two lower levels).
        blocks: residual blocks per encoder and decoder stage (the bottleneck has ``2 * blocks``).

    Shape:
        - blurry: ``(B, 3, H, W)`` in [0, 1] with H and W multiples of :attr:`size_multiple` (8).
        - restored: same shape, in [0, 1].

    Example:
        >>> import torch
        >>> model = LiteUNetGenerator(width=8, blocks=1)
        >>> blurry = torch.rand(1, 3, 32, 48)
        >>> torch.equal(model(blurry), blurry)  # the untrained model is the identity
        True
    """

    size_multiple = 8

    def __init__(self, *, width: int = 24, blocks: int = 2) -> None:
        super().__init__()
        if width < 1 or blocks < 1:
            raise ValueError(f"width and blocks must be positive, got {width=}, {blocks=}")
        c1, c2, c3 = width, 2 * width, 4 * width
        self.head = nn.Conv2d(12, c1, 3, padding=1)  # (B, c1, H/2, W/2)
        self.enc1 = _stage(c1, blocks)
        self.down1 = nn.Conv2d(c1, c2, 2, stride=2)  # (B, c2, H/4, W/4)
        self.enc2 = _stage(c2, blocks)
        self.down2 = nn.Conv2d(c2, c3, 2, stride=2)  # (B, c3, H/8, W/8)
        self.middle = _stage(c3, 2 * blocks)
        self.up2 = nn.Sequential(nn.Conv2d(c3, 4 * c2, 1), nn.PixelShuffle(2))
        self.dec2 = _stage(c2, blocks)
        self.up1 = nn.Sequential(nn.Conv2d(c2, 4 * c1, 1), nn.PixelShuffle(2))
        self.dec1 = _stage(c1, blocks)
        self.tail = nn.Conv2d(c1, 12, 3, padding=1)
        nn.init.zeros_(self.tail.weight)  # the untrained model is the identity
        nn.init.zeros_(self.tail.bias)  # type: ignore[arg-type]  # bias=True: never None

    def forward(self, blurry: Tensor) -> Tensor:
        h, w = blurry.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"lite_unet needs height and width divisible by {self.size_multiple}, got {h}x{w}; "
                "pad first (the Deblurrer does)"
            )
        x1 = self.enc1(self.head(F.pixel_unshuffle(blurry, 2)))
        x2 = self.enc2(self.down1(x1))
        x3 = self.middle(self.down2(x2))
        y2 = self.dec2(self.up2(x3) + x2)
        y1 = self.dec1(self.up1(y2) + x1)
        correction = F.pixel_shuffle(self.tail(y1), 2)
        return clamp_straight_through(blurry + correction)
