"""Building blocks of MAXIM (Tu et al., CVPR 2022, "MAXIM: Multi-Axis MLP for Image Processing"),
with the JAX/Flax conventions that the published weights need; the network is in
:mod:`deblurgan.models.generators.maxim`, which says where each fact comes from.

Activations are channels-last ``(B, H, W, C)``; module attribute names are the Flax scope names
(``Conv_0``, ``LayerNorm_in``, ``in_project``, ...), so parameter keys match the Flax tree.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "RCAB",
    "RDCAB",
    "SAM",
    "BottleneckBlock",
    "ChannelAttention",
    "ConvUp",
    "CrossGatingBlock",
    "DecoderBlock",
    "EncoderBlock",
    "GatingUnit",
    "GmlpLayer",
    "MlpBlock",
    "MultiAxisGmlp",
    "SameConv",
    "SpatialGatingWeights",
    "UpSampleRatio",
    "block_images",
    "gelu",
    "jax_resize",
    "layer_norm",
    "mix_tokens",
    "nearest_downsample",
    "unblock_images",
]

_LN_EPS = 1e-6  # flax.linen.LayerNorm's default


def gelu(x: Tensor) -> Tensor:
    return F.gelu(x, approximate="tanh")  # flax.linen.gelu defaults to the tanh approximation


def block_images(x: Tensor, patch: tuple[int, int]) -> Tensor:
    """Cut ``(B, H, W, C)`` into non-overlapping ``patch`` blocks: ``(B, cells, patch area, C)``.

    Cells run row-major over the grid, tokens row-major inside a patch (einops
    ``n (gh fh) (gw fw) c -> n (gh gw) (fh fw) c``).

    Example:
        >>> x = torch.arange(16.0).reshape(1, 4, 4, 1)
        >>> block_images(x, (2, 2))[0, :, :, 0].tolist()[1]  # the top-right 2x2 block
        [2.0, 3.0, 6.0, 7.0]
    """
    batch, height, width, channels = x.shape
    fh, fw = patch
    gh, gw = height // fh, width // fw
    x = x.reshape(batch, gh, fh, gw, fw, channels).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(batch, gh * gw, fh * fw, channels)


def unblock_images(x: Tensor, grid: tuple[int, int], patch: tuple[int, int]) -> Tensor:
    """Inverse of :func:`block_images`: ``(B, gh*gw, fh*fw, C) -> (B, gh*fh, gw*fw, C)``.

    Example:
        >>> x = torch.rand(2, 8, 12, 3)
        >>> torch.equal(unblock_images(block_images(x, (4, 3)), (2, 4), (4, 3)), x)
        True
    """
    batch, _, _, channels = x.shape
    gh, gw = grid
    fh, fw = patch
    x = x.reshape(batch, gh, gw, fh, fw, channels).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(batch, gh * fh, gw * fw, channels)


def _resize_weights(in_size: int, out_size: int, like: Tensor) -> Tensor:
    """``(in_size, out_size)`` triangle-kernel weights of ``jax.image.resize(..., "bilinear")``."""
    inv_scale = in_size / out_size
    kernel_scale = max(inv_scale, 1.0)  # antialias: widen the kernel when downsampling
    sample = (torch.arange(out_size, dtype=torch.float64) + 0.5) * inv_scale - 0.5
    source = torch.arange(in_size, dtype=torch.float64)
    weights = (1.0 - (sample[None, :] - source[:, None]).abs() / kernel_scale).clamp(min=0.0)
    total = weights.sum(dim=0, keepdim=True)
    weights = torch.where(total > 1000 * torch.finfo(torch.float32).eps, weights / total, 0.0)
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return (weights * inside[None, :]).to(device=like.device, dtype=like.dtype)


def jax_resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize of ``(B, H, W, C)`` exactly as ``jax.image.resize(..., "bilinear")``.

    Upsampling equals PyTorch's ``bilinear`` with ``align_corners=False``; downsampling widens
    the triangle kernel by the factor (anti-aliasing), which PyTorch's ``bilinear`` does not.

    Example:
        >>> x = torch.arange(4.0).reshape(1, 1, 4, 1)
        >>> jax_resize(x, (1, 2)).flatten()  # weights 3, 3, 1 (/7) at the border
        tensor([0.7143, 2.2857])
    """
    height, width = int(x.shape[1]), int(x.shape[2])
    if (height, width) == tuple(size):
        return x
    weights_h = _resize_weights(height, size[0], x)
    weights_w = _resize_weights(width, size[1], x)
    x = torch.einsum("bhwc,hy->bywc", x, weights_h)
    return torch.einsum("bywc,wx->byxc", x, weights_w)


def nearest_downsample(x: Tensor, factor: int) -> Tensor:
    """``jax.image.resize(x, (H // f, W // f), "nearest")`` of ``(B, H, W, C)``: index
    ``floor((o + 0.5) * H / (H // f))``, i.e. the centre pixel of each block, not its corner."""
    height, width = int(x.shape[1]), int(x.shape[2])
    rows = ((torch.arange(height // factor) + 0.5) * height / (height // factor)).floor().long()
    cols = ((torch.arange(width // factor) + 0.5) * width / (width // factor)).floor().long()
    return x[:, rows.to(x.device)][:, :, cols.to(x.device)]


def mix_tokens(x: Tensor, dense: nn.Linear, axis: int) -> Tensor:
    """A dense layer over the cells (``axis=-3``) or the tokens of a block (``axis=-2``) of
    ``(B, cells, area, C)``: Flax's swap-axes, Dense, swap-back, as one matrix product (no copies).
    """
    x = x.contiguous()
    if axis == -3:
        batch, cells, area, channels = x.shape
        mixed = torch.matmul(dense.weight, x.reshape(batch, cells, area * channels))
        return mixed.reshape(batch, cells, area, channels) + dense.bias[:, None, None]
    return torch.matmul(dense.weight, x) + dense.bias[:, None]


class SameConv(nn.Conv2d):
    """A convolution on channels-last ``(B, H, W, C)`` with Flax's "SAME" padding (even inputs)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, *, stride: int = 1
    ) -> None:
        # SAME: total padding k - s, split low-first; k=3 s=1 -> 1, k=1 -> 0, k=4 s=2 -> 1.
        super().__init__(in_channels, out_channels, kernel, stride, padding=(kernel - stride) // 2)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class ConvUp(nn.ConvTranspose2d):
    """Flax ``ConvTranspose(kernel (2, 2), strides (2, 2))`` on channels-last input: 2x H, W."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, 2, 2)

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return super().forward(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def layer_norm(channels: int) -> nn.LayerNorm:
    return nn.LayerNorm(channels, eps=_LN_EPS)


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation (``CALayer``): global mean, 1x1 down by ``reduction``, ReLU, 1x1 up,
    sigmoid, scale the input."""

    def __init__(self, channels: int, *, reduction: int) -> None:
        super().__init__()
        self.Conv_0 = SameConv(channels, channels // reduction, 1)
        self.Conv_1 = SameConv(channels // reduction, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        y = x.mean(dim=(1, 2), keepdim=True)
        y = torch.sigmoid(self.Conv_1(F.relu(self.Conv_0(y))))
        return x * y


class RCAB(nn.Module):
    """Residual channel attention block: LayerNorm, conv3x3, leaky ReLU, conv3x3, SE, + input."""

    def __init__(self, channels: int, *, reduction: int, lrelu_slope: float) -> None:
        super().__init__()
        self.lrelu_slope = lrelu_slope
        self.LayerNorm = layer_norm(channels)
        self.conv1 = SameConv(channels, channels, 3)
        self.conv2 = SameConv(channels, channels, 3)
        self.channel_attention = ChannelAttention(channels, reduction=reduction)

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv1(self.LayerNorm(x))
        y = self.conv2(F.leaky_relu(y, self.lrelu_slope))
        return self.channel_attention(y) + x


class MlpBlock(nn.Module):
    """Dense, GELU, Dense over channels (``MlpBlock``)."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.Dense_0 = nn.Linear(channels, hidden)
        self.Dense_1 = nn.Linear(hidden, channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.Dense_1(gelu(self.Dense_0(x)))


class RDCAB(nn.Module):
    """Residual dense channel attention block of the bottleneck: LN, channel MLP, SE, + input."""

    def __init__(self, channels: int, *, reduction: int) -> None:
        super().__init__()
        self.LayerNorm = layer_norm(channels)
        self.channel_mixing = MlpBlock(channels, channels)
        self.channel_attention = ChannelAttention(channels, reduction=reduction)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.channel_attention(self.channel_mixing(self.LayerNorm(x)))


class GatingUnit(nn.Module):
    """gMLP spatial gate ``u * (Dense_over_tokens(LN(v)) + 1)`` on ``(B, cells, area, 2C)``.

    ``axis=-3`` mixes across cells (``GridGatingUnit``), ``axis=-2`` inside a block
    (``BlockGatingUnit``); ``tokens`` is the size of that axis.
    """

    def __init__(self, channels: int, tokens: int, *, axis: int) -> None:
        super().__init__()
        self.axis = axis
        self.intermediate_layernorm = layer_norm(channels)
        self.Dense_0 = nn.Linear(tokens, tokens)

    def forward(self, x: Tensor) -> Tensor:
        u, v = x.chunk(2, dim=-1)
        v = mix_tokens(self.intermediate_layernorm(v), self.Dense_0, self.axis)
        return u * (v + 1.0)


class GmlpLayer(nn.Module):
    """``GridGmlpLayer`` (``grid=True``: a fixed grid of cells) or ``BlockGmlpLayer`` (fixed
    blocks): partition, LN, Dense to ``factor * C``, GELU, gate, Dense back, + input, unpartition.
    """

    def __init__(self, channels: int, size: tuple[int, int], *, grid: bool, factor: int) -> None:
        super().__init__()
        self.size, self.grid = size, grid
        hidden = channels * factor
        self.LayerNorm = layer_norm(channels)
        self.in_project = nn.Linear(channels, hidden)
        self.gate_name = "GridGatingUnit" if grid else "BlockGatingUnit"
        self.add_module(
            self.gate_name, GatingUnit(hidden // 2, size[0] * size[1], axis=-3 if grid else -2)
        )
        self.out_project = nn.Linear(hidden // 2, channels)

    def forward(self, x: Tensor) -> Tensor:
        height, width = int(x.shape[1]), int(x.shape[2])
        if self.grid:
            grid = self.size
            patch = (height // grid[0], width // grid[1])
        else:
            patch = self.size
            grid = (height // patch[0], width // patch[1])
        x = block_images(x, patch)
        y = gelu(self.in_project(self.LayerNorm(x)))
        x = x + self.out_project(getattr(self, self.gate_name)(y))
        return unblock_images(x, grid, patch)


class MultiAxisGmlp(nn.Module):
    """``ResidualSplitHeadMultiAxisGmlpLayer``: LN, Dense x2, GELU, split; grid head and block
    head; concatenate, Dense back, + input."""

    def __init__(
        self,
        channels: int,
        *,
        block_size: tuple[int, int],
        grid_size: tuple[int, int],
        block_factor: int,
        grid_factor: int,
        input_factor: int,
    ) -> None:
        super().__init__()
        hidden = channels * input_factor
        self.LayerNorm_in = layer_norm(channels)
        self.in_project = nn.Linear(channels, hidden)
        self.GridGmlpLayer = GmlpLayer(hidden // 2, grid_size, grid=True, factor=grid_factor)
        self.BlockGmlpLayer = GmlpLayer(hidden // 2, block_size, grid=False, factor=block_factor)
        self.out_project = nn.Linear(hidden, channels)

    def forward(self, x: Tensor) -> Tensor:
        y = gelu(self.in_project(self.LayerNorm_in(x)))
        u, v = y.chunk(2, dim=-1)
        y = torch.cat([self.GridGmlpLayer(u), self.BlockGmlpLayer(v)], dim=-1)
        return x + self.out_project(y)


class SpatialGatingWeights(nn.Module):
    """``GetSpatialGatingWeights``: the two-axis gating weights of the cross-gating block."""

    def __init__(
        self,
        channels: int,
        *,
        block_size: tuple[int, int],
        grid_size: tuple[int, int],
        input_factor: int,
    ) -> None:
        super().__init__()
        hidden = channels * input_factor
        self.block_size, self.grid_size = block_size, grid_size
        self.LayerNorm_in = layer_norm(channels)
        self.in_project = nn.Linear(channels, hidden)
        self.Dense_0 = nn.Linear(grid_size[0] * grid_size[1], grid_size[0] * grid_size[1])
        self.Dense_1 = nn.Linear(block_size[0] * block_size[1], block_size[0] * block_size[1])
        self.out_project = nn.Linear(hidden, channels)

    def forward(self, x: Tensor) -> Tensor:
        height, width = int(x.shape[1]), int(x.shape[2])
        u, v = gelu(self.in_project(self.LayerNorm_in(x))).chunk(2, dim=-1)
        grid = self.grid_size
        patch = (height // grid[0], width // grid[1])
        u = block_images(u, patch)  # (B, cells, area, C): mix across cells
        u = mix_tokens(u, self.Dense_0, -3)
        u = unblock_images(u, grid, patch)
        patch = self.block_size
        grid = (height // patch[0], width // patch[1])
        v = block_images(v, patch)  # mix inside each block
        v = mix_tokens(v, self.Dense_1, -2)
        v = unblock_images(v, grid, patch)
        return self.out_project(torch.cat([u, v], dim=-1))


class CrossGatingBlock(nn.Module):
    """Cross-gating MLP block: ``x`` and ``y`` gate each other; returns ``(x + y + x0, y)``.

    With ``upsample_y`` the gating signal ``y`` first passes a 2x2 transposed convolution from
    ``y_channels`` (a coarser level) to ``channels``.
    """

    def __init__(
        self,
        x_channels: int,
        channels: int,
        *,
        y_channels: int,
        upsample_y: bool,
        block_size: tuple[int, int],
        grid_size: tuple[int, int],
        input_factor: int,
    ) -> None:
        super().__init__()
        self.upsample_y = upsample_y
        if upsample_y:
            self.ConvTranspose_0 = ConvUp(y_channels, channels)
            y_channels = channels
        self.Conv_0 = SameConv(x_channels, channels, 1)
        self.Conv_1 = SameConv(y_channels, channels, 1)
        gating = {"block_size": block_size, "grid_size": grid_size, "input_factor": input_factor}
        self.LayerNorm_x = layer_norm(channels)
        self.in_project_x = nn.Linear(channels, channels)
        self.SplitHeadMultiAxisGating_x = SpatialGatingWeights(channels, **gating)  # type: ignore[arg-type]
        self.LayerNorm_y = layer_norm(channels)
        self.in_project_y = nn.Linear(channels, channels)
        self.SplitHeadMultiAxisGating_y = SpatialGatingWeights(channels, **gating)  # type: ignore[arg-type]
        self.out_project_y = nn.Linear(channels, channels)
        self.out_project_x = nn.Linear(channels, channels)

    def forward(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        if self.upsample_y:
            y = self.ConvTranspose_0(y)
        x = self.Conv_0(x)
        y = self.Conv_1(y)
        shortcut_x, shortcut_y = x, y
        x = gelu(self.in_project_x(self.LayerNorm_x(x)))
        gate_x = self.SplitHeadMultiAxisGating_x(x)
        y = gelu(self.in_project_y(self.LayerNorm_y(y)))
        gate_y = self.SplitHeadMultiAxisGating_y(y)
        y = self.out_project_y(y * gate_x) + shortcut_y
        x = self.out_project_x(x * gate_y) + y + shortcut_x
        return x, y


class EncoderBlock(nn.Module):
    """``UNetEncoderBlock``: concatenate the skip, 1x1 conv, ``groups`` x (multi-axis gMLP, RCAB),
    long skip, optional cross-gating with the previous stage, optional 4x4 stride-2 downsampling.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        *,
        groups: int,
        block_size: tuple[int, int],
        grid_size: tuple[int, int],
        factors: tuple[int, int, int],
        reduction: int,
        lrelu_slope: float,
        cross_gating: bool,
        downsample: bool,
    ) -> None:
        super().__init__()
        block_factor, grid_factor, input_factor = factors
        self.groups, self.downsample, self.cross_gating = groups, downsample, cross_gating
        self.Conv_0 = SameConv(in_channels, channels, 1)
        for i in range(groups):
            self.add_module(
                f"SplitHeadMultiAxisGmlpLayer_{i}",
                MultiAxisGmlp(
                    channels,
                    block_size=block_size,
                    grid_size=grid_size,
                    block_factor=block_factor,
                    grid_factor=grid_factor,
                    input_factor=input_factor,
                ),
            )
            # The authors' f"channel_attention_block_1{i}" names them _10, _11, ...
            self.add_module(
                f"channel_attention_block_1{i}",
                RCAB(channels, reduction=reduction, lrelu_slope=lrelu_slope),
            )
        if cross_gating:
            self.cross_gating_block = CrossGatingBlock(
                channels,
                channels,
                y_channels=channels,
                upsample_y=False,
                block_size=block_size,
                grid_size=grid_size,
                input_factor=input_factor,
            )
        if downsample:
            self.Conv_1 = SameConv(channels, channels, 4, stride=2)

    def forward(
        self, x: Tensor, skip: Tensor | None = None, gating: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Returns ``(downsampled, full)``; ``downsampled`` is ``full`` without downsampling."""
        if skip is not None:
            x = torch.cat([x, skip], dim=-1)
        x = self.Conv_0(x)
        shortcut = x
        for i in range(self.groups):
            x = getattr(self, f"SplitHeadMultiAxisGmlpLayer_{i}")(x)
            x = getattr(self, f"channel_attention_block_1{i}")(x)
        x = x + shortcut
        if self.cross_gating:
            if gating is None:
                raise ValueError("this encoder block cross-gates: pass the previous stage's gating")
            x, _ = self.cross_gating_block(x, gating)
        if self.downsample:
            return self.Conv_1(x), x
        return x, x


class DecoderBlock(nn.Module):
    """``UNetDecoderBlock``: 2x2 transposed convolution up, then an encoder block (no down)."""

    def __init__(
        self, in_channels: int, bridge_channels: int, channels: int, **block: object
    ) -> None:
        super().__init__()
        self.ConvTranspose_0 = ConvUp(in_channels, channels)
        self.UNetEncoderBlock_0 = EncoderBlock(
            channels + bridge_channels,
            channels,
            cross_gating=False,
            downsample=False,
            **block,  # type: ignore[arg-type]
        )

    def forward(self, x: Tensor, bridge: Tensor) -> Tensor:
        return self.UNetEncoderBlock_0(self.ConvTranspose_0(x), skip=bridge)[0]


class BottleneckBlock(nn.Module):
    """``BottleneckBlock``: 1x1 conv, ``groups`` x (multi-axis gMLP, RDCAB), long skip."""

    def __init__(
        self,
        channels: int,
        *,
        groups: int,
        size: tuple[int, int],
        factors: tuple[int, int, int],
        reduction: int,
    ) -> None:
        super().__init__()
        block_factor, grid_factor, input_factor = factors
        self.groups = groups
        self.input_proj = SameConv(channels, channels, 1)
        for i in range(groups):
            self.add_module(
                f"SplitHeadMultiAxisGmlpLayer_{i}",
                MultiAxisGmlp(
                    channels,
                    block_size=size,
                    grid_size=size,
                    block_factor=block_factor,
                    grid_factor=grid_factor,
                    input_factor=input_factor,
                ),
            )
            self.add_module(f"channel_attention_block_1_{i}", RDCAB(channels, reduction=reduction))

    def forward(self, x: Tensor) -> Tensor:
        x = self.input_proj(x)
        shortcut = x
        for i in range(self.groups):
            x = getattr(self, f"SplitHeadMultiAxisGmlpLayer_{i}")(x)
            x = getattr(self, f"channel_attention_block_1_{i}")(x)
        return x + shortcut


class UpSampleRatio(nn.Module):
    """``UpSampleRatio``: :func:`jax_resize` by a power-of-two ratio, then a 1x1 convolution."""

    def __init__(self, in_channels: int, channels: int, *, ratio: float) -> None:
        super().__init__()
        self.ratio = ratio
        self.Conv_0 = SameConv(in_channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        height, width = int(x.shape[1]), int(x.shape[2])
        if self.ratio < 1:
            factor = round(1 / self.ratio)
            size = (height // factor, width // factor)
        else:
            factor = round(self.ratio)
            size = (height * factor, width * factor)
        return self.Conv_0(jax_resize(x, size))


class SAM(nn.Module):
    """Supervised attention module: an image ``Conv_1(x) + input`` and features gated by it."""

    def __init__(self, channels: int, out_channels: int) -> None:
        super().__init__()
        self.Conv_0 = SameConv(channels, channels, 3)
        self.Conv_1 = SameConv(channels, out_channels, 3)
        self.Conv_2 = SameConv(out_channels, channels, 3)

    def forward(self, x: Tensor, image: Tensor) -> tuple[Tensor, Tensor]:
        restored = self.Conv_1(x) + image
        features = self.Conv_0(x) * torch.sigmoid(self.Conv_2(restored)) + x
        return features, restored
