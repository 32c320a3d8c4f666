"""Generators: ``forward(blurry) -> restored``, same shape, images in [0, 1]; each declares
``size_multiple``."""

from deblurgan.models.generators.deepdeblur import DeepDeblurGenerator
from deblurgan.models.generators.feedback import FeedbackGenerator
from deblurgan.models.generators.fpn import (
    FPNInceptionGenerator,
    FPNMobileNetDSCGenerator,
    FPNMobileNetGenerator,
)
from deblurgan.models.generators.lite_unet import LiteUNetGenerator
from deblurgan.models.generators.maxim import MAXIMGenerator
from deblurgan.models.generators.mimo_unet import (
    MIMOUNetGenerator,
    MIMOUNetPlusGenerator,
    MIMOUNetPureGenerator,
)
from deblurgan.models.generators.nafnet import NAFNetGenerator
from deblurgan.models.generators.resnet import ResnetGenerator
from deblurgan.models.generators.rir import RIRGenerator, RIRLargeGenerator
from deblurgan.models.generators.srgan import SRGANGenerator
from deblurgan.models.generators.unet import UNetGenerator

__all__ = [
    "DeepDeblurGenerator",
    "FPNInceptionGenerator",
    "FPNMobileNetDSCGenerator",
    "FPNMobileNetGenerator",
    "FeedbackGenerator",
    "LiteUNetGenerator",
    "MAXIMGenerator",
    "MIMOUNetGenerator",
    "MIMOUNetPlusGenerator",
    "MIMOUNetPureGenerator",
    "NAFNetGenerator",
    "RIRGenerator",
    "RIRLargeGenerator",
    "ResnetGenerator",
    "SRGANGenerator",
    "UNetGenerator",
]
