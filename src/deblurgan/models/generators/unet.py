"""The Pix2Pix U-Net generator (Isola et al., CVPR 2017), with attention, spectral-norm, residual
and edge-input switches.

"Image-to-Image Translation with Conditional Adversarial Networks", section 3.2.1 and appendix
6.1.1: an encoder of 4x4 stride-2 convolutions ``C64-C128-C256-C512-C512-C512-C512-C512`` and a
mirrored decoder of transposed convolutions with skip connections between mirrored layers
(Ronneberger et al., 2015), dropout 0.5 in the inner 512-channel decoder layers and tanh at the
end. The nesting of ``model`` is the authors' ``UnetSkipConnectionBlock`` (keys
``model.model.1.model.3...``), so their checkpoints load key for key when the switches are off.

The switches, each from a paper of the founding documents:

- ``self_attention``: non-local blocks (Wang et al., 2018; SAGAN, Zhang et al., 2019) on the
  decoder features at the chosen levels;
- ``channel_attention``: squeeze-excitation (Hu et al., 2018) on every decoder block's output;
- ``spectral_norm``: every convolution's weight divided by its largest singular value
  (Miyato et al., 2018);
- ``global_residual``: the network predicts a correction, ``restored = clamp(blurry + out)``
  (DeblurGAN's ResOut);
- ``edge_input``: the Sobel magnitude of the grey image joins the input as a fourth channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from deblurgan.models.generators._edges import sobel_magnitude
from deblurgan.models.registries import GENERATORS
from deblurgan.nn import SelfAttention2d, SqueezeExcitation, get_norm

__all__ = ["UNetGenerator", "UNetSkipBlock"]


class UNetSkipBlock(nn.Module):
    """One level of the Pix2Pix U-Net: down, the inner levels, up; the input is concatenated to
    the output (``torch.cat([x, model(x)])``) except at the outermost level.

    The children of ``model`` are those of pix2pix's ``UnetSkipConnectionBlock``; the optional
    attention blocks come after them, so the original indices never shift.

    Args:
        outer_channels: channels of this level's input and output (before the concatenation).
        inner_channels: channels after the down convolution.
        in_channels: input channels if not ``outer_channels`` (the outermost level).
        inner: the block of the next level (``None`` for the innermost one).
        outermost: the first level: no activation before the down convolution, tanh at the end.
        norm: normalisation name (see :func:`deblurgan.nn.get_norm`).
        dropout: dropout after the up convolution (0 leaves it out).
        channel_attention: squeeze-excitation on the up path's output.
        self_attention: a non-local block on the up path's output.

    Shape:
        - Input: :math:`(B, C_{outer}, H, W)`, H and W even.
        - Output: :math:`(B, 2 C_{outer}, H, W)`, or :math:`(B, C_{outer}, H, W)` outermost.

    Example:
        >>> block = UNetSkipBlock(4, 8, norm="instance")
        >>> block(torch.rand(1, 4, 8, 8)).shape
        torch.Size([1, 8, 8, 8])
    """

    def __init__(
        self,
        outer_channels: int,
        inner_channels: int,
        *,
        in_channels: int | None = None,
        inner: nn.Module | None = None,
        outermost: bool = False,
        norm: str = "batch",
        dropout: float = 0.0,
        channel_attention: bool = False,
        self_attention: bool = False,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        in_channels = outer_channels if in_channels is None else in_channels
        bias = norm == "instance"  # pix2pix: a batch norm's shift makes the bias redundant
        down_conv = nn.Conv2d(in_channels, inner_channels, 4, stride=2, padding=1, bias=bias)
        up_in = inner_channels if inner is None else 2 * inner_channels
        layers: list[nn.Module]
        if outermost:
            if inner is None:
                raise ValueError("the outermost U-Net level needs an inner level")
            up_conv = nn.ConvTranspose2d(up_in, outer_channels, 4, stride=2, padding=1)
            layers = [down_conv, inner, nn.ReLU(True), up_conv, nn.Tanh()]
        else:
            up_conv = nn.ConvTranspose2d(up_in, outer_channels, 4, stride=2, padding=1, bias=bias)
            up = [nn.ReLU(True), up_conv, get_norm(norm, outer_channels)]
            if inner is None:  # innermost: no norm after the down convolution
                layers = [nn.LeakyReLU(0.2, True), down_conv, *up]
            else:
                down = [nn.LeakyReLU(0.2, True), down_conv, get_norm(norm, inner_channels)]
                layers = [*down, inner, *up]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            if channel_attention:
                layers.append(SqueezeExcitation(outer_channels))
            if self_attention:
                layers.append(SelfAttention2d(outer_channels))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], dim=1)


@GENERATORS.register("unet")
class UNetGenerator(nn.Module):
    """Pix2Pix U-Net generator with optional attention, spectral norm, residual and edge input.

    Level ``d`` (``0 <= d < num_downs``) works at :math:`H / 2^d`; the feature channels after
    ``l`` downsamplings are ``min(width * 2^(l-1), 8 width)``. ``num_downs=8`` and ``width=64``
    is pix2pix's ``unet_256`` (54.41 M parameters with batch norm). The network works on
    [-1, 1] as the original; ``forward`` converts from and to [0, 1].

    Args:
        num_downs: number of stride-2 downsamplings (8 in pix2pix for 256x256 crops); inputs must
            be multiples of ``2 ** num_downs``.
        width: channels of the first convolution (``ngf``).
        norm: ``"batch"`` (pix2pix), ``"instance"`` or ``"none"``.
        dropout: dropout in the 8-width decoder levels below the top four (pix2pix: 0.5).
        self_attention: levels ``d`` (``1 <= d < num_downs``) whose decoder output passes a
            non-local block; attention memory grows as :math:`(H W / 4^d)^2`, so keep ``d`` deep.
        channel_attention: squeeze-excitation on every decoder level's output.
        spectral_norm: spectral normalisation of every convolution.
        global_residual: ``restored = clamp(blurry + out)``.
        edge_input: concatenate the Sobel magnitude of the grey image to the input.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [0, 1], H and W divisible by ``size_multiple``.
        - Output: :math:`(B, 3, H, W)` in [0, 1].

    Example:
        >>> net = UNetGenerator(num_downs=3, width=4, self_attention=[2], edge_input=True)
        >>> net(torch.rand(1, 3, 16, 24)).shape
        torch.Size([1, 3, 16, 24])
        >>> net.size_multiple
        8
    """

    paper = "Isola et al. 2017 (Pix2Pix)"

    def __init__(
        self,
        *,
        num_downs: int = 8,
        width: int = 64,
        norm: str = "batch",
        dropout: float = 0.5,
        self_attention: Sequence[int] = (),
        channel_attention: bool = False,
        spectral_norm: bool = False,
        global_residual: bool = False,
        edge_input: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(num_downs, bool) or not isinstance(num_downs, int) or num_downs < 2:
            raise ValueError(f"num_downs must be an int >= 2, got {num_downs!r}")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive int, got {width!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        if isinstance(self_attention, (str, bytes)) or not isinstance(self_attention, Sequence):
            raise TypeError(f"self_attention must be a sequence of levels, got {self_attention!r}")
        levels = set(self_attention)
        bad = sorted(
            str(d)
            for d in levels
            if not isinstance(d, int) or isinstance(d, bool) or not 0 < d < num_downs
        )
        if bad:
            raise ValueError(
                f"self_attention levels {', '.join(bad)} are out of range; "
                f"valid levels are 1..{num_downs - 1}"
            )
        get_norm(norm, 1)  # validates the name
        self.size_multiple = 2**num_downs
        self.edge_input = edge_input
        self.global_residual = global_residual

        def channels(level: int) -> int:  # channels after `level` downsamplings
            return min(width * 2 ** (level - 1), 8 * width)

        block: UNetSkipBlock | None = None
        for d in range(num_downs - 1, 0, -1):  # innermost first
            outer, inner_ch = channels(d), channels(d + 1)
            block = UNetSkipBlock(
                outer,
                inner_ch,
                inner=block,
                norm=norm,
                dropout=dropout if d >= 4 and outer == inner_ch and block is not None else 0.0,
                channel_attention=channel_attention,
                self_attention=d in levels,
            )
        self.model = UNetSkipBlock(
            3, channels(1), in_channels=4 if edge_input else 3, inner=block, outermost=True
        )
        if spectral_norm:
            for module in list(self.modules()):
                if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                    _spectral_norm(module)

    def forward(self, blurry: Tensor) -> Tensor:
        h, w = blurry.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"unet needs height and width divisible by {self.size_multiple}, "
                f"got {h}x{w}; pad the input first"
            )
        x = blurry * 2 - 1
        inputs = torch.cat([x, sobel_magnitude(blurry.detach())], 1) if self.edge_input else x
        out = self.model(inputs)
        if self.global_residual:
            out = torch.clamp(x + out, -1, 1)
        return (out + 1) / 2
