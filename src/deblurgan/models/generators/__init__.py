"""Generators: ``forward(blurry) -> restored``, same shape, images in [0, 1]; each declares
``size_multiple``."""

from deblurgan.models.generators.fpn import FPNMobileNetGenerator
from deblurgan.models.generators.lite_unet import LiteUNetGenerator
from deblurgan.models.generators.resnet import ResnetGenerator

__all__ = ["FPNMobileNetGenerator", "LiteUNetGenerator", "ResnetGenerator"]
