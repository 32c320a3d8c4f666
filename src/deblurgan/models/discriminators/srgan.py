"""SRGAN's critic (Ledig et al., CVPR 2017, "Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network", Fig. 4): eight 3x3 convolutions, two dense layers.

Widths 64, 64, 128, 128, 256, 256, 512, 512 with strides 1, 2, 1, 2, ... (the first without batch
norm), LeakyReLU 0.2, a dense layer of 1024 units, LeakyReLU, and one output (the sigmoid is left
to the adversarial loss). With ``input_size`` the dense layer reads the flattened map, as in the
paper's 96x96 crops; by default the map is globally averaged first, so any input size works.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from deblurgan.models.registries import DISCRIMINATORS
from deblurgan.nn import get_norm

__all__ = ["SRGANDiscriminator"]


@DISCRIMINATORS.register("srgan")
class SRGANDiscriminator(nn.Module):
    """SRGAN critic: one logit per image, returned as ``[logits]`` with shape ``(B, 1, 1, 1)``.

    Args:
        in_channels: input channels.
        width: channels of the first convolution (64 in the paper); they double every two.
        input_size: side of the square input for the paper's flatten-then-dense head
            (a multiple of 16); ``None`` averages the map globally instead (any size).
        norm: norm after convolutions 2-8 (``"batch"`` in the paper).
        spectral_norm: wrap every convolution and dense layer in spectral normalisation.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)` (``H = W = input_size`` when it is set).
        - Output: a one-element list holding :math:`(B, 1, 1, 1)`.

    Example:
        >>> import torch
        >>> [m.shape for m in SRGANDiscriminator(width=4)(torch.rand(2, 3, 40, 56))]
        [torch.Size([2, 1, 1, 1])]
    """

    def __init__(
        self,
        in_channels: int = 3,
        *,
        width: int = 64,
        input_size: int | None = None,
        norm: str = "batch",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive int, got {width!r}")
        if input_size is not None and (input_size < 16 or input_size % 16):
            raise ValueError(f"input_size must be a multiple of 16 or None, got {input_size!r}")

        def sn(layer: nn.Module) -> nn.Module:
            return apply_spectral_norm(layer) if spectral_norm else layer

        layers: list[nn.Module] = [sn(nn.Conv2d(in_channels, width, 3, padding=1))]
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        channels = width
        for i in range(1, 8):
            out = width * 2 ** (i // 2)  # 64, 128, 128, 256, 256, 512, 512
            stride = 2 if i % 2 else 1
            layers += [
                sn(nn.Conv2d(channels, out, 3, stride=stride, padding=1, bias=norm == "none")),
                get_norm(norm, out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels = out
        self.features = nn.Sequential(*layers)
        self.input_size = input_size
        if input_size is None:
            head_in = channels
            self.pool: nn.Module = nn.AdaptiveAvgPool2d(1)
        else:
            head_in = channels * (input_size // 16) ** 2
            self.pool = nn.Identity()
        self.classifier = nn.Sequential(
            nn.Flatten(),
            sn(nn.Linear(head_in, 16 * width)),
            nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Linear(16 * width, 1)),
        )

    def forward(self, image: Tensor) -> list[Tensor]:
        if self.input_size is not None and tuple(image.shape[-2:]) != (self.input_size,) * 2:
            raise ValueError(
                f"this SRGAN critic reads {self.input_size}x{self.input_size} inputs, "
                f"got {image.shape[-2]}x{image.shape[-1]}; use input_size=None for any size"
            )
        logits = self.classifier(self.pool(self.features(image)))  # (B, 1)
        return [logits[:, :, None, None]]
