"""PatchGAN critic (Isola et al., 2017, pix2pix): a fully convolutional net scoring image patches.

"Image-to-Image Translation with Conditional Adversarial Networks", CVPR 2017.

The layout of ``model`` is pix2pix's ``NLayerDiscriminator`` as used by DeblurGAN and DeblurGAN-v2
(4x4 convolutions, LeakyReLU 0.2, widths doubling up to 8x), so their critics load key for key.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from deblurgan.models.registries import DISCRIMINATORS
from deblurgan.nn import get_norm

__all__ = ["PatchDiscriminator", "receptive_field"]


def receptive_field(depth: int) -> int:
    """Side of the square input patch that one output logit sees.

    ``depth`` stride-2 4x4 convolutions are followed by two stride-1 4x4 convolutions.

    Args:
        depth: number of stride-2 convolutions.

    Returns:
        The receptive field in pixels.

    Example:
        >>> receptive_field(3), receptive_field(5)
        (70, 286)
    """
    size = 1
    for stride in [1, 1] + [2] * depth:  # walk back from the output
        size = (size - 1) * stride + 4
    return size


@DISCRIMINATORS.register("patchgan")
class PatchDiscriminator(nn.Module):
    """N-layer PatchGAN: one logit per ``receptive_field(depth)`` patch (70x70 for depth 3).

    Args:
        in_channels: input channels (6 for a critic conditioned on the blurry image by concat).
        width: channels of the first convolution (``ndf``).
        depth: number of stride-2 convolutions; the logit map has stride ``2**depth``.
        norm: ``"instance"`` (DeblurGAN), ``"batch"`` (pix2pix) or ``"none"``.
        spectral_norm: wrap every convolution in spectral normalisation (Miyato et al., 2018).
        conditional: score ``(condition, image)`` pairs, pix2pix's conditional critic: ``forward``
            takes ``(image, condition)`` and concatenates the condition (the blurry image) in
            front of the image, so the first convolution reads ``2 * in_channels`` channels.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)` (and a condition of the same shape when conditional).
        - Output: a one-element list holding :math:`(B, 1, H / 2^{depth} - 2, W / 2^{depth} - 2)`
          for ``H`` and ``W`` divisible by :math:`2^{depth}`.

    Example:
        >>> import torch
        >>> [m.shape for m in PatchDiscriminator(width=8)(torch.rand(2, 3, 64, 64))]
        [torch.Size([2, 1, 6, 6])]
        >>> critic = PatchDiscriminator(width=8, conditional=True)
        >>> critic(torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64))[0].shape
        torch.Size([2, 1, 6, 6])
    """

    def __init__(
        self,
        in_channels: int = 3,
        *,
        width: int = 64,
        depth: int = 3,
        norm: str = "instance",
        spectral_norm: bool = False,
        conditional: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive int, got {width!r}")
        if not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be a positive int, got {depth!r}")
        bias = norm != "batch"

        def conv(c_in: int, c_out: int, stride: int, conv_bias: bool) -> nn.Module:
            layer = nn.Conv2d(c_in, c_out, 4, stride=stride, padding=1, bias=conv_bias)
            return apply_spectral_norm(layer) if spectral_norm else layer

        self.conditional = conditional
        first_in = 2 * in_channels if conditional else in_channels
        layers: list[nn.Module] = [conv(first_in, width, 2, True), nn.LeakyReLU(0.2, True)]
        channels = width
        for n in range(1, depth + 1):
            out = width * min(2**n, 8)
            stride = 2 if n < depth else 1  # the last widening convolution keeps the size
            layers += [
                conv(channels, out, stride, bias),
                get_norm(norm, out),
                nn.LeakyReLU(0.2, True),
            ]
            channels = out
        layers.append(conv(channels, 1, 1, True))
        self.model = nn.Sequential(*layers)
        self.receptive_field = receptive_field(depth)

    def forward(self, image: Tensor, condition: Tensor | None = None) -> list[Tensor]:
        if self.conditional:
            if condition is None:
                raise ValueError("this PatchGAN is conditional: call it as critic(image, blurry)")
            if condition.shape != image.shape:
                raise ValueError(
                    f"condition shape {tuple(condition.shape)} differs from image shape "
                    f"{tuple(image.shape)}"
                )
            image = torch.cat([condition, image], dim=1)
        elif condition is not None:
            raise ValueError("this PatchGAN is unconditional; build it with conditional=True")
        return [self.model(image)]
