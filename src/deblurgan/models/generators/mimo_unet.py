"""MIMO-UNet, MIMO-UNet+ (Cho et al., ICCV 2021) and the "pure" U-Net without FAM, SCM, AFF.

"Rethinking Coarse-to-Fine Approach in Single Image Deblurring", Fig. 2: one U-Net whose encoder
takes the blurry image at three scales (multi-input single encoder, MISE: a shallow convolutional
module SCM per coarse scale, merged by a feature attention module FAM), whose decoder emits a
restored image at each scale (multi-output single decoder, MOSD: ``ConvsOut``), and whose skip
connections mix the encoder features of all scales (asymmetric feature fusion, AFF). Each encoder
and decoder stage is a stack of residual blocks without normalisation (``num_res`` = 8 for
MIMO-UNet, 20 for MIMO-UNet+, which also drops 10% of the fused skip features while training).

Module names are the authors' (``models/MIMOUNet.py``: ``Encoder``, ``Decoder``, ``feat_extract``,
``Convs``, ``ConvsOut``, ``AFFs``, ``FAM1``/``FAM2``, ``SCM1``/``SCM2``, with the same nested
``main``/``layers``/``conv``/``merge`` children), so the released ``{"model": state_dict}`` files
load after :func:`deblurgan.models.convert.convert_mimo_unet`. The originals work on [0, 1]
(``to_tensor`` images) and resample with nearest-neighbour ``F.interpolate``; so do we.

``mimo_unet_pure`` is the variant of the DeblurGAN_PRO project, "built for fast inference": FAM,
SCM and the nested (AFF) skip connections removed, i.e. a plain three-level U-Net of MIMO
residual blocks with ordinary skip connections. The project does not say whether it kept the
coarse outputs; ours has one (the baseline row of the paper's ablation of MISE, MOSD and AFF:
6.46 M parameters there, 6,468,707 here), and ``multi_output=True`` adds the coarse heads back.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.models.registries import GENERATORS

__all__ = ["MIMOUNetGenerator", "MIMOUNetPlusGenerator", "MIMOUNetPureGenerator"]


class _BasicConv(nn.Module):
    """Convolution or 4x4 stride-2 transposed convolution, optional ReLU: ``main.0``, ``main.1``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        relu: bool = True,
        transpose: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if transpose:  # kernel 4, stride 2, padding 1: exactly doubles the size
            layers.append(
                nn.ConvTranspose2d(
                    in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2 - 1
                )
            )
        else:
            layers.append(
                nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2)
            )
        if relu:
            layers.append(nn.ReLU(inplace=True))
        self.main = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)


class _ResBlock(nn.Module):
    """conv3x3 - ReLU - conv3x3 plus the input (no normalisation)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            _BasicConv(channels, channels, 3, relu=True),
            _BasicConv(channels, channels, 3, relu=False),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x) + x


class _ResStack(nn.Module):
    """``num_res`` residual blocks under ``layers``: the authors' EBlock and DBlock."""

    def __init__(self, channels: int, num_res: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(*[_ResBlock(channels) for _ in range(num_res)])

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class _AFF(nn.Module):
    """Asymmetric feature fusion: concatenate the three scales' features, 1x1 then 3x3 conv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            _BasicConv(in_channels, out_channels, 1, relu=True),
            _BasicConv(out_channels, out_channels, 3, relu=False),
        )

    def forward(self, x1: Tensor, x2: Tensor, x4: Tensor) -> Tensor:
        return self.conv(torch.cat([x1, x2, x4], dim=1))


class _SCM(nn.Module):
    """Shallow convolutional module: features of a downsampled blurry image, the image kept."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            _BasicConv(3, channels // 4, 3, relu=True),
            _BasicConv(channels // 4, channels // 2, 1, relu=True),
            _BasicConv(channels // 2, channels // 2, 3, relu=True),
            _BasicConv(channels // 2, channels - 3, 1, relu=True),
        )
        self.conv = _BasicConv(channels, channels, 1, relu=False)

    def forward(self, image: Tensor) -> Tensor:
        return self.conv(torch.cat([image, self.main(image)], dim=1))


class _FAM(nn.Module):
    """Feature attention module: ``x1 + conv(x1 * x2)``, the SCM features gating the encoder's."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.merge = _BasicConv(channels, channels, 3, relu=False)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return x1 + self.merge(x1 * x2)


def _half(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=0.5)  # nearest, as the authors


def _double(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2.0)


@GENERATORS.register("mimo_unet")
class MIMOUNetGenerator(nn.Module):
    """MIMO-UNet: a three-level U-Net with multi-scale inputs, outputs and feature fusion.

    ``forward`` returns the full-resolution image clamped to [0, 1] (the authors clamp at test
    time); :meth:`forward_multiscale` returns the unclamped outputs at 1/4, 1/2 and full scale for
    the multi-scale training losses. Each output is the blurry image at its scale plus a predicted
    correction.

    Args:
        width: channels at full resolution (``base_channel``, 32); 2x and 4x at the lower levels.
        num_res: residual blocks in each encoder and decoder stage (8; MIMO-UNet+ has 20).
        multi_input: the multi-scale inputs (SCM) and their merging (FAM) into the encoder.
        multi_output: the coarse outputs (``ConvsOut``); without them ``forward_multiscale``
            returns the full-resolution output only.
        feature_fusion: asymmetric feature fusion (AFF) in the skip connections; without it the
            decoder receives the encoder features of its own level (a plain U-Net skip).
        dropout: ``Dropout2d`` rate on the skip features while training (MIMO-UNet+: 0.1).

    Shape:
        - blurry: ``(B, 3, H, W)`` in [0, 1], H and W divisible by :attr:`size_multiple` (4).
        - restored: ``(B, 3, H, W)`` in [0, 1].

    Example:
        >>> net = MIMOUNetGenerator(width=8, num_res=1)
        >>> net(torch.rand(1, 3, 16, 20)).shape
        torch.Size([1, 3, 16, 20])
        >>> [tuple(o.shape[-2:]) for o in net.forward_multiscale(torch.rand(1, 3, 16, 20))]
        [(4, 5), (8, 10), (16, 20)]
    """

    size_multiple: int = 4

    def __init__(
        self,
        *,
        width: int = 32,
        num_res: int = 8,
        multi_input: bool = True,
        multi_output: bool = True,
        feature_fusion: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 2:
            raise ValueError(f"width must be an int >= 2 (the SCM quarters it), got {width!r}")
        if not isinstance(num_res, int) or num_res < 1:
            raise ValueError(f"num_res must be a positive int, got {num_res!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        c = width
        self.multi_input = multi_input
        self.multi_output = multi_output
        self.feature_fusion = feature_fusion
        self.Encoder = nn.ModuleList(
            [_ResStack(c, num_res), _ResStack(2 * c, num_res), _ResStack(4 * c, num_res)]
        )
        self.feat_extract = nn.ModuleList(
            [
                _BasicConv(3, c, 3),  # (B, c, H, W)
                _BasicConv(c, 2 * c, 3, stride=2),  # (B, 2c, H/2, W/2)
                _BasicConv(2 * c, 4 * c, 3, stride=2),  # (B, 4c, H/4, W/4)
                _BasicConv(4 * c, 2 * c, 4, stride=2, transpose=True),  # back to H/2
                _BasicConv(2 * c, c, 4, stride=2, transpose=True),  # back to H
                _BasicConv(c, 3, 3, relu=False),  # the full-resolution correction
            ]
        )
        self.Decoder = nn.ModuleList(
            [_ResStack(4 * c, num_res), _ResStack(2 * c, num_res), _ResStack(c, num_res)]
        )
        self.Convs = nn.ModuleList(
            [_BasicConv(4 * c, 2 * c, 1), _BasicConv(2 * c, c, 1)]  # after each skip concat
        )
        self.ConvsOut: nn.ModuleList | None = None
        if multi_output:
            self.ConvsOut = nn.ModuleList(
                [_BasicConv(4 * c, 3, 3, relu=False), _BasicConv(2 * c, 3, 3, relu=False)]
            )
        self.AFFs: nn.ModuleList | None = None
        if feature_fusion:
            self.AFFs = nn.ModuleList([_AFF(7 * c, c), _AFF(7 * c, 2 * c)])
        self.FAM1: _FAM | None = None
        self.SCM1: _SCM | None = None
        self.FAM2: _FAM | None = None
        self.SCM2: _SCM | None = None
        if multi_input:
            self.FAM1, self.SCM1 = _FAM(4 * c), _SCM(4 * c)
            self.FAM2, self.SCM2 = _FAM(2 * c), _SCM(2 * c)
        self.drop1: nn.Module = nn.Dropout2d(dropout) if dropout else nn.Identity()
        self.drop2: nn.Module = nn.Dropout2d(dropout) if dropout else nn.Identity()

    def _check_size(self, blurry: Tensor) -> None:
        if blurry.ndim != 4 or blurry.shape[1] != 3:
            raise ValueError(f"blurry must be (B, 3, H, W), got {tuple(blurry.shape)}")
        h, w = blurry.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"{type(self).__name__} needs height and width divisible by "
                f"{self.size_multiple}, got {h}x{w}; pad the input first"
            )

    def _run(self, blurry: Tensor, *, multiscale: bool) -> list[Tensor]:
        self._check_size(blurry)
        x = blurry
        coarse = multiscale and self.ConvsOut is not None
        x_2 = _half(x) if self.multi_input or coarse else None  # (B, 3, H/2, W/2)
        x_4 = _half(x_2) if x_2 is not None else None  # (B, 3, H/4, W/4)

        res1 = self.Encoder[0](self.feat_extract[0](x))  # (B, c, H, W)
        z = self.feat_extract[1](res1)
        if self.FAM2 is not None and self.SCM2 is not None and x_2 is not None:
            z = self.FAM2(z, self.SCM2(x_2))
        res2 = self.Encoder[1](z)  # (B, 2c, H/2, W/2)
        z = self.feat_extract[2](res2)
        if self.FAM1 is not None and self.SCM1 is not None and x_4 is not None:
            z = self.FAM1(z, self.SCM1(x_4))
        z = self.Encoder[2](z)  # (B, 4c, H/4, W/4)

        if self.AFFs is not None:  # every skip sees all three scales
            z12, z21, z42 = _half(res1), _double(res2), _double(z)
            z41 = _double(z42)
            res2 = self.AFFs[1](z12, res2, z42)
            res1 = self.AFFs[0](res1, z21, z41)
        res2, res1 = self.drop2(res2), self.drop1(res1)

        outputs: list[Tensor] = []
        z = self.Decoder[0](z)
        if coarse and self.ConvsOut is not None and x_4 is not None:
            outputs.append(self.ConvsOut[0](z) + x_4)
        z = self.Convs[0](torch.cat([self.feat_extract[3](z), res2], dim=1))
        z = self.Decoder[1](z)
        if coarse and self.ConvsOut is not None and x_2 is not None:
            outputs.append(self.ConvsOut[1](z) + x_2)
        z = self.Convs[1](torch.cat([self.feat_extract[4](z), res1], dim=1))
        z = self.Decoder[2](z)
        outputs.append(self.feat_extract[5](z) + x)
        return outputs

    def forward_multiscale(self, blurry: Tensor) -> list[Tensor]:
        """Restored images coarse to fine (1/4, 1/2, 1), unclamped, for multi-scale losses.

        Args:
            blurry: ``(B, 3, H, W)`` in [0, 1], H and W divisible by 4.

        Returns:
            ``[(B, 3, H/4, W/4), (B, 3, H/2, W/2), (B, 3, H, W)]``; only the last one when the
            model has no coarse outputs (``multi_output=False``).
        """
        return self._run(blurry, multiscale=True)

    def forward(self, blurry: Tensor) -> Tensor:
        return self._run(blurry, multiscale=False)[-1].clamp(0, 1)


@GENERATORS.register("mimo_unet_plus")
class MIMOUNetPlusGenerator(MIMOUNetGenerator):
    """MIMO-UNet+: MIMO-UNet with 20 residual blocks per stage and skip dropout 0.1.

    Args:
        width: channels at full resolution (32).
        num_res: residual blocks per encoder and decoder stage (20).
        multi_input: SCM + FAM, see :class:`MIMOUNetGenerator`.
        multi_output: the coarse outputs.
        feature_fusion: AFF skip connections.
        dropout: ``Dropout2d`` rate on the fused skip features while training (0.1).

    Shape:
        - blurry: ``(B, 3, H, W)`` in [0, 1], H and W divisible by :attr:`size_multiple` (4).
        - restored: ``(B, 3, H, W)`` in [0, 1].

    Example:
        >>> net = MIMOUNetPlusGenerator(width=4, num_res=1).eval()
        >>> net(torch.rand(1, 3, 8, 12)).shape
        torch.Size([1, 3, 8, 12])
    """

    def __init__(
        self,
        *,
        width: int = 32,
        num_res: int = 20,
        multi_input: bool = True,
        multi_output: bool = True,
        feature_fusion: bool = True,
        dropout: float = 0.1,
    ) -> None:
        super().__init__(
            width=width,
            num_res=num_res,
            multi_input=multi_input,
            multi_output=multi_output,
            feature_fusion=feature_fusion,
            dropout=dropout,
        )


@GENERATORS.register("mimo_unet_pure")
class MIMOUNetPureGenerator(MIMOUNetGenerator):
    """MIMO-UNet without SCM, FAM and AFF: a plain three-level U-Net of MIMO residual blocks.

    One blurry input, one output (the blurry image plus a predicted correction), skip
    connections from each encoder level to the decoder level of the same size. Same module names
    as MIMO-UNet for the parts it keeps.

    Args:
        width: channels at full resolution (32).
        num_res: residual blocks per encoder and decoder stage (8).
        multi_output: add MIMO-UNet's coarse outputs at 1/4 and 1/2 scale (off).

    Shape:
        - blurry: ``(B, 3, H, W)`` in [0, 1], H and W divisible by :attr:`size_multiple` (4).
        - restored: ``(B, 3, H, W)`` in [0, 1].

    Example:
        >>> net = MIMOUNetPureGenerator(width=4, num_res=1)
        >>> [o.shape[-1] for o in net.forward_multiscale(torch.rand(1, 3, 8, 12))]
        [12]
    """

    def __init__(self, *, width: int = 32, num_res: int = 8, multi_output: bool = False) -> None:
        super().__init__(
            width=width,
            num_res=num_res,
            multi_input=False,
            multi_output=multi_output,
            feature_fusion=False,
            dropout=0.0,
        )
