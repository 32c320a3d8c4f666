"""Reusable convolution blocks: normalisation and activation by name, conv-norm-act, residual block.

The blocks keep the ``nn.Sequential`` index layout of the public code they come from (torchvision's
``Conv2dNormActivation``, the pix2pix / DeblurGAN ``ResnetBlock``), so state dicts of the published
models map onto ours key for key.
"""

from __future__ import annotations

from torch import Tensor, nn

from deblurgan.registry import UnknownNameError

__all__ = ["ACTIVATIONS", "NORMS", "ConvNormAct", "ResidualBlock", "get_act", "get_norm"]

NORMS: tuple[str, ...] = ("batch", "instance", "none")
"""Normalisation names understood by :func:`get_norm`."""

ACTIVATIONS: tuple[str, ...] = ("relu", "relu6", "leaky_relu", "tanh", "none")
"""Activation names understood by :func:`get_act`."""

_PADDING_MODES: tuple[str, ...] = ("reflect", "replicate", "zeros")


def get_norm(name: str, channels: int, *, track_running_stats: bool = False) -> nn.Module:
    """A 2-D normalisation layer by name.

    ``"batch"`` is ``BatchNorm2d`` with affine parameters; ``"instance"`` is ``InstanceNorm2d``
    without affine parameters (pix2pix, DeblurGAN); ``"none"`` is ``nn.Identity`` (it keeps its
    index in a ``Sequential``, so state-dict keys do not shift).

    Args:
        name: one of :data:`NORMS`.
        channels: number of channels normalised.
        track_running_stats: instance norm only: keep running averages and use them in eval mode,
            as DeblurGAN-v2 does. Batch norm always tracks them.

    Returns:
        The layer.

    Example:
        >>> norm = get_norm("instance", 8)
        >>> type(norm).__name__, norm.affine, norm.track_running_stats
        ('InstanceNorm2d', False, False)
        >>> get_norm("none", 8)
        Identity()
    """
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive int, got {channels!r}")
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=track_running_stats)
    if name == "none":
        return nn.Identity()
    raise UnknownNameError(f"unknown norm {name!r}; valid names: {', '.join(NORMS)}")


def get_act(name: str) -> nn.Module:
    """An activation layer by name (``"leaky_relu"`` has slope 0.2, as in pix2pix critics).

    Args:
        name: one of :data:`ACTIVATIONS`.

    Returns:
        The layer (in-place where that is safe after a convolution or a norm).

    Example:
        >>> get_act("leaky_relu")
        LeakyReLU(negative_slope=0.2, inplace=True)
    """
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "relu6":
        return nn.ReLU6(inplace=True)
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2, inplace=True)
    if name == "tanh":
        return nn.Tanh()
    if name == "none":
        return nn.Identity()
    raise UnknownNameError(f"unknown activation {name!r}; valid names: {', '.join(ACTIVATIONS)}")


class ConvNormAct(nn.Sequential):
    """Convolution, normalisation, activation: children ``0``, ``1``, ``2`` (torchvision's layout).

    Padding is ``(kernel_size - 1) // 2`` so a stride-1 block keeps the spatial size.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: square kernel size.
        stride: convolution stride.
        groups: convolution groups (``groups=in_channels`` for a depthwise convolution).
        norm: normalisation name, see :func:`get_norm`.
        act: activation name, see :func:`get_act`.
        bias: convolution bias; by default only when ``norm="none"``.
        track_running_stats: passed to :func:`get_norm` for instance norm.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, C_{out}, \\lceil H / s \\rceil, \\lceil W / s \\rceil)`, odd kernels.

    Example:
        >>> import torch
        >>> block = ConvNormAct(3, 8, 3, stride=2, norm="batch", act="relu6")
        >>> block(torch.rand(2, 3, 16, 16)).shape
        torch.Size([2, 8, 8, 8])
        >>> sorted(block.state_dict())[:2]
        ['0.weight', '1.bias']
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        stride: int = 1,
        groups: int = 1,
        norm: str = "batch",
        act: str = "relu",
        bias: bool | None = None,
        track_running_stats: bool = False,
    ) -> None:
        if kernel_size < 1 or stride < 1 or groups < 1:
            raise ValueError(
                "kernel_size, stride and groups must be >= 1, "
                f"got {kernel_size}, {stride}, {groups}"
            )
        conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=(kernel_size - 1) // 2,
            groups=groups,
            bias=(norm == "none") if bias is None else bias,
        )
        super().__init__(
            conv,
            get_norm(norm, out_channels, track_running_stats=track_running_stats),
            get_act(act),
        )
        self.out_channels = out_channels


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a skip: ``x + F(x)`` (He et al., 2016; Johnson et al., 2016).

    The layout of ``conv_block`` is that of the pix2pix / DeblurGAN ``ResnetBlock``:
    ``[pad, conv, norm, relu, (dropout), pad, conv, norm]``, with the padding modules left out for
    ``padding_mode="zeros"``, so their checkpoints load key for key.

    Args:
        channels: input and output channels.
        norm: normalisation name, see :func:`get_norm`.
        dropout: dropout probability between the convolutions (0 leaves the layer out).
        padding_mode: ``"reflect"``, ``"replicate"`` or ``"zeros"``.
        bias: convolution bias; by default when the norm is not batch norm (as in pix2pix).

    Shape:
        - Input: :math:`(B, C, H, W)`
        - Output: :math:`(B, C, H, W)`

    Example:
        >>> import torch
        >>> block = ResidualBlock(8, norm="instance", dropout=0.5)
        >>> block(torch.rand(1, 8, 12, 12)).shape
        torch.Size([1, 8, 12, 12])
        >>> [k for k in block.state_dict() if k.endswith("weight")]
        ['conv_block.1.weight', 'conv_block.6.weight']
    """

    def __init__(
        self,
        channels: int,
        *,
        norm: str = "instance",
        dropout: float = 0.0,
        padding_mode: str = "reflect",
        bias: bool | None = None,
    ) -> None:
        super().__init__()
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"unknown padding_mode {padding_mode!r}; valid: {', '.join(_PADDING_MODES)}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        use_bias = (norm != "batch") if bias is None else bias
        layers: list[nn.Module] = []
        for i in range(2):
            conv_padding = 1 if padding_mode == "zeros" else 0
            if padding_mode == "reflect":
                layers.append(nn.ReflectionPad2d(1))
            elif padding_mode == "replicate":
                layers.append(nn.ReplicationPad2d(1))
            layers += [
                nn.Conv2d(channels, channels, 3, padding=conv_padding, bias=use_bias),
                get_norm(norm, channels),
            ]
            if i == 0:
                layers.append(nn.ReLU(inplace=True))
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv_block(x)
