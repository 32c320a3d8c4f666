"""Feature extractors whose state-dict keys match public (ImageNet) weights."""

from deblurgan.models.backbones._load import load_backbone_weights
from deblurgan.models.backbones.alexnet import ALEXNET_LAYERS, AlexNetFeatures
from deblurgan.models.backbones.inception_resnet_v2 import (
    INCEPTION_RESNET_V2_LAYERS,
    InceptionResNetV2,
)
from deblurgan.models.backbones.mobilenet_v2 import InvertedResidual, MobileNetV2, make_divisible
from deblurgan.models.backbones.vgg16 import VGG16_LAYERS, VGG16Features
from deblurgan.models.backbones.vgg19 import VGG19, VGG19_LAYERS

__all__ = [
    "ALEXNET_LAYERS",
    "INCEPTION_RESNET_V2_LAYERS",
    "VGG16_LAYERS",
    "VGG19",
    "VGG19_LAYERS",
    "AlexNetFeatures",
    "InceptionResNetV2",
    "InvertedResidual",
    "MobileNetV2",
    "VGG16Features",
    "load_backbone_weights",
    "make_divisible",
]
