"""VGG16 features (Simonyan & Zisserman, ICLR 2015, "Very Deep Convolutional Networks for
Large-Scale Image Recognition"), configuration D: the trunk LPIPS measures distances with.

The module tree reproduces torchvision's ``vgg16().features`` (``features.N.weight`` with
convolutions at the indices of :data:`VGG16_LAYERS` named ``conv*``), so a torchvision VGG16 state
dict loads with :func:`deblurgan.models.backbones.load_backbone_weights` without renaming a key
(its ``classifier.*`` entries are skipped). Only the convolutional features are built: LPIPS and
perceptual losses never use the classifier.
"""

from __future__ import annotations

from torch import Tensor, nn

from deblurgan.models.backbones._vgg import init_vgg_, vgg_feature_layers, vgg_layer_names

__all__ = ["VGG16_LAYERS", "VGG16Features"]

# Configuration D of the paper (Table 1): output channels per convolution, "M" for a max pool.
_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip


VGG16_LAYERS: tuple[str, ...] = vgg_layer_names(_CONFIG)
"""Names of ``features`` children in order: ``VGG16_LAYERS[i]`` names ``features[i]``
(``conv1_1``, ``relu1_1``, ..., ``pool5``; 31 entries)."""


class VGG16Features(nn.Module):
    """The convolutional part of VGG16 up to a named layer, with torchvision's keys.

    Args:
        up_to: keep ``features`` up to and including this layer of :data:`VGG16_LAYERS`
            (default: all 31, ending with ``pool5``).

    Shape:
        - Input: :math:`(B, 3, H, W)`, normalised the way the loaded weights expect.
        - Output: the activation of ``up_to``, e.g. :math:`(B, 512, H/16, W/16)` for ``relu5_3``.

    Example:
        >>> import torch
        >>> net = VGG16Features(up_to="relu2_2")
        >>> net(torch.rand(1, 3, 16, 16)).shape, len(net.features)
        (torch.Size([1, 128, 8, 8]), 9)
        >>> sorted(net.state_dict())[-1]
        'features.7.weight'
    """

    def __init__(self, *, up_to: str = "pool5") -> None:
        super().__init__()
        if up_to not in VGG16_LAYERS:
            raise ValueError(f"unknown VGG16 layer {up_to!r}; valid: {', '.join(VGG16_LAYERS)}")
        layers = vgg_feature_layers(_CONFIG)
        self.up_to = up_to
        self.features = nn.Sequential(*layers[: VGG16_LAYERS.index(up_to) + 1])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torchvision's initialisation (see :func:`init_vgg_`)."""
        init_vgg_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)
