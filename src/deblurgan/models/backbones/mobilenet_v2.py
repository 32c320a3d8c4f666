"""MobileNetV2 (Sandler et al., 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks").

The module tree reproduces torchvision's ``mobilenet_v2`` exactly (``features.0.0.weight``,
``features.1.conv.0.0.weight``, ..., ``classifier.1.weight``), so its ImageNet weights load with
:func:`deblurgan.models.backbones.load_backbone_weights` without renaming a key.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deblurgan.nn import ConvNormAct

__all__ = ["INVERTED_RESIDUAL_SETTING", "InvertedResidual", "MobileNetV2", "make_divisible"]

# (expansion t, output channels c, repeats n, first stride s), Table 2 of the paper.
INVERTED_RESIDUAL_SETTING: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, never more than 10% down.

    This is the rounding of the TensorFlow reference and of torchvision (``_make_divisible``).

    Args:
        value: the unrounded channel count (``channels * width_mult``).
        divisor: the multiple to round to.
        min_value: the smallest result; ``divisor`` by default.

    Returns:
        The rounded count.

    Example:
        >>> make_divisible(32 * 0.75), make_divisible(16 * 0.35), make_divisible(1280 * 1.4)
        (24, 8, 1792)
    """
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:  # rounding down lost more than 10%
        rounded += divisor
    return rounded


class InvertedResidual(nn.Module):
    """Expand (1x1), filter (3x3 depthwise), project (1x1, linear); skip when shapes allow.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        stride: 1 or 2 (stride of the depthwise convolution).
        expand_ratio: hidden width as a multiple of ``in_channels``; 1 drops the expansion.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, C_{out}, \\lceil H / s \\rceil, \\lceil W / s \\rceil)`

    Example:
        >>> block = InvertedResidual(8, 8, stride=1, expand_ratio=6)
        >>> block(torch.rand(1, 8, 10, 10)).shape, block.use_res_connect
        (torch.Size([1, 8, 10, 10]), True)
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int, expand_ratio: int):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride!r}")
        hidden = round(in_channels * expand_ratio)
        self.stride = stride
        self.use_res_connect = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvNormAct(in_channels, hidden, 1, norm="batch", act="relu6"))
        layers += [
            ConvNormAct(hidden, hidden, 3, stride=stride, groups=hidden, norm="batch", act="relu6"),
            nn.Conv2d(hidden, out_channels, 1, bias=False),  # linear bottleneck: no activation
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = out_channels

    def forward(self, x: Tensor) -> Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 classifier with torchvision's module names and initialisation.

    ``features`` has 19 children: the stem, 17 inverted residual blocks, and the final 1x1
    convolution; children 0, 2, 4, 7 and 14 halve the resolution (strides 2, 4, 8, 16, 32).

    Args:
        num_classes: classifier outputs.
        width_mult: multiplies every width (rounded by :func:`make_divisible` to ``round_nearest``).
        round_nearest: channel rounding multiple (1 turns rounding off).
        dropout: dropout before the classifier.

    Shape:
        - Input: :math:`(B, 3, H, W)`, ImageNet-normalised RGB for the public weights.
        - Output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> net = MobileNetV2(num_classes=10, width_mult=0.25)
        >>> net(torch.rand(2, 3, 32, 32)).shape
        torch.Size([2, 10])
        >>> len(net.features), next(iter(net.state_dict()))
        (19, 'features.0.0.weight')
    """

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        width_mult: float = 1.0,
        round_nearest: int = 8,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if not width_mult > 0:
            raise ValueError(f"width_mult must be positive, got {width_mult!r}")
        in_channels = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [
            ConvNormAct(3, in_channels, 3, stride=2, norm="batch", act="relu6")
        ]
        self.feature_channels: list[int] = [in_channels]  # output channels of each child
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            out_channels = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(
                    InvertedResidual(
                        in_channels, out_channels, stride=s if i == 0 else 1, expand_ratio=t
                    )
                )
                in_channels = out_channels
                self.feature_channels.append(out_channels)
        self.feature_channels.append(self.last_channel)
        features.append(ConvNormAct(in_channels, self.last_channel, 1, norm="batch", act="relu6"))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(self.last_channel, num_classes)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torchvision's initialisation: Kaiming (fan-out) convs, unit BN, N(0, 0.01) classifier."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # (B, last_channel, H/32, W/32)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.classifier(x)
