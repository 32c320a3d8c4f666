"""Training objectives: adversarial (d_loss, g_loss) pairs, content losses and their weighted sum.

Importing it registers ``ragan_ls``, ``lsgan``, ``vanilla``, ``hinge``, ``wgan``, ``wgan_gp`` in
``ADVERSARIAL_LOSSES`` and ``l1``, ``mse``, ``charbonnier``, ``fft``, ``ssim``, ``edge``,
``perceptual``, ``lpips`` in ``CONTENT_LOSSES``.
"""

from deblurgan.losses import adversarial, content, perceptual, ragan_ls
from deblurgan.losses.adversarial import (
    AdversarialLoss,
    Discriminator,
    HingeLoss,
    LeastSquaresLoss,
    NonSaturatingLoss,
    WassersteinGPLoss,
    WassersteinLoss,
)
from deblurgan.losses.content import (
    CharbonnierLoss,
    EdgeLoss,
    FFTLoss,
    L1Loss,
    MSELoss,
    PSNRLoss,
    SSIMLoss,
)
from deblurgan.losses.diffaugment import DIFFAUGMENT_POLICIES, DiffAugment
from deblurgan.losses.multiscale import MultiScaleLoss, multiscale_loss
from deblurgan.losses.perceptual import LPIPSLoss, PerceptualLoss
from deblurgan.losses.ragan_ls import RelativisticAverageLSLoss
from deblurgan.losses.registries import ADVERSARIAL_LOSSES, CONTENT_LOSSES
from deblurgan.losses.weighted import WeightedLoss

__all__ = [
    "ADVERSARIAL_LOSSES",
    "CONTENT_LOSSES",
    "DIFFAUGMENT_POLICIES",
    "AdversarialLoss",
    "CharbonnierLoss",
    "DiffAugment",
    "Discriminator",
    "EdgeLoss",
    "FFTLoss",
    "HingeLoss",
    "L1Loss",
    "LPIPSLoss",
    "LeastSquaresLoss",
    "MSELoss",
    "MultiScaleLoss",
    "NonSaturatingLoss",
    "PSNRLoss",
    "PerceptualLoss",
    "RelativisticAverageLSLoss",
    "SSIMLoss",
    "WassersteinGPLoss",
    "WassersteinLoss",
    "WeightedLoss",
    "adversarial",
    "content",
    "multiscale_loss",
    "perceptual",
    "ragan_ls",
]
