"""SRGAN's residual generator (Ledig et al., CVPR 2017, "Photo-Realistic Single Image
Super-Resolution Using a Generative Adversarial Network"), at image resolution for deblurring.

Fig. 4 of the paper without the two sub-pixel upsampling blocks: a 9x9 convolution with PReLU,
``B`` residual blocks (3x3 conv, BN, PReLU, 3x3 conv, BN, skip), a 3x3 conv with BN whose output
is added to the first feature map (the long skip), and a 9x9 convolution to RGB. PReLUs have one
slope per channel, like the Caffe/TensorFlow layer the paper used.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deblurgan.models.registries import GENERATORS

__all__ = ["SRGANGenerator", "SRResidualBlock"]


class SRResidualBlock(nn.Module):
    """``x + BN(conv(PReLU(BN(conv(x)))))`` with 3x3 convolutions: children of ``body``.

    Args:
        channels: input and output channels.

    Shape:
        - Input: :math:`(B, C, H, W)`
        - Output: :math:`(B, C, H, W)`

    Example:
        >>> SRResidualBlock(4)(torch.rand(2, 4, 8, 8)).shape
        torch.Size([2, 4, 8, 8])
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.PReLU(channels),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


@GENERATORS.register("srgan")
class SRGANGenerator(nn.Module):
    """SRGAN / SRResNet generator without upsampling: ``forward(blurry) -> restored``.

    The network works on [-1, 1] and ends with ``tanh``; ``forward`` converts from and to [0, 1].
    With ``global_residual`` the output is ``clamp(blurry + tanh(out))`` instead (as DeblurGAN).

    Args:
        width: channels of the feature maps (64 in the paper).
        n_blocks: residual blocks (16 in the paper).
        global_residual: add the input to the output.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [0, 1], any size.
        - Output: :math:`(B, 3, H, W)` in [0, 1].

    Example:
        >>> net = SRGANGenerator(width=8, n_blocks=2)
        >>> net(torch.rand(2, 3, 20, 30)).shape
        torch.Size([2, 3, 20, 30])
    """

    size_multiple: int = 1

    def __init__(
        self, *, width: int = 64, n_blocks: int = 16, global_residual: bool = False
    ) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive int, got {width!r}")
        if not isinstance(n_blocks, int) or n_blocks < 0:
            raise ValueError(f"n_blocks must be a non-negative int, got {n_blocks!r}")
        self.head = nn.Sequential(nn.Conv2d(3, width, 9, padding=4), nn.PReLU(width))
        self.body = nn.Sequential(*[SRResidualBlock(width) for _ in range(n_blocks)])
        self.body_tail = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width))
        self.tail = nn.Conv2d(width, 3, 9, padding=4)
        self.global_residual = global_residual

    def forward(self, blurry: Tensor) -> Tensor:
        x = blurry * 2 - 1
        features = self.head(x)  # (B, width, H, W)
        features = features + self.body_tail(self.body(features))  # the long skip
        out = torch.tanh(self.tail(features))
        if self.global_residual:
            out = torch.clamp(out + x, -1, 1)
        return (out + 1) / 2
