"""Residual-in-residual encoder-decoder with channel attention, after RCAN (Zhang et al., 2018).

"Image Super-Resolution Using Very Deep Residual Channel Attention Networks" (ECCV 2018) builds
a very deep network from *residual groups*: each group is a chain of residual channel-attention
blocks (RCAB: conv-ReLU-conv, squeeze-excitation gate, skip) closed by a convolution and its own
skip, and the groups sit inside one more long skip (the "residual in residual"). Short skips let
the low-frequency content bypass the blocks, so their capacity goes to detail. For deblurring,
which needs a large receptive field rather than upsampling, the groups run inside a two-level
encoder-decoder (the layout of the founding documents' RIR generator, close to the
encoder-decoders of Tao et al., 2018, and Cho et al., 2021): one group at full and half
resolution on each side, the deep residual-in-residual body at quarter resolution, additive skips
between mirrored levels, pixel-shuffle upsampling (Shi et al., 2016) and a global residual. The
last convolution starts at zero, so the untrained model is the identity.
"""

from __future__ import annotations

from torch import Tensor, nn

from deblurgan.models.registries import GENERATORS
from deblurgan.nn import SqueezeExcitation

__all__ = ["RIRGenerator", "RIRLargeGenerator", "ResidualChannelAttentionBlock", "ResidualGroup"]


def _conv(in_channels: int, out_channels: int, *, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)


class ResidualChannelAttentionBlock(nn.Module):
    """RCAB: ``x + SE(conv(relu(conv(x))))`` (Zhang et al., 2018, Fig. 4).

    Args:
        channels: input and output channels.
        reduction: squeeze-excitation reduction (16 in RCAN).

    Shape:
        - Input: :math:`(B, C, H, W)`
        - Output: :math:`(B, C, H, W)`

    Example:
        >>> import torch
        >>> ResidualChannelAttentionBlock(8)(torch.rand(1, 8, 5, 5)).shape
        torch.Size([1, 8, 5, 5])
    """

    def __init__(self, channels: int, *, reduction: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels),
            nn.ReLU(inplace=True),
            _conv(channels, channels),
            SqueezeExcitation(channels, reduction=reduction),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResidualGroup(nn.Module):
    """RCAN's residual group: ``n_blocks`` RCABs and a convolution, inside a short skip.

    Args:
        channels: input and output channels.
        n_blocks: number of RCABs (20 in RCAN).
        reduction: squeeze-excitation reduction.

    Shape:
        - Input: :math:`(B, C, H, W)`
        - Output: :math:`(B, C, H, W)`

    Example:
        >>> import torch
        >>> group = ResidualGroup(8, n_blocks=2)
        >>> group(torch.rand(1, 8, 6, 6)).shape, len(group.body)
        (torch.Size([1, 8, 6, 6]), 3)
    """

    def __init__(self, channels: int, *, n_blocks: int, reduction: int = 16) -> None:
        super().__init__()
        blocks: list[nn.Module] = [
            ResidualChannelAttentionBlock(channels, reduction=reduction) for _ in range(n_blocks)
        ]
        self.body = nn.Sequential(*blocks, _conv(channels, channels))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


@GENERATORS.register("rir")
class RIRGenerator(nn.Module):
    """Two-level encoder-decoder with a residual-in-residual channel-attention body.

    Channels are ``width`` at full resolution, ``2 width`` at 1/2 and ``4 width`` at 1/4, where
    ``n_groups`` residual groups of ``n_blocks`` RCABs each sit inside the long skip. ``rir``
    defaults to a light model (1.29 M parameters); ``rir_large`` to an RCAN-sized one.

    Args:
        width: channels at full resolution.
        n_groups: residual groups in the quarter-resolution body (10 in RCAN).
        n_blocks: RCABs per residual group (20 in RCAN), everywhere.
        reduction: squeeze-excitation reduction.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [0, 1], H and W divisible by ``size_multiple`` (4).
        - Output: :math:`(B, 3, H, W)` in [0, 1].

    Example:
        >>> import torch
        >>> net = RIRGenerator(width=4, n_groups=1, n_blocks=1)
        >>> blurry = torch.rand(1, 3, 8, 12)
        >>> torch.equal(net(blurry), blurry)  # the untrained model is the identity
        True
    """

    paper = "Zhang et al. 2018 (RCAN) in an encoder-decoder"
    size_multiple: int = 4

    def __init__(
        self, *, width: int = 16, n_groups: int = 3, n_blocks: int = 4, reduction: int = 16
    ) -> None:
        super().__init__()
        for key, value in (("width", width), ("n_groups", n_groups), ("n_blocks", n_blocks)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be a positive int, got {value!r}")
        c1, c2, c3 = width, 2 * width, 4 * width

        def group(channels: int) -> ResidualGroup:
            return ResidualGroup(channels, n_blocks=n_blocks, reduction=reduction)

        self.head = _conv(3, c1)
        self.enc1 = group(c1)
        self.down1 = _conv(c1, c2, stride=2)  # (B, 2w, H/2, W/2)
        self.enc2 = group(c2)
        self.down2 = _conv(c2, c3, stride=2)  # (B, 4w, H/4, W/4)
        self.body = nn.Sequential(*[group(c3) for _ in range(n_groups)], _conv(c3, c3))
        self.up2 = nn.Sequential(nn.Conv2d(c3, 4 * c2, 1), nn.PixelShuffle(2))
        self.dec2 = group(c2)
        self.up1 = nn.Sequential(nn.Conv2d(c2, 4 * c1, 1), nn.PixelShuffle(2))
        self.dec1 = group(c1)
        self.tail = _conv(c1, 3)
        nn.init.zeros_(self.tail.weight)  # the untrained model is the identity
        nn.init.zeros_(self.tail.bias)  # type: ignore[arg-type]  # bias=True: never None

    def forward(self, blurry: Tensor) -> Tensor:
        h, w = blurry.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"{type(self).__name__} needs height and width divisible by "
                f"{self.size_multiple}, got {h}x{w}; pad the input first"
            )
        x1 = self.enc1(self.head(blurry))
        x2 = self.enc2(self.down1(x1))
        x3 = self.down2(x2)
        y3 = x3 + self.body(x3)  # the long skip around the residual groups
        y2 = self.dec2(self.up2(y3) + x2)
        y1 = self.dec1(self.up1(y2) + x1)
        return (blurry + self.tail(y1)).clamp(0, 1)


@GENERATORS.register("rir_large")
class RIRLargeGenerator(RIRGenerator):
    """The RCAN-sized residual-in-residual encoder-decoder (11.15 M parameters by default).

    Args:
        width: channels at full resolution.
        n_groups: residual groups in the quarter-resolution body.
        n_blocks: RCABs per residual group.
        reduction: squeeze-excitation reduction.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [0, 1], H and W divisible by ``size_multiple`` (4).
        - Output: :math:`(B, 3, H, W)` in [0, 1].

    Example:
        >>> import torch
        >>> with torch.device("meta"):
        ...     net = RIRLargeGenerator()
        >>> len(net.body)  # five residual groups and the closing convolution
        6
    """

    def __init__(
        self, *, width: int = 32, n_groups: int = 5, n_blocks: int = 6, reduction: int = 16
    ) -> None:
        super().__init__(width=width, n_groups=n_groups, n_blocks=n_blocks, reduction=reduction)
