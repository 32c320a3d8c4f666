"""Feature extractors whose state-dict keys match public (ImageNet) weights."""

from deblurgan.models.backbones._load import load_backbone_weights
from deblurgan.models.backbones.alexnet import ALEXNET_LAYERS, AlexNetFeatures
from deblurgan.models.backbones.efficientnet_lite import (
    EFFICIENTNET_LITE_VARIANTS,
    EfficientNetLite,
)
from deblurgan.models.backbones.inception_resnet_v2 import (
    INCEPTION_RESNET_V2_LAYERS,
    InceptionResNetV2,
)
from deblurgan.models.backbones.mobilenet_v2 import InvertedResidual, MobileNetV2, make_divisible
from deblurgan.models.backbones.vgg16 import VGG16_LAYERS, VGG16Features
from deblurgan.models.backbones.vgg19 import VGG19, VGG19_LAYERS

__all__ = [
    "ALEXNET_LAYERS",
    "EFFICIENTNET_LITE_VARIANTS",
    "INCEPTION_RESNET_V2_LAYERS",
    "VGG16_LAYERS",
    "VGG19",
    "VGG19_LAYERS",
    "AlexNetFeatures",
    "EfficientNetLite",
    "InceptionResNetV2",
    "InvertedResidual",
    "MobileNetV2",
    "VGG16Features",
    "load_backbone_weights",
    "make_divisible",
]
