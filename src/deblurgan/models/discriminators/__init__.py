"""Critics: each returns a list of logit maps, one per scale."""

from deblurgan.models.discriminators.double_scale import DoubleScaleDiscriminator
from deblurgan.models.discriminators.global_critic import GlobalDiscriminator
from deblurgan.models.discriminators.patchgan import PatchDiscriminator, receptive_field
from deblurgan.models.discriminators.srgan import SRGANDiscriminator

__all__ = [
    "DoubleScaleDiscriminator",
    "GlobalDiscriminator",
    "PatchDiscriminator",
    "SRGANDiscriminator",
    "receptive_field",
]
