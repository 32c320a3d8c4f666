"""DeblurGAN-v2 FPN generator with a MobileNetV2 backbone (Kupyn et al., ICCV 2019).

"DeblurGAN-v2: Deblurring (Orders-of-Magnitude) Faster and Better", Fig. 2: a feature pyramid over
a pretrained backbone, four heads at 1/4 resolution, concatenation, two smoothing convolutions
with upsampling, and a global residual ``clamp(tanh(final) + blurry, -1, 1)``.

Module names follow the authors' ``models/fpn_mobilenet.py`` (``fpn.lateral0..4``, ``fpn.td1..3``,
``head1..4``, ``smooth``, ``smooth2``, ``final``), so their checkpoint maps onto ours 1:1 with two
differences, both in the backbone: (1) the authors store the MobileNetV2 twice (``fpn.features``
and its slices ``fpn.enc0..4`` share modules); we store it once, as ``fpn.features`` with
torchvision's inner layout, and slice it in ``forward``; (2) the authors keep MobileNetV2 children
16-18, which their forward never runs (1,206,080 parameters, counted in the paper's 3.31 M);
we leave them out, so every parameter is trained and shipped files carry no dead weights.
:func:`deblurgan.models.convert.convert_deblurganv2_fpn_mobilenet` maps the authors' weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.models.backbones import MobileNetV2, load_backbone_weights
from deblurgan.models.registries import GENERATORS
from deblurgan.nn import ConvNormAct

__all__ = ["FPN", "FPNHead", "FPNMobileNetGenerator"]

# MobileNetV2 ``features`` slices ending at strides 2, 4, 8, 16, 32 (the authors' enc0..enc4).
_STAGES: tuple[tuple[int, int], ...] = ((0, 2), (2, 4), (4, 7), (7, 11), (11, 16))
_USED_FEATURES = _STAGES[-1][1]


def _upsample(x: Tensor, factor: int) -> Tensor:
    return x if factor == 1 else F.interpolate(x, scale_factor=factor, mode="nearest")


class FPNHead(nn.Module):
    """Two 3x3 convolutions with ReLU, no norm: the per-level head of DeblurGAN-v2.

    Args:
        in_channels: input channels.
        mid_channels: channels after the first convolution.
        out_channels: output channels.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, C_{out}, H, W)`

    Example:
        >>> FPNHead(8, 4, 4)(torch.rand(1, 8, 6, 6)).shape
        torch.Size([1, 4, 6, 6])
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int) -> None:
        super().__init__()
        self.block0 = nn.Conv2d(in_channels, mid_channels, 3, padding=1, bias=False)
        self.block1 = nn.Conv2d(mid_channels, out_channels, 3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.block1(F.relu(self.block0(x))))


class FPN(nn.Module):
    """Feature pyramid over MobileNetV2: 1x1 laterals, a top-down path with 3x3 conv-norm-relu.

    Args:
        num_filters: channels of pyramid levels 1-4 (strides 4, 8, 16, 32).
        lateral0_channels: channels of the stride-2 level 0.
        width_mult: MobileNetV2 width multiplier.
        norm: norm of the top-down convolutions (see :func:`deblurgan.nn.get_norm`).

    Shape:
        - Input: :math:`(B, 3, H, W)` in [-1, 1], ``H`` and ``W`` divisible by 32.
        - Output: five maps at strides 2, 4, 8, 16, 32.

    Example:
        >>> fpn = FPN(num_filters=8, lateral0_channels=4, width_mult=0.25)
        >>> [tuple(m.shape[1:]) for m in fpn(torch.rand(1, 3, 64, 64))]
        [(4, 32, 32), (8, 16, 16), (8, 8, 8), (8, 4, 4), (8, 2, 2)]
    """

    def __init__(
        self,
        *,
        num_filters: int = 128,
        lateral0_channels: int = 64,
        width_mult: float = 1.0,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        backbone = MobileNetV2(width_mult=width_mult)
        # Children 16-18 of MobileNetV2 are never run by the pyramid: leave them out.
        self.features = nn.Sequential(*list(backbone.features)[:_USED_FEATURES])
        enc_channels = [backbone.feature_channels[end - 1] for _, end in _STAGES]

        def top_down() -> ConvNormAct:
            return ConvNormAct(
                num_filters,
                num_filters,
                3,
                norm=norm,
                act="relu",
                bias=True,
                track_running_stats=True,
            )

        self.td1 = top_down()
        self.td2 = top_down()
        self.td3 = top_down()
        self.lateral4 = nn.Conv2d(enc_channels[4], num_filters, 1, bias=False)
        self.lateral3 = nn.Conv2d(enc_channels[3], num_filters, 1, bias=False)
        self.lateral2 = nn.Conv2d(enc_channels[2], num_filters, 1, bias=False)
        self.lateral1 = nn.Conv2d(enc_channels[1], num_filters, 1, bias=False)
        self.lateral0 = nn.Conv2d(enc_channels[0], lateral0_channels, 1, bias=False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        encoded = []
        for start, end in _STAGES:  # bottom-up: strides 2, 4, 8, 16, 32
            for i in range(start, end):
                x = self.features[i](x)
            encoded.append(x)
        enc0, enc1, enc2, enc3, enc4 = encoded
        map4 = self.lateral4(enc4)
        map3 = self.td1(self.lateral3(enc3) + _upsample(map4, 2))
        map2 = self.td2(self.lateral2(enc2) + _upsample(map3, 2))
        map1 = self.td3(self.lateral1(enc1) + _upsample(map2, 2))
        return self.lateral0(enc0), map1, map2, map3, map4


@GENERATORS.register("fpn_mobilenet")
class FPNMobileNetGenerator(nn.Module):
    """DeblurGAN-v2 generator: FPN over MobileNetV2, heads at 1/4 scale, global residual.

    The network works on [-1, 1] as in the original; ``forward`` converts from and to [0, 1].
    With ``norm="instance"`` the norms are ``InstanceNorm2d(affine=False,
    track_running_stats=True)`` like the authors' (running statistics are used in eval mode).
    The backbone starts from random weights; load ImageNet weights with :meth:`load_backbone`.

    Args:
        width_mult: MobileNetV2 width multiplier.
        num_filters: channels of the heads and of ``smooth`` (``smooth2`` has half).
        num_filters_fpn: channels of the pyramid levels 1-4.
        norm: ``"instance"``, ``"batch"`` or ``"none"`` for the top-down and smoothing layers.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [0, 1], ``H`` and ``W`` divisible by ``size_multiple``.
        - Output: :math:`(B, 3, H, W)` in [0, 1].

    Example:
        >>> net = FPNMobileNetGenerator(width_mult=0.25, num_filters=8, num_filters_fpn=16)
        >>> net(torch.rand(1, 3, 64, 96)).shape
        torch.Size([1, 3, 64, 96])
    """

    size_multiple: int = 32

    def __init__(
        self,
        *,
        width_mult: float = 1.0,
        num_filters: int = 64,
        num_filters_fpn: int = 128,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        for name, value in (("num_filters", num_filters), ("num_filters_fpn", num_filters_fpn)):
            if not isinstance(value, int) or value < 2:
                raise ValueError(f"{name} must be an int >= 2, got {value!r}")
        # Level 0 is added to the output of ``smooth``, so it has ``num_filters`` channels
        # (the authors' ``num_filters_fpn // 2``, which is the same at their settings).
        self.fpn = FPN(
            num_filters=num_filters_fpn,
            lateral0_channels=num_filters,
            width_mult=width_mult,
            norm=norm,
        )
        self.head1 = FPNHead(num_filters_fpn, num_filters, num_filters)
        self.head2 = FPNHead(num_filters_fpn, num_filters, num_filters)
        self.head3 = FPNHead(num_filters_fpn, num_filters, num_filters)
        self.head4 = FPNHead(num_filters_fpn, num_filters, num_filters)
        self.smooth = ConvNormAct(
            4 * num_filters,
            num_filters,
            3,
            norm=norm,
            act="relu",
            bias=True,
            track_running_stats=True,
        )
        self.smooth2 = ConvNormAct(
            num_filters,
            num_filters // 2,
            3,
            norm=norm,
            act="relu",
            bias=True,
            track_running_stats=True,
        )
        self.final = nn.Conv2d(num_filters // 2, 3, 3, padding=1)

    @property
    def backbone(self) -> nn.Module:
        """The MobileNetV2 feature extractor (for freezing it during warm-up, as the authors do)."""
        return self.fpn.features

    def load_backbone(self, path_or_url: str) -> None:
        """Load torchvision-layout MobileNetV2 weights (a file, or a URL fetched once) into it.

        Args:
            path_or_url: e.g. torchvision's ``mobilenet_v2-b0353104.pth`` or its URL.
        """
        load_backbone_weights(self.fpn.features, path_or_url, prefix="features.")

    def forward(self, blurry: Tensor) -> Tensor:
        h, w = blurry.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"fpn_mobilenet needs height and width divisible by {self.size_multiple}, "
                f"got {h}x{w}; pad the input first"
            )
        x = blurry * 2 - 1
        map0, map1, map2, map3, map4 = self.fpn(x)
        map4 = _upsample(self.head4(map4), 8)  # (B, F, H/4, W/4)
        map3 = _upsample(self.head3(map3), 4)
        map2 = _upsample(self.head2(map2), 2)
        map1 = self.head1(map1)
        smoothed = self.smooth(torch.cat([map4, map3, map2, map1], dim=1))
        smoothed = self.smooth2(_upsample(smoothed, 2) + map0)  # (B, F/2, H/2, W/2)
        final = self.final(_upsample(smoothed, 2))  # (B, 3, H, W)
        restored = torch.clamp(torch.tanh(final) + x, -1, 1)
        return (restored + 1) / 2
