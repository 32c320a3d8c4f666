"""DeblurGAN's ResNet generator (Kupyn et al., CVPR 2018), after Johnson et al.'s transformer net.

"DeblurGAN: Blind Motion Deblurring Using Conditional Adversarial Networks", Fig. 3: a 7x7
convolution, two strided convolutions, residual blocks, two transposed convolutions, a 7x7
convolution with tanh, and a global skip ("ResOut"). The layout of ``model`` is the authors'
``networks.py`` ``ResnetGenerator`` (``model.1.weight``, ``model.10.conv_block.1.weight``, ...),
so their checkpoints load key for key.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deblurgan.models.generators._edges import sobel_magnitude
from deblurgan.models.registries import GENERATORS
from deblurgan.nn import ResidualBlock, get_norm

__all__ = ["ResnetGenerator"]


@GENERATORS.register("resnet")
class ResnetGenerator(nn.Module):
    """DeblurGAN generator: encoder, ``n_blocks`` residual blocks at 1/4 scale, decoder.

    The network works on [-1, 1] as in the original; ``forward`` converts from and to [0, 1].
    With ``learn_residual`` the output is ``clamp(blurry + net(blurry), -1, 1)``.

    Args:
        width: channels of the first convolution (``ngf``); the blocks have ``4 * width``.
        n_blocks: number of residual blocks (9 in the paper).
        norm: ``"instance"`` (the paper), ``"batch"`` or ``"none"``.
        use_dropout: dropout 0.5 inside each residual block (the paper's default).
        learn_residual: add the input to the output (the paper's ResOut).
        edge_input: concatenate the Sobel magnitude of the grey image to the input (the first
            convolution takes 4 channels; every other key and shape is the original's).

    Shape:
        - Input: :math:`(B, 3, H, W)` in [0, 1], ``H`` and ``W`` divisible by ``size_multiple``.
        - Output: :math:`(B, 3, H, W)` in [0, 1].

    Example:
        >>> net = ResnetGenerator(width=4, n_blocks=2)
        >>> net(torch.rand(1, 3, 16, 20)).shape
        torch.Size([1, 3, 16, 20])
    """

    size_multiple: int = 4

    def __init__(
        self,
        *,
        width: int = 64,
        n_blocks: int = 9,
        norm: str = "instance",
        use_dropout: bool = True,
        learn_residual: bool = True,
        edge_input: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive int, got {width!r}")
        if not isinstance(n_blocks, int) or n_blocks < 0:
            raise ValueError(f"n_blocks must be a non-negative int, got {n_blocks!r}")
        self.learn_residual = learn_residual
        self.edge_input = edge_input
        bias = norm != "batch"  # a norm with an affine shift makes the conv bias redundant
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(4 if edge_input else 3, width, 7, bias=bias),
            get_norm(norm, width),
            nn.ReLU(inplace=True),
        ]
        for mult in (1, 2):  # two stride-2 downsamplings: width -> 2 width -> 4 width
            layers += [
                nn.Conv2d(width * mult, width * mult * 2, 3, stride=2, padding=1, bias=bias),
                get_norm(norm, width * mult * 2),
                nn.ReLU(inplace=True),
            ]
        layers += [
            ResidualBlock(width * 4, norm=norm, dropout=0.5 if use_dropout else 0.0, bias=bias)
            for _ in range(n_blocks)
        ]
        for mult in (4, 2):  # two transposed convolutions back to full resolution
            layers += [
                nn.ConvTranspose2d(
                    width * mult,
                    width * mult // 2,
                    3,
                    stride=2,
                    padding=1,
                    output_padding=1,
                    bias=bias,
                ),
                get_norm(norm, width * mult // 2),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, blurry: Tensor) -> Tensor:
        h, w = blurry.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"resnet needs height and width divisible by {self.size_multiple}, "
                f"got {h}x{w}; pad the input first"
            )
        x = blurry * 2 - 1
        inputs = torch.cat([x, sobel_magnitude(blurry.detach())], 1) if self.edge_input else x
        restored = self.model(inputs)
        if self.learn_residual:
            restored = torch.clamp(x + restored, -1, 1)
        return (restored + 1) / 2
