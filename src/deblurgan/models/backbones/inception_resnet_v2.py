"""Inception-ResNet-v2 (Szegedy et al., AAAI 2017, "Inception-v4, Inception-ResNet and the Impact
of Residual Connections on Learning").

The module tree reproduces the ``InceptionResNetV2`` of Cadene's ``pretrained-models.pytorch``
(``pretrainedmodels/models/inceptionresnetv2.py``), which DeblurGAN-v2's FPN-Inception builds on and
whose key names timm's ``inception_resnet_v2`` keeps (``conv2d_1a.conv.weight``,
``conv2d_1a.bn.running_mean``, ``mixed_5b.branch1.0.conv.weight``, ``repeat.0.conv2d.weight``,
``repeat_1``, ``mixed_7a``, ``repeat_2``, ``block8``, ``conv2d_7b``, ``last_linear``), so those
ImageNet weights load with :func:`deblurgan.models.backbones.load_backbone_weights`. Convolutions
are unpadded where the original's are ("valid" in TensorFlow terms), so feature maps are a few
pixels smaller than ``H / stride``. ``width`` and ``blocks`` shrink the network for tests; at their
defaults every shape is the published one.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["INCEPTION_RESNET_V2_LAYERS", "BasicConv2d", "InceptionResNetV2"]

INCEPTION_RESNET_V2_LAYERS: tuple[str, ...] = (
    "conv2d_1a", "conv2d_2a", "conv2d_2b", "maxpool_3a", "conv2d_3b", "conv2d_4a", "maxpool_5a",
    "mixed_5b", "repeat", "mixed_6a", "repeat_1", "mixed_7a", "repeat_2", "block8", "conv2d_7b",
)  # fmt: skip
"""The feature-extracting children of :class:`InceptionResNetV2`, in the order they run."""


class BasicConv2d(nn.Module):
    """Convolution without bias, batch norm (TensorFlow's eps 1e-3), ReLU: ``conv``, ``bn``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size (an int or ``(kh, kw)``).
        stride: convolution stride.
        padding: zero padding (an int or ``(ph, pw)``); 0, "valid", by default as in the original.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, C_{out}, H', W')`

    Example:
        >>> BasicConv2d(3, 4, 3, stride=2)(torch.rand(1, 3, 9, 9)).shape
        torch.Size([1, 4, 4, 4])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        *,
        stride: int = 1,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001, momentum=0.1)
        self.relu = nn.ReLU()
        self.out_channels = out_channels

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(x)))


def _concat_channels(*branches: nn.Module) -> int:
    total = 0
    for branch in branches:
        last = branch[-1] if isinstance(branch, nn.Sequential) else branch
        channels = getattr(last, "out_channels", None)
        if not isinstance(channels, int):
            raise TypeError(f"{type(last).__name__} does not declare out_channels")
        total += channels
    return total


class _Mixed5b(nn.Module):
    """35x35 stem output: 1x1, 5x5, double 3x3 and pooled branches (320 channels)."""

    def __init__(self, in_channels: int, ch: _Widths) -> None:
        super().__init__()
        self.branch0 = BasicConv2d(in_channels, ch(96), 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_channels, ch(48), 1), BasicConv2d(ch(48), ch(64), 5, padding=2)
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch(64), 1),
            BasicConv2d(ch(64), ch(96), 3, padding=1),
            BasicConv2d(ch(96), ch(96), 3, padding=1),
        )
        self.branch3 = nn.Sequential(
            nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
            BasicConv2d(in_channels, ch(64), 1),
        )
        self.out_channels = _concat_channels(
            self.branch0, self.branch1, self.branch2, self.branch3[1]
        )

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class _Block35(nn.Module):
    """Inception-ResNet-A: three branches, a linear 1x1 projection, a scaled residual, ReLU."""

    def __init__(self, channels: int, ch: _Widths, *, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.branch0 = BasicConv2d(channels, ch(32), 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(channels, ch(32), 1), BasicConv2d(ch(32), ch(32), 3, padding=1)
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(channels, ch(32), 1),
            BasicConv2d(ch(32), ch(48), 3, padding=1),
            BasicConv2d(ch(48), ch(64), 3, padding=1),
        )
        mixed = _concat_channels(self.branch0, self.branch1, self.branch2)
        self.conv2d = nn.Conv2d(mixed, channels, 1)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        out = torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], 1)
        return self.relu(self.conv2d(out) * self.scale + x)


class _Mixed6a(nn.Module):
    """Reduction-A (35 -> 17): strided 3x3, 1x1-3x3-strided 3x3, and max-pool branches."""

    def __init__(self, in_channels: int, ch: _Widths) -> None:
        super().__init__()
        self.branch0 = BasicConv2d(in_channels, ch(384), 3, stride=2)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_channels, ch(256), 1),
            BasicConv2d(ch(256), ch(256), 3, padding=1),
            BasicConv2d(ch(256), ch(384), 3, stride=2),
        )
        self.branch2 = nn.MaxPool2d(3, stride=2)
        self.out_channels = _concat_channels(self.branch0, self.branch1) + in_channels

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], 1)


class _Block17(nn.Module):
    """Inception-ResNet-B: 1x1 and factorised 1x7/7x1 branches, scaled residual, ReLU."""

    def __init__(self, channels: int, ch: _Widths, *, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.branch0 = BasicConv2d(channels, ch(192), 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(channels, ch(128), 1),
            BasicConv2d(ch(128), ch(160), (1, 7), padding=(0, 3)),
            BasicConv2d(ch(160), ch(192), (7, 1), padding=(3, 0)),
        )
        self.conv2d = nn.Conv2d(_concat_channels(self.branch0, self.branch1), channels, 1)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        out = torch.cat([self.branch0(x), self.branch1(x)], 1)
        return self.relu(self.conv2d(out) * self.scale + x)


class _Mixed7a(nn.Module):
    """Reduction-B (17 -> 8): three convolution branches and a max-pool branch."""

    def __init__(self, in_channels: int, ch: _Widths) -> None:
        super().__init__()
        self.branch0 = nn.Sequential(
            BasicConv2d(in_channels, ch(256), 1), BasicConv2d(ch(256), ch(384), 3, stride=2)
        )
        self.branch1 = nn.Sequential(
            BasicConv2d(in_channels, ch(256), 1), BasicConv2d(ch(256), ch(288), 3, stride=2)
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch(256), 1),
            BasicConv2d(ch(256), ch(288), 3, padding=1),
            BasicConv2d(ch(288), ch(320), 3, stride=2),
        )
        self.branch3 = nn.MaxPool2d(3, stride=2)
        self.out_channels = _concat_channels(self.branch0, self.branch1, self.branch2) + in_channels

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class _Block8(nn.Module):
    """Inception-ResNet-C: 1x1 and factorised 1x3/3x1 branches, scaled residual, optional ReLU."""

    def __init__(self, channels: int, ch: _Widths, *, scale: float, relu: bool = True) -> None:
        super().__init__()
        self.scale = scale
        self.branch0 = BasicConv2d(channels, ch(192), 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(channels, ch(192), 1),
            BasicConv2d(ch(192), ch(224), (1, 3), padding=(0, 1)),
            BasicConv2d(ch(224), ch(256), (3, 1), padding=(1, 0)),
        )
        self.conv2d = nn.Conv2d(_concat_channels(self.branch0, self.branch1), channels, 1)
        self.relu = nn.ReLU() if relu else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = torch.cat([self.branch0(x), self.branch1(x)], 1)
        return self.relu(self.conv2d(out) * self.scale + x)


class _Widths:
    """Scales a published channel count by ``width`` (at least 1 channel)."""

    def __init__(self, width: float) -> None:
        self.width = width

    def __call__(self, channels: int) -> int:
        return max(1, round(channels * self.width))


class InceptionResNetV2(nn.Module):
    """Inception-ResNet-v2 with the module names of Cadene's pretrained-models (and timm).

    Args:
        num_classes: classifier outputs (1000 for the ``imagenet`` weights, 1001 with the
            background class of the TensorFlow release).
        width: multiplies every channel count (1.0 is the published network).
        blocks: numbers of Inception-ResNet-A, -B and -C blocks in ``repeat``, ``repeat_1`` and
            ``repeat_2`` (the paper's 10, 20, 9, plus the final ``block8``).
        up_to: keep only the children of :data:`INCEPTION_RESNET_V2_LAYERS` up to and including
            this one and drop the classifier; ``forward`` then returns its output.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [-1, 1] for the public weights (mean = std = 0.5),
          ``H, W >= 75``.
        - Output: :math:`(B, \\text{num\\_classes})` (global average pooling, so any size above
          the minimum works; at 299x299 it equals the original's 8x8 average pool), or the
          feature map of ``up_to``.

    Example:
        >>> net = InceptionResNetV2(num_classes=5, width=0.0625, blocks=(1, 1, 1))
        >>> net(torch.rand(2, 3, 75, 75)).shape
        torch.Size([2, 5])
        >>> list(net.state_dict())[:2]
        ['conv2d_1a.conv.weight', 'conv2d_1a.bn.weight']
    """

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        width: float = 1.0,
        blocks: tuple[int, int, int] = (10, 20, 9),
        up_to: str | None = None,
    ) -> None:
        super().__init__()
        if not width > 0:
            raise ValueError(f"width must be positive, got {width!r}")
        if len(blocks) != 3 or any(not isinstance(b, int) or b < 0 for b in blocks):
            raise ValueError(f"blocks must be three non-negative ints, got {blocks!r}")
        if up_to is not None and up_to not in INCEPTION_RESNET_V2_LAYERS:
            raise ValueError(
                f"unknown Inception-ResNet-v2 layer {up_to!r}; "
                f"valid: {', '.join(INCEPTION_RESNET_V2_LAYERS)}"
            )
        ch = _Widths(width)
        keep = INCEPTION_RESNET_V2_LAYERS.index(up_to) + 1 if up_to else None
        children: dict[str, nn.Module] = {}
        children["conv2d_1a"] = BasicConv2d(3, ch(32), 3, stride=2)
        children["conv2d_2a"] = BasicConv2d(ch(32), ch(32), 3)
        children["conv2d_2b"] = BasicConv2d(ch(32), ch(64), 3, padding=1)
        children["maxpool_3a"] = nn.MaxPool2d(3, stride=2)
        children["conv2d_3b"] = BasicConv2d(ch(64), ch(80), 1)
        children["conv2d_4a"] = BasicConv2d(ch(80), ch(192), 3)
        children["maxpool_5a"] = nn.MaxPool2d(3, stride=2)
        mixed_5b = _Mixed5b(ch(192), ch)
        c35 = mixed_5b.out_channels  # 320
        children["mixed_5b"] = mixed_5b
        children["repeat"] = nn.Sequential(
            *[_Block35(c35, ch, scale=0.17) for _ in range(blocks[0])]
        )
        mixed_6a = _Mixed6a(c35, ch)
        c17 = mixed_6a.out_channels  # 1088
        children["mixed_6a"] = mixed_6a
        children["repeat_1"] = nn.Sequential(
            *[_Block17(c17, ch, scale=0.10) for _ in range(blocks[1])]
        )
        mixed_7a = _Mixed7a(c17, ch)
        c8 = mixed_7a.out_channels  # 2080
        children["mixed_7a"] = mixed_7a
        if keep is None or keep > INCEPTION_RESNET_V2_LAYERS.index("repeat_2"):
            children["repeat_2"] = nn.Sequential(
                *[_Block8(c8, ch, scale=0.20) for _ in range(blocks[2])]
            )
            children["block8"] = _Block8(c8, ch, scale=1.0, relu=False)
            children["conv2d_7b"] = BasicConv2d(c8, ch(1536), 1)
        for name in INCEPTION_RESNET_V2_LAYERS[:keep]:
            self.add_module(name, children[name])
        # Output channels of each kept child (pooling keeps its input's).
        self.feature_channels: dict[str, int] = {}
        channels = 3
        for name in INCEPTION_RESNET_V2_LAYERS[:keep]:
            channels = int(getattr(children[name], "out_channels", channels))
            if name in ("repeat", "repeat_1", "repeat_2", "block8"):
                channels = {"repeat": c35, "repeat_1": c17}.get(name, c8)
            self.feature_channels[name] = channels
        self.up_to = up_to
        self.last_linear: nn.Linear | None = None
        if keep is None:
            self.avgpool_1a = nn.AdaptiveAvgPool2d(1)
            self.last_linear = nn.Linear(ch(1536), num_classes)

    def features(self, x: Tensor) -> Tensor:
        """Run every kept feature child; ``(B, 1536, H', W')`` for the whole network."""
        for name in self.feature_channels:
            x = getattr(self, name)(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        if self.last_linear is None:
            return x
        return self.last_linear(torch.flatten(self.avgpool_1a(x), 1))
