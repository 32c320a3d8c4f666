"""LPIPS (Zhang, Isola, Efros, Shechtman and Wang, CVPR 2018, "The Unreasonable Effectiveness of
Deep Features as a Perceptual Metric"): the learned perceptual image patch similarity network.

Version 0.1 of the public code (richzhang/PerceptualSimilarity, ``lpips/lpips.py``): inputs in
[-1, 1] pass a fixed :class:`ScalingLayer`, then the trunk (VGG16 or AlexNet, ImageNet weights)
gives five feature maps; each is unit-normalised over channels, the squared difference of the two
images' maps is weighted per channel by a learned 1x1 convolution (a "lin" layer), averaged over
space, and the five layer scores are summed. Version 0.0 (no scaling layer, a bug of the first
release) and the SqueezeNet trunk are not provided.

Nothing downloads: the lin weights (``vgg.pth`` / ``alex.pth`` of the lpips package, keys
``lin0.model.1.weight`` ... ``lin4.model.1.weight``, shapes ``(1, C, 1, 1)``) and the trunk's
torchvision ImageNet state dict (``features.N.weight``) are local files. ``deblur weights fetch
lpips`` converts both, for both trunks, into the cache once; :meth:`LPIPSNetwork.pretrained`
then builds the real metric without any path.

Large images are scored tile by tile when no gradient is wanted (the metric, not the loss): each
tile is aligned to the trunk's total stride and carries a margin wider than the deepest tap's
receptive field, so every feature of its core is the whole image's; the per-pixel distances of
the cores add up to the whole image's mean. The peak then stays near 3 GB at any size (3 MP:
3.1 GB against 6.3 GB whole, about 2.1 GB more per megapixel; ``benchmarks/lpips_memory.py``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import NamedTuple, cast

import torch
from torch import Tensor, nn

from deblurgan.models.backbones import (
    ALEXNET_LAYERS,
    VGG16_LAYERS,
    AlexNetFeatures,
    VGG16Features,
    load_backbone_weights,
)
from deblurgan.models.fetch import lpips_weight_files

__all__ = ["LPIPS_NETS", "LPIPSNetwork", "NetLinLayer", "ScalingLayer", "normalize_channels"]

logger = logging.getLogger(__name__)


class _Trunk(NamedTuple):
    layers: tuple[str, ...]  # names of the trunk's ``features`` children
    taps: tuple[str, ...]  # the five activations LPIPS compares
    channels: tuple[int, ...]  # their channel counts
    min_size: int  # the smallest input side that reaches the last tap
    strides: tuple[int, ...]  # each tap's stride in input pixels
    field: int  # the last tap's receptive field, input pixels


LPIPS_NETS: dict[str, _Trunk] = {
    # lpips/pretrained_networks.py: vgg16 slices end at features 3, 8, 15, 22, 29.
    "vgg": _Trunk(
        VGG16_LAYERS,
        ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"),
        (64, 128, 256, 512, 512),
        16,
        (1, 2, 4, 8, 16),
        196,
    ),
    # alexnet slices end at features 1, 4, 7, 9, 11.
    "alex": _Trunk(
        ALEXNET_LAYERS,
        ("relu1", "relu2", "relu3", "relu4", "relu5"),
        (64, 192, 384, 256, 256),
        31,
        (4, 8, 16, 16, 16),
        195,
    ),
}
"""The supported trunks: ``"vgg"`` (VGG16, the one LPIPS recommends as a training loss) and
``"alex"`` (AlexNet, the lpips package's default as a metric)."""


class ScalingLayer(nn.Module):
    """LPIPS's fixed input affine map ``(x - shift) / scale`` from [-1, 1] towards ImageNet stats.

    ``shift = [-.030, -.088, -.188]`` and ``scale = [.458, .448, .450]`` are ImageNet's mean and
    standard deviation rewritten for inputs in [-1, 1] (``2 * 0.485 - 1 = -0.030``,
    ``2 * 0.229 = 0.458``, ...). They are constants, kept out of the state dict.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [-1, 1]
        - Output: same shape

    Example:
        >>> ScalingLayer()(torch.full((1, 3, 1, 1), -0.03)).flatten().tolist()[0]
        0.0
    """

    shift: Tensor
    scale: Tensor

    def __init__(self) -> None:
        super().__init__()
        shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
        scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
        self.register_buffer("shift", shift, persistent=False)
        self.register_buffer("scale", scale, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.shift) / self.scale


class NetLinLayer(nn.Module):
    """One learned "lin" layer: a 1x1 convolution from ``channels`` to 1, without bias.

    ``model`` is a two-entry ``Sequential`` so that the weight's key is ``model.1.weight``, as in
    the public weight files; entry 0 was a dropout used only while LPIPS's lin layers were being
    trained, and is an identity here so that the metric is deterministic in any mode.

    Args:
        channels: channels of the feature map it weighs.

    Shape:
        - Input: :math:`(B, C, H, W)`
        - Output: :math:`(B, 1, H, W)`

    Example:
        >>> list(NetLinLayer(64).state_dict())
        ['model.1.weight']
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Identity(), nn.Conv2d(channels, 1, 1, bias=False))

    @property
    def weight(self) -> Tensor:
        """The 1x1 convolution's weight, :math:`(1, C, 1, 1)`."""
        return cast(nn.Conv2d, self.model[1]).weight

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


def normalize_channels(x: Tensor, eps: float = 1e-10) -> Tensor:
    """Divide each pixel's feature vector by its Euclidean norm (plus ``eps``), as LPIPS does.

    Args:
        x: a feature map.
        eps: added to the norm so an all-zero vector stays zero.

    Shape:
        - x: :math:`(B, C, H, W)`; output: same shape

    Example:
        >>> normalize_channels(torch.tensor([3.0, 4.0]).view(1, 2, 1, 1)).flatten().tolist()
        [0.6000000238418579, 0.800000011920929]
    """
    return x / (x.square().sum(dim=1, keepdim=True).sqrt() + eps)


class LPIPSNetwork(nn.Module):
    """The LPIPS distance between two images: 0 for identical images, larger for less similar.

    The network is built frozen (``requires_grad`` off) and in eval mode; gradients still flow to
    the inputs, so it serves as a loss (see :class:`deblurgan.losses.LPIPSLoss`). Without
    ``lin_weights`` the lin layers hold ones, which is the paper's uncalibrated baseline (plain
    unit-normalised feature distances); without ``backbone_weights`` the trunk is random. Either
    gap is logged as a warning, since the result is then not LPIPS.

    Args:
        net: the trunk, ``"vgg"`` (VGG16) or ``"alex"`` (AlexNet); see :data:`LPIPS_NETS`.
        lin_weights: the lpips package's lin weights for that trunk (``weights/v0.1/vgg.pth`` or
            ``alex.pth``): a ``.pth`` read with ``torch.load(weights_only=True)`` or a
            ``.safetensors`` file with keys ``lin0.model.1.weight`` ... ``lin4.model.1.weight``.
        backbone_weights: a torchvision ``vgg16`` / ``alexnet`` ImageNet state dict (keys
            ``features.N.weight``; the classifier entries are skipped).
        max_pixels: images of more pixels are scored in tiles when no gradient is recorded
            (same distance up to float rounding, far less memory); ``None``: never.
        tile: the side of a tile's core, a multiple of the trunk's stride (16); each tile adds
            :attr:`tile_margin` pixels of context on every side.

    Shape:
        - x, y: :math:`(B, 3, H, W)` in [0, 1], ``H, W >= 16`` (vgg) or ``>= 31`` (alex)
        - output: :math:`(B,)`

    Example:
        >>> net = LPIPSNetwork("alex")  # random trunk: shapes only
        >>> x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> d = net(x, x.flip(-1))
        >>> d.shape, net(x, x).abs().max().item()
        (torch.Size([2]), 0.0)
        >>> sorted(k for k in net.state_dict() if k.startswith("lin"))[:2]
        ['lin0.model.1.weight', 'lin1.model.1.weight']
    """

    def __init__(
        self,
        net: str = "vgg",
        *,
        lin_weights: str | os.PathLike[str] | None = None,
        backbone_weights: str | os.PathLike[str] | None = None,
        max_pixels: int | None = 2**21,
        tile: int = 1024,
    ) -> None:
        super().__init__()
        if net not in LPIPS_NETS:
            raise ValueError(f"unknown LPIPS trunk {net!r}; valid: {', '.join(LPIPS_NETS)}")
        trunk = LPIPS_NETS[net]
        self._stride = trunk.strides[-1]
        if isinstance(tile, bool) or not isinstance(tile, int) or tile < self._stride:
            raise ValueError(f"tile must be an int >= {self._stride}, got {tile!r}")
        if tile % self._stride:
            raise ValueError(f"tile must be a multiple of {self._stride}, got {tile}")
        self.max_pixels = max_pixels
        self.tile = tile
        self._strides = trunk.strides
        # Half the deepest field plus one stride of alignment slack, rounded up to the stride.
        self.tile_margin = -(-(trunk.field // 2 + self._stride) // self._stride) * self._stride
        self.net_name = net
        self.scaling_layer = ScalingLayer()
        self.net: VGG16Features | AlexNetFeatures = (
            VGG16Features(up_to=trunk.taps[-1])
            if net == "vgg"
            else AlexNetFeatures(up_to=trunk.taps[-1])
        )
        self._tap_index = {trunk.layers.index(name): k for k, name in enumerate(trunk.taps)}
        self.min_size = trunk.min_size
        # Attribute names lin0 ... lin4, as the public module, so the keys match its files.
        self.lin0 = NetLinLayer(trunk.channels[0])
        self.lin1 = NetLinLayer(trunk.channels[1])
        self.lin2 = NetLinLayer(trunk.channels[2])
        self.lin3 = NetLinLayer(trunk.channels[3])
        self.lin4 = NetLinLayer(trunk.channels[4])
        self.lins = [self.lin0, self.lin1, self.lin2, self.lin3, self.lin4]
        for lin in self.lins:
            nn.init.ones_(lin.weight)

        missing = []
        if backbone_weights is not None:
            load_backbone_weights(self.net, backbone_weights)
        else:
            missing.append("backbone_weights (random trunk)")
        if lin_weights is not None:
            self.load_lin_weights(lin_weights)
        else:
            missing.append("lin_weights (uncalibrated lin layers of ones)")
        if missing:
            logger.warning(
                "LPIPSNetwork(net=%r) built without %s: its distances are not LPIPS "
                "(run 'deblur weights fetch lpips' and use LPIPSNetwork.pretrained)",
                net,
                " and ".join(missing),
            )
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def pretrained(
        cls, net: str = "vgg", *, cache: str | os.PathLike[str] | None = None
    ) -> LPIPSNetwork:
        """LPIPS v0.1 with the fetched ImageNet trunk and lin layers (``deblur weights fetch
        lpips``).

        Args:
            net: ``"vgg"`` or ``"alex"``.
            cache: the cache folder (default :func:`deblurgan.io.cache_dir`).

        Raises:
            FileNotFoundError: the weights are not fetched (the message names the command).

        Example:
            >>> LPIPSNetwork.pretrained("alex", cache="/nonexistent")
            Traceback (most recent call last):
            ...
            FileNotFoundError: the LPIPS weights are not fetched: run 'deblur weights fetch \
lpips' (or give lin_weights and backbone_weights)
        """
        files = lpips_weight_files(net, cache=cache)
        if files is None:
            raise FileNotFoundError(
                "the LPIPS weights are not fetched: run 'deblur weights fetch lpips' "
                "(or give lin_weights and backbone_weights)"
            )
        lin, trunk = files
        return cls(net, lin_weights=lin, backbone_weights=trunk)

    def load_lin_weights(self, path: str | os.PathLike[str]) -> None:
        """Load the lin layers from a lpips weight file (entries other than ``lin*`` skipped).

        Args:
            path: ``.pth`` or ``.safetensors`` with ``lin0.model.1.weight`` ...
                ``lin4.model.1.weight``; a whole lpips ``LPIPS`` state dict works too.

        Raises:
            ValueError: an entry is missing or has the wrong shape (e.g. the other trunk's file).
        """
        holder = nn.ModuleDict({f"lin{k}": lin for k, lin in enumerate(self.lins)})
        load_backbone_weights(holder, Path(path))

    def features(self, x: Tensor) -> list[Tensor]:
        """The five unnormalised trunk activations LPIPS compares, for inputs in [0, 1].

        Shape:
            - x: :math:`(B, 3, H, W)` in [0, 1]
            - output: five maps :math:`(B, C_k, H_k, W_k)`, :math:`C_k` from :data:`LPIPS_NETS`
        """
        h = self.scaling_layer(2 * x - 1)
        taps: list[Tensor] = []
        for index, layer in enumerate(self.net.features):
            h = layer(h)
            if index in self._tap_index:
                taps.append(h)
        return taps

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        for label, value in (("x", x), ("y", y)):
            if not isinstance(value, Tensor) or value.ndim != 4 or value.shape[1] != 3:
                shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise ValueError(
                    f"LPIPSNetwork: {label} must be a (B, 3, H, W) tensor, got {shape}"
                )
        if x.shape != y.shape:
            raise ValueError(
                f"LPIPSNetwork: x and y must have the same shape, got {tuple(x.shape)} and "
                f"{tuple(y.shape)}"
            )
        if min(x.shape[-2:]) < self.min_size:
            raise ValueError(
                f"LPIPSNetwork(net={self.net_name!r}) needs images of at least "
                f"{self.min_size}x{self.min_size} pixels, got {tuple(x.shape[-2:])}"
            )
        height, width = x.shape[-2:]
        wants_grad = torch.is_grad_enabled() and (x.requires_grad or y.requires_grad)
        if self.max_pixels is None or wants_grad or height * width <= self.max_pixels:
            maps = self._distance_maps(x, y)
            return torch.stack([m.mean(dim=(1, 2, 3)) for m in maps]).sum(dim=0)
        return self._tiled(x, y)

    def _distance_maps(self, x: Tensor, y: Tensor) -> list[Tensor]:
        """Each tap's weighted per-pixel distance, :math:`(B, 1, H_k, W_k)`."""
        batch = x.shape[0]
        feats = self.features(torch.cat([x, y]))  # one trunk pass for both images
        maps = []
        for lin, f in zip(self.lins, feats, strict=True):
            # Normalise in float32 at least: eps = 1e-10 underflows in float16.
            f = f.float() if f.dtype in (torch.float16, torch.bfloat16) else f
            f = normalize_channels(f)
            diff = (f[:batch] - f[batch:]).square()  # (B, C_k, H_k, W_k)
            maps.append(lin(diff.to(lin.weight.dtype)))
        return maps

    def _tiled(self, x: Tensor, y: Tensor) -> Tensor:
        """:meth:`forward` tile by tile: cores of :attr:`tile` px, :attr:`tile_margin` around.

        Core and tile edges sit on multiples of the trunk's total stride, so pooling windows
        fall where they fall in the whole image; a tile that reaches the image's edge ends
        there, so the last rows are dropped (or kept) as in the whole image.
        """
        height, width = x.shape[-2:]
        # Sums in float64 where the device has it (Apple's MPS does not).
        wide = torch.float32 if x.device.type == "mps" else torch.float64
        sums = torch.zeros(len(self.lins), x.shape[0], dtype=wide, device=x.device)
        counts = [[0, 0] for _ in self.lins]  # each tap's rows (from one column), columns
        margin = self.tile_margin
        for top in range(0, height, self.tile):
            bottom = min(top + self.tile, height)
            for left in range(0, width, self.tile):
                right = min(left + self.tile, width)
                y0, x0 = max(top - margin, 0), max(left - margin, 0)
                y1, x1 = min(bottom + margin, height), min(right + margin, width)
                maps = self._distance_maps(x[..., y0:y1, x0:x1], y[..., y0:y1, x0:x1])
                for k, (m, s) in enumerate(zip(maps, self._strides, strict=True)):
                    # The core in this tap's grid; at the image's edge, whatever the tap has.
                    r0, c0 = (top - y0) // s, (left - x0) // s
                    r1 = m.shape[-2] if bottom == height else (bottom - y0) // s
                    c1 = m.shape[-1] if right == width else (right - x0) // s
                    # A core past the map's end (the trunk's last positions dropped) is empty.
                    r1 = max(min(r1, m.shape[-2]), r0)
                    c1 = max(min(c1, m.shape[-1]), c0)
                    sums[k] += m[..., r0:r1, c0:c1].sum(dim=(1, 2, 3), dtype=wide)
                    if left == 0:
                        counts[k][0] += r1 - r0
                    if top == 0:
                        counts[k][1] += c1 - c0
        scores = [sums[k] / (rows * cols) for k, (rows, cols) in enumerate(counts)]
        return torch.stack(scores).sum(dim=0).to(self.lins[0].weight.dtype)

    def extra_repr(self) -> str:
        return f"net={self.net_name!r}"
