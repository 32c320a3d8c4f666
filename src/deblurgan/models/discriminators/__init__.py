"""Critics: each returns a list of logit maps, one per scale."""

from deblurgan.models.discriminators.double_scale import DoubleScaleDiscriminator
from deblurgan.models.discriminators.patchgan import PatchDiscriminator, receptive_field

__all__ = ["DoubleScaleDiscriminator", "PatchDiscriminator", "receptive_field"]
