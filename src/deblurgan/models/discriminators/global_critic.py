"""A whole-image critic: strided convolutions down to one globally pooled logit per image.

The "global" discriminator of the founding documents (a critic that judges the entire image rather
than patches, as the global branch of Iizuka et al., SIGGRAPH 2017, "Globally and Locally Consistent
Image Completion"): 4x4 stride-2 convolutions with LeakyReLU 0.2 and widths doubling up to 8x (the
PatchGAN convention), then global average pooling and a linear 1x1 convolution, so any input size
works and every pixel reaches the logit.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from deblurgan.models.registries import DISCRIMINATORS
from deblurgan.nn import get_norm

__all__ = ["GlobalDiscriminator"]


@DISCRIMINATORS.register("global")
class GlobalDiscriminator(nn.Module):
    """Whole-image critic: ``depth`` halvings, global average pooling, one logit.

    Args:
        in_channels: input channels (6 for a critic conditioned on the blurry image by concat).
        width: channels of the first convolution.
        depth: stride-2 convolutions (the map shrinks by ``2**depth`` before pooling).
        norm: norm after convolutions 2 to ``depth``: ``"instance"``, ``"batch"`` or ``"none"``.
        spectral_norm: wrap every convolution in spectral normalisation.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`; with instance norm, ``H, W >= 2**depth``.
        - Output: a one-element list holding :math:`(B, 1, 1, 1)`.

    Example:
        >>> import torch
        >>> [m.shape for m in GlobalDiscriminator(width=4)(torch.rand(2, 3, 64, 96))]
        [torch.Size([2, 1, 1, 1])]
    """

    def __init__(
        self,
        in_channels: int = 3,
        *,
        width: int = 64,
        depth: int = 5,
        norm: str = "instance",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive int, got {width!r}")
        if not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be a positive int, got {depth!r}")

        def conv(c_in: int, c_out: int, kernel: int, stride: int, bias: bool) -> nn.Module:
            padding = 1 if kernel == 4 else 0  # 4x4 stride 2 halves even sides exactly
            layer = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias)
            return apply_spectral_norm(layer) if spectral_norm else layer

        layers: list[nn.Module] = [conv(in_channels, width, 4, 2, True), nn.LeakyReLU(0.2, True)]
        channels = width
        for n in range(1, depth):
            out = width * min(2**n, 8)
            layers += [
                conv(channels, out, 4, 2, norm != "batch"),
                get_norm(norm, out),
                nn.LeakyReLU(0.2, True),
            ]
            channels = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.logit = conv(channels, 1, 1, 1, True)

    def forward(self, image: Tensor) -> list[Tensor]:
        return [self.logit(self.pool(self.features(image)))]
