"""The VGG trunk shared by VGG16 and VGG19 (Simonyan & Zisserman, ICLR 2015): layer names, the
torchvision ``features`` layout built from a configuration, and torchvision's initialisation."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

VGGConfig = Sequence[int | str]
"""Output channels per 3x3 convolution, ``"M"`` for a 2x2 max pool (the paper's Table 1)."""


def vgg_layer_names(config: VGGConfig) -> tuple[str, ...]:
    """Names of the ``features`` children in order (``conv1_1``, ``relu1_1``, ..., ``pool5``).

    Example:
        >>> vgg_layer_names((64, "M", 128))
        ('conv1_1', 'relu1_1', 'pool1', 'conv2_1', 'relu2_1')
    """
    names: list[str] = []
    block, conv = 1, 1
    for item in config:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            conv += 1
    return tuple(names)


def vgg_feature_layers(config: VGGConfig) -> list[nn.Module]:
    """The ``features`` layers in torchvision's order (so ``features.N`` keys match its weights).

    Example:
        >>> [type(m).__name__ for m in vgg_feature_layers((8, "M"))]
        ['Conv2d', 'ReLU', 'MaxPool2d']
    """
    layers: list[nn.Module] = []
    in_channels = 3
    for item in config:
        if isinstance(item, str):
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, item, 3, padding=1), nn.ReLU(inplace=True)]
            in_channels = item
    return layers


def init_vgg_(module: nn.Module) -> None:
    """torchvision's initialisation: Kaiming (fan-out, ReLU) convs, N(0, 0.01) linear layers."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
