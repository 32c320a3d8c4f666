"""VGG19 (Simonyan & Zisserman, ICLR 2015, "Very Deep Convolutional Networks for Large-Scale Image
Recognition"), configuration E.

The module tree reproduces torchvision's ``vgg19`` (``features.N.weight`` with convolutions at the
indices of :data:`VGG19_LAYERS`, ``classifier.0/3/6``), so its ImageNet weights load with
:func:`deblurgan.models.backbones.load_backbone_weights` without renaming a key. ``up_to`` keeps
only the features up to a named layer (``"relu3_3"``, ``"conv5_4"``, ...), as perceptual losses use.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from deblurgan.models.backbones._vgg import init_vgg_, vgg_feature_layers, vgg_layer_names

__all__ = ["VGG19", "VGG19_LAYERS"]

# Configuration E of the paper (Table 1): output channels per convolution, "M" for a max pool.
_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
    512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
)  # fmt: skip


VGG19_LAYERS: tuple[str, ...] = vgg_layer_names(_CONFIG)
"""Names of ``features`` children in order: ``VGG19_LAYERS[i]`` names ``features[i]``
(``conv1_1``, ``relu1_1``, ..., ``pool5``; 37 entries)."""


class VGG19(nn.Module):
    """VGG19 classifier, or its feature extractor up to a named layer, with torchvision's keys.

    Args:
        num_classes: classifier outputs (ignored with ``up_to``).
        up_to: keep ``features`` up to and including this layer of :data:`VGG19_LAYERS` and drop
            the classifier; ``forward`` then returns that layer's activation.
        dropout: dropout probability of the classifier.

    Shape:
        - Input: :math:`(B, 3, H, W)`, ImageNet-normalised RGB for the public weights.
        - Output: :math:`(B, \\text{num\\_classes})`, or the feature map of ``up_to``.

    Example:
        >>> net = VGG19(up_to="relu2_2")
        >>> net(torch.rand(1, 3, 16, 16)).shape, len(net.features)
        (torch.Size([1, 128, 8, 8]), 9)
        >>> sorted(net.state_dict())[-1]
        'features.7.weight'
    """

    def __init__(
        self, num_classes: int = 1000, *, up_to: str | None = None, dropout: float = 0.5
    ) -> None:
        super().__init__()
        if up_to is not None and up_to not in VGG19_LAYERS:
            raise ValueError(f"unknown VGG19 layer {up_to!r}; valid: {', '.join(VGG19_LAYERS)}")
        layers = vgg_feature_layers(_CONFIG)
        self.up_to = up_to
        self.classifier: nn.Sequential | None = None
        if up_to is None:
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096),
                nn.ReLU(True),
                nn.Dropout(dropout),
                nn.Linear(4096, 4096),
                nn.ReLU(True),
                nn.Dropout(dropout),
                nn.Linear(4096, num_classes),
            )
        else:
            self.features = nn.Sequential(*layers[: VGG19_LAYERS.index(up_to) + 1])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torchvision's initialisation (see :func:`init_vgg_`)."""
        init_vgg_(self)

    def extract(self, x: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
        """Activations of several named layers in one pass (for perceptual and style losses).

        Args:
            x: the input batch.
            layers: names from :data:`VGG19_LAYERS`, all within ``features``.

        Returns:
            ``{name: activation}`` in the order of ``layers``.

        Example:
            >>> net = VGG19(up_to="relu2_1")
            >>> feats = net.extract(torch.rand(1, 3, 8, 8), ["relu1_2", "relu2_1"])
            >>> [tuple(f.shape[1:]) for f in feats.values()]
            [(64, 8, 8), (128, 4, 4)]
        """
        wanted = {}
        for name in layers:
            if name not in VGG19_LAYERS or VGG19_LAYERS.index(name) >= len(self.features):
                raise ValueError(
                    f"layer {name!r} is not in this VGG19's features "
                    f"(valid: {', '.join(VGG19_LAYERS[: len(self.features)])})"
                )
            wanted[VGG19_LAYERS.index(name)] = name
        found: dict[str, Tensor] = {}
        last = max(wanted, default=-1)
        for i in range(last + 1):
            x = self.features[i](x)
            if i in wanted:
                # In-place ReLUs would overwrite a kept convolution output: clone those.
                found[wanted[i]] = x.clone() if i + 1 <= last else x
        return {name: found[name] for name in layers}

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        if self.classifier is None:
            return x
        x = torch.flatten(self.avgpool(x), 1)  # (B, 25088)
        return self.classifier(x)
