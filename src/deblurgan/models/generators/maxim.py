"""MAXIM (Tu, Talebi, Zhang, Yang, Milanfar, Bovik and Li, CVPR 2022, "MAXIM: Multi-Axis MLP for
Image Processing"): a multi-stage, multi-scale U-Net of multi-axis gated MLP blocks.

Written from the paper and the authors' published architecture (google-research/maxim,
``maxim/models/maxim.py``, Apache-2.0), which fixes every fact below:

* **Multi-axis gated MLP block** (``ResidualSplitHeadMultiAxisGmlpLayer``): LayerNorm, a dense
  projection to twice the channels, GELU, then a split into two heads. The *grid* head cuts the
  image into a fixed ``grid_size`` of cells and mixes tokens that sit at the same place of every
  cell (global, dilated mixing); the *block* head cuts it into blocks of a fixed ``block_size`` and
  mixes tokens inside each block (local mixing). Each head is a gMLP gate (Liu et al., 2021,
  "Pay Attention to MLPs"): ``u * (Dense_over_tokens(LayerNorm(v)) + 1)``. Because the token
  dimension mixed by a dense layer is the number of cells (grid) or the block area (block), both
  fixed, the network is fully convolutional over any size that these partitions divide.
* **Cross-gating block** (``CrossGatingBlock``): two signals gate each other with the same two-axis
  spatial weights (``GetSpatialGatingWeights``); used on the skip connections (fed by every
  encoder scale, resampled with ``UpSampleRatio``) and between stages.
* **Supervised attention module** (SAM, from MPRNet; Zamir et al., CVPR 2021) passes features and
  a restored image from one stage to the next; every stage and every scale emits an image (the
  input at 1, 1/2 and 1/4 of the size, nearest-neighbour downsampled, is added back).
* ``maxim_3s`` is MAXIM-3S, the deblurring model of the paper (32.86 dB PSNR on GoPro): features
  32, depth 3, 3 stages, 2 groups, 2 bottleneck blocks, 3 supervision scales, blocks and grids of
  16 x 16 at the two high-resolution levels and 8 x 8 below (the authors' code uses
  ``block_size_lr`` as the grid of the low-resolution levels too; so do we). 22.2 M parameters.

Conventions kept from JAX/Flax so that the converted weights reproduce the published model:
tanh-approximated GELU, LayerNorm epsilon 1e-6, convolutions padded "SAME" (a 4x4 stride-2
convolution pads one pixel on each side), the transposed 2x2 convolution, and
``jax.image.resize``'s resampling: pixel centres at half-integers, an anti-aliased (widened)
triangle kernel when downsampling, weights renormalised at the borders (:func:`jax_resize`).
The module tree mirrors the Flax scopes (``stage_0_encoder_block_0.SplitHeadMultiAxisGmlpLayer_0.
GridGmlpLayer.in_project.weight`` is Flax's ``backbone/stage_0_encoder_block_0/
SplitHeadMultiAxisGmlpLayer_0/GridGmlpLayer/in_project/kernel``, transposed), so the converter
(:mod:`deblurgan.models.tfjs`) maps every published tensor by name.

Internally activations are channels-last ``(B, H, W, C)`` as in the original: the MLPs act on
the last axis, and a convolution reads the same memory as a channels-last ``(B, C, H, W)`` view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from deblurgan.models.generators.lite_unet import clamp_straight_through
from deblurgan.models.generators.maxim_blocks import (
    SAM,
    BottleneckBlock,
    CrossGatingBlock,
    DecoderBlock,
    EncoderBlock,
    SameConv,
    UpSampleRatio,
    nearest_downsample,
)
from deblurgan.models.registries import GENERATORS

__all__ = ["MAXIMGenerator"]


def _pair(value: Sequence[int] | int, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
    return pair[0], pair[1]


@GENERATORS.register("maxim_3s")
class MAXIMGenerator(nn.Module):
    """MAXIM: ``num_stages`` U-Nets of multi-axis gated MLP blocks, cross-gated to each other.

    The defaults are MAXIM-3S as trained on GoPro by its authors (22.2 M parameters). Height and
    width must be multiples of :attr:`size_multiple` (64 for MAXIM-3S: 16 x 16 grids at 1/2 and
    8 x 8 blocks at 1/8 of the size); the inference code pads to it.

    Args:
        in_channels: image channels (3).
        features: channels at full resolution; level ``i`` has ``2**i * features``.
        depth: encoder levels (each halves the size).
        num_stages: chained U-Nets; all but the last pass SAM features on.
        num_groups: (multi-axis gMLP, channel attention) pairs per block.
        num_bottleneck_blocks: bottleneck blocks at ``1 / 2**depth`` of the size.
        num_supervision_scales: input and output scales (1, 1/2, 1/4, ...).
        high_res_stages: levels that use the ``_hr`` block and grid sizes.
        block_size_hr: block of the local (block) head at high-resolution levels.
        grid_size_hr: grid of the global (grid) head at high-resolution levels.
        block_size_lr: block and grid at the low-resolution levels and in the bottleneck.
        block_gmlp_factor: hidden width factor of the block head.
        grid_gmlp_factor: hidden width factor of the grid head.
        input_proj_factor: hidden width factor of the split-head input projection.
        channels_reduction: squeeze factor of the channel attention.
        lrelu_slope: negative slope of the leaky ReLUs.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [0, 1], ``H`` and ``W`` multiples of ``size_multiple``
        - Output: same shape, clamped to [0, 1] (straight-through gradient)

    Example:
        >>> net = MAXIMGenerator(features=4, num_stages=2, num_groups=1, num_bottleneck_blocks=1,
        ...     block_size_hr=2, grid_size_hr=2, block_size_lr=2)
        >>> net.size_multiple
        16
        >>> net(torch.rand(1, 3, 32, 48)).shape
        torch.Size([1, 3, 32, 48])
        >>> [tuple(o.shape[-2:]) for o in net.forward_multiscale(torch.rand(1, 3, 32, 32))][:3]
        [(8, 8), (16, 16), (32, 32)]
    """

    def __init__(
        self,
        in_channels: int = 3,
        *,
        features: int = 32,
        depth: int = 3,
        num_stages: int = 3,
        num_groups: int = 2,
        num_bottleneck_blocks: int = 2,
        num_supervision_scales: int = 3,
        high_res_stages: int = 2,
        block_size_hr: Sequence[int] | int = (16, 16),
        grid_size_hr: Sequence[int] | int = (16, 16),
        block_size_lr: Sequence[int] | int = (8, 8),
        block_gmlp_factor: int = 2,
        grid_gmlp_factor: int = 2,
        input_proj_factor: int = 2,
        channels_reduction: int = 4,
        lrelu_slope: float = 0.2,
    ) -> None:
        super().__init__()
        for name, value in {
            "in_channels": in_channels,
            "features": features,
            "depth": depth,
            "num_stages": num_stages,
            "num_groups": num_groups,
            "num_supervision_scales": num_supervision_scales,
            "block_gmlp_factor": block_gmlp_factor,
            "grid_gmlp_factor": grid_gmlp_factor,
            "input_proj_factor": input_proj_factor,
            "channels_reduction": channels_reduction,
        }.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if num_supervision_scales > depth:
            raise ValueError(
                f"num_supervision_scales ({num_supervision_scales}) cannot exceed depth ({depth})"
            )
        if features % channels_reduction:
            raise ValueError(
                f"features ({features}) must be divisible by channels_reduction "
                f"({channels_reduction})"
            )
        hr = (_pair(block_size_hr, "block_size_hr"), _pair(grid_size_hr, "grid_size_hr"))
        lr_size = _pair(block_size_lr, "block_size_lr")
        self.depth, self.num_stages, self.scales = depth, num_stages, num_supervision_scales
        factors = (block_gmlp_factor, grid_gmlp_factor, input_proj_factor)
        # (block, grid) per level: the authors' code also uses block_size_lr as the low-res grid.
        sizes = [hr if i < high_res_stages else (lr_size, lr_size) for i in range(depth)]
        width = [(2**i) * features for i in range(depth)]
        block = {
            "groups": num_groups,
            "factors": factors,
            "reduction": channels_reduction,
            "lrelu_slope": lrelu_slope,
        }
        up_index = 0
        # Names of the UpSampleRatio modules per (stage, phase, level, source): Flax numbers them
        # in call order, cross-gating (phase 0) then decoder (phase 1), stage by stage.
        self._up_names: list[list[list[list[str]]]] = []
        for s in range(num_stages):
            for i in range(num_supervision_scales):
                self.add_module(f"stage_{s}_input_conv_{i}", SameConv(in_channels, width[i], 3))
                if s > 0:
                    self.add_module(
                        f"stage_{s}_input_fuse_sam_{i}",
                        CrossGatingBlock(
                            width[i],
                            width[i],
                            y_channels=width[i],
                            upsample_y=False,
                            block_size=sizes[i][0],
                            grid_size=sizes[i][1],
                            input_factor=input_proj_factor,
                        ),
                    )
            for i in range(depth):
                skip = width[i] if i < num_supervision_scales else 0
                previous = width[i - 1] if i > 0 else width[0]
                self.add_module(
                    f"stage_{s}_encoder_block_{i}",
                    EncoderBlock(
                        previous + skip,
                        width[i],
                        block_size=sizes[i][0],
                        grid_size=sizes[i][1],
                        cross_gating=s > 0,
                        downsample=True,
                        **block,  # type: ignore[arg-type]
                    ),
                )
            for b in range(num_bottleneck_blocks):
                self.add_module(
                    f"stage_{s}_global_block_{b}",
                    BottleneckBlock(
                        width[-1],
                        groups=num_groups,
                        size=lr_size,
                        factors=factors,
                        reduction=channels_reduction,
                    ),
                )
            stage_names: list[list[list[str]]] = []
            for phase in range(2):
                phase_names: list[list[str]] = [[] for _ in range(depth)]
                for i in reversed(range(depth)):
                    for j in range(depth):
                        # cross-gating resamples encoder level j; the decoder resamples the
                        # cross-gated skip of level depth - 1 - j.
                        level = j if phase == 0 else depth - 1 - j
                        name = f"UpSampleRatio_{up_index}"
                        up_index += 1
                        self.add_module(
                            name, UpSampleRatio(width[level], width[i], ratio=2.0 ** (level - i))
                        )
                        phase_names[i].append(name)
                    if phase == 0:
                        y_channels = width[-1] if i == depth - 1 else width[i + 1]
                        self.add_module(
                            f"stage_{s}_cross_gating_block_{i}",
                            CrossGatingBlock(
                                depth * width[i],
                                width[i],
                                y_channels=y_channels,
                                upsample_y=True,
                                block_size=sizes[i][0],
                                grid_size=sizes[i][1],
                                input_factor=input_proj_factor,
                            ),
                        )
                    else:
                        self.add_module(
                            f"stage_{s}_decoder_block_{i}",
                            DecoderBlock(
                                width[-1] if i == depth - 1 else width[i + 1],
                                depth * width[i],
                                width[i],
                                block_size=sizes[i][0],
                                grid_size=sizes[i][1],
                                **block,
                            ),
                        )
                        if i < num_supervision_scales:
                            if s < num_stages - 1:
                                self.add_module(
                                    f"stage_{s}_supervised_attention_module_{i}",
                                    SAM(width[i], in_channels),
                                )
                            else:
                                self.add_module(
                                    f"stage_{s}_output_conv_{i}", SameConv(width[i], in_channels, 3)
                                )
                stage_names.append(phase_names)
            self._up_names.append(stage_names)
        multiple = 2**depth
        for i, (block_i, grid_i) in enumerate(sizes):
            multiple = math.lcm(multiple, *(2**i * v for v in (*block_i, *grid_i)))
        multiple = math.lcm(multiple, *(2**depth * v for v in lr_size))
        self.size_multiple: int = multiple

    def _check_size(self, blurry: Tensor) -> None:
        if blurry.ndim != 4:
            raise ValueError(f"expected a (B, C, H, W) tensor, got shape {tuple(blurry.shape)}")
        height, width = int(blurry.shape[-2]), int(blurry.shape[-1])
        if height % self.size_multiple or width % self.size_multiple:
            raise ValueError(
                f"MAXIM needs height and width divisible by {self.size_multiple}, got "
                f"{height}x{width} (the inference code pads to it)"
            )

    def forward_stages(self, blurry: Tensor) -> list[list[Tensor]]:
        """Every stage's outputs, each coarse to fine, unclamped: ``outputs[-1][-1]`` is the
        result. Channels-first ``(B, 3, H / 2**k, W / 2**k)``.
        """
        self._check_size(blurry)
        image = blurry.permute(0, 2, 3, 1)  # (B, H, W, C) from here on
        shortcuts = [image] + [nearest_downsample(image, 2**i) for i in range(1, self.scales)]
        outputs_all: list[list[Tensor]] = []
        sam_features: list[Tensor] = []
        encs_prev: list[Tensor] = []
        decs_prev: list[Tensor] = []
        for s in range(self.num_stages):
            x_scales = []
            for i in range(self.scales):
                x_scale = getattr(self, f"stage_{s}_input_conv_{i}")(shortcuts[i])
                if s > 0:
                    fuse = getattr(self, f"stage_{s}_input_fuse_sam_{i}")
                    x_scale, _ = fuse(x_scale, sam_features.pop())
                x_scales.append(x_scale)
            encs: list[Tensor] = []
            x = x_scales[0]
            for i in range(self.depth):
                skip = x_scales[i] if i < self.scales else None
                gating = encs_prev.pop() + decs_prev.pop() if s > 0 else None
                x, bridge = getattr(self, f"stage_{s}_encoder_block_{i}")(x, skip, gating)
                encs.append(bridge)
            b = 0
            while hasattr(self, f"stage_{s}_global_block_{b}"):
                x = getattr(self, f"stage_{s}_global_block_{b}")(x)
                b += 1
            global_feature = x
            skip_features = []
            for i in reversed(range(self.depth)):
                names = self._up_names[s][0][i]
                signal = torch.cat(
                    [getattr(self, n)(enc) for n, enc in zip(names, encs, strict=True)], dim=-1
                )
                skips, global_feature = getattr(self, f"stage_{s}_cross_gating_block_{i}")(
                    signal, global_feature
                )
                skip_features.append(skips)
            outputs: list[Tensor] = []
            decs: list[Tensor] = []
            sam_features = []
            for i in reversed(range(self.depth)):
                names = self._up_names[s][1][i]
                signal = torch.cat(
                    [getattr(self, n)(skip) for n, skip in zip(names, skip_features, strict=True)],
                    dim=-1,
                )
                x = getattr(self, f"stage_{s}_decoder_block_{i}")(x, signal)
                decs.append(x)
                if i < self.scales:
                    if s < self.num_stages - 1:
                        sam_module = getattr(self, f"stage_{s}_supervised_attention_module_{i}")
                        sam, output = sam_module(x, shortcuts[i])
                        sam_features.append(sam)
                    else:
                        output = getattr(self, f"stage_{s}_output_conv_{i}")(x) + shortcuts[i]
                    outputs.append(output)
            encs_prev = encs[::-1]
            decs_prev = decs
            outputs_all.append([o.permute(0, 3, 1, 2) for o in outputs])
        return outputs_all

    def forward_multiscale(self, blurry: Tensor) -> list[Tensor]:
        """All stage outputs for multi-stage, multi-scale training losses: stage by stage, each
        coarse to fine, unclamped; the last is the final result."""
        return [output for stage in self.forward_stages(blurry) for output in stage]

    def forward(self, blurry: Tensor) -> Tensor:
        return clamp_straight_through(self.forward_stages(blurry)[-1][-1])
