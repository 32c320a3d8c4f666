"""AlexNet features (Krizhevsky, Sutskever & Hinton, NeurIPS 2012, "ImageNet Classification with
Deep Convolutional Neural Networks"), in the single-tower form of torchvision (after Krizhevsky,
2014, "One weird trick for parallelizing convolutional neural networks").

The module tree reproduces torchvision's ``alexnet().features`` (convolutions at ``features.0``,
``.3``, ``.6``, ``.8``, ``.10``), so a torchvision AlexNet state dict loads with
:func:`deblurgan.models.backbones.load_backbone_weights` without renaming a key (its
``classifier.*`` entries are skipped). LPIPS's default trunk taps its five ReLUs.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["ALEXNET_LAYERS", "AlexNetFeatures"]

ALEXNET_LAYERS: tuple[str, ...] = (
    "conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
    "conv3", "relu3", "conv4", "relu4", "conv5", "relu5", "pool5",
)  # fmt: skip
"""Names of ``features`` children in order: ``ALEXNET_LAYERS[i]`` names ``features[i]``."""


class AlexNetFeatures(nn.Module):
    """The convolutional part of AlexNet up to a named layer, with torchvision's keys.

    Five convolutions: 11x11 stride 4 (64 channels), 5x5 (192), then three 3x3 (384, 256, 256),
    with 3x3 stride-2 max pools after the first, second and fifth. PyTorch's default
    initialisation, as torchvision's AlexNet.

    Args:
        up_to: keep ``features`` up to and including this layer of :data:`ALEXNET_LAYERS`
            (default: all 13, ending with ``pool5``).

    Shape:
        - Input: :math:`(B, 3, H, W)`, normalised the way the loaded weights expect; at least
          31x31 up to ``relu5``, 63x63 up to ``pool5``.
        - Output: the activation of ``up_to``.

    Example:
        >>> import torch
        >>> net = AlexNetFeatures(up_to="relu5")
        >>> net(torch.rand(1, 3, 64, 64)).shape
        torch.Size([1, 256, 3, 3])
        >>> [k for k in net.state_dict() if k.endswith("weight")][-2:]
        ['features.8.weight', 'features.10.weight']
    """

    def __init__(self, *, up_to: str = "pool5") -> None:
        super().__init__()
        if up_to not in ALEXNET_LAYERS:
            raise ValueError(f"unknown AlexNet layer {up_to!r}; valid: {', '.join(ALEXNET_LAYERS)}")
        layers: list[nn.Module] = [
            nn.Conv2d(3, 64, 11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
        ]
        self.up_to = up_to
        self.features = nn.Sequential(*layers[: ALEXNET_LAYERS.index(up_to) + 1])

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)
