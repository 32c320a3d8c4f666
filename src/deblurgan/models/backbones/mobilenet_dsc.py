"""Depthwise separable convolutions (Howard et al., 2017, "MobileNets: Efficient Convolutional
Neural Networks for Mobile Vision Applications"), the blocks of DeblurGAN-v2's MobileNet-DSC.

DeblurGAN-v2 (Kupyn et al., ICCV 2019, Sec. 3.1) names "MobileNet-DSC" the FPN-MobileNet whose
standard convolutions outside the (already separable) MobileNetV2 backbone are replaced by depthwise
separable ones; its README reports 14.83 GFLOPs against 43.75 for FPN-MobileNet (no code or weights
were released). A MobileNet-v1 block is a 3x3 depthwise convolution and a 1x1 pointwise one, each
followed by its norm and activation; :class:`DepthwiseSeparableConv` is that block, with the
norm/activation after the pointwise convolution optional so it can stand in for a plain
``nn.Conv2d`` or a conv-norm-act.
"""

from __future__ import annotations

from torch import Tensor, nn

from deblurgan.nn import get_act, get_norm

__all__ = ["DepthwiseSeparableConv"]


class DepthwiseSeparableConv(nn.Module):
    """A ``k x k`` depthwise convolution, then a 1x1 pointwise one: ``depthwise``, ``pointwise``.

    Costs :math:`C_{in}(k^2 + C_{out})` weights instead of :math:`k^2 C_{in} C_{out}`.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: odd square kernel of the depthwise convolution (padding keeps the size).
        stride: stride of the depthwise convolution.
        depthwise_norm: norm after the depthwise convolution (MobileNet v1: ``"batch"``).
        depthwise_act: activation after it (MobileNet v1: ``"relu"``).
        bias: bias of the pointwise convolution.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, C_{out}, \\lceil H / s \\rceil, \\lceil W / s \\rceil)`

    Example:
        >>> import torch
        >>> conv = DepthwiseSeparableConv(8, 16)  # 8 * 9 + (8 * 16 + 16) weights
        >>> conv(torch.rand(1, 8, 10, 10)).shape, sum(p.numel() for p in conv.parameters())
        (torch.Size([1, 16, 10, 10]), 216)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        stride: int = 1,
        depthwise_norm: str = "none",
        depthwise_act: str = "none",
        bias: bool = True,
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd int, got {kernel_size!r}")
        self.depthwise = nn.Sequential(
            nn.Conv2d(
                in_channels,
                in_channels,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                groups=in_channels,
                bias=False,
            ),
            get_norm(depthwise_norm, in_channels),
            get_act(depthwise_act),
        )
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=bias)
        self.out_channels = out_channels

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(x))
