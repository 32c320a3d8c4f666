"""Feature extractors whose state-dict keys match public (ImageNet) weights."""

from deblurgan.models.backbones._load import load_backbone_weights
from deblurgan.models.backbones.mobilenet_v2 import InvertedResidual, MobileNetV2, make_divisible

__all__ = ["InvertedResidual", "MobileNetV2", "load_backbone_weights", "make_divisible"]
