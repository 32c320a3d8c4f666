"""Feature extractors whose state-dict keys match public (ImageNet) weights."""

from deblurgan.models.backbones._load import load_backbone_weights
from deblurgan.models.backbones.inception_resnet_v2 import (
    INCEPTION_RESNET_V2_LAYERS,
    InceptionResNetV2,
)
from deblurgan.models.backbones.mobilenet_v2 import InvertedResidual, MobileNetV2, make_divisible
from deblurgan.models.backbones.vgg19 import VGG19, VGG19_LAYERS

__all__ = [
    "INCEPTION_RESNET_V2_LAYERS",
    "VGG19",
    "VGG19_LAYERS",
    "InceptionResNetV2",
    "InvertedResidual",
    "MobileNetV2",
    "load_backbone_weights",
    "make_divisible",
]
