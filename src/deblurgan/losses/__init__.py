"""Training objectives: adversarial (d_loss, g_loss) pairs, content losses and their weighted sum.

Importing the package registers ``ragan_ls``, ``lsgan``, ``vanilla``, ``hinge`` in
``ADVERSARIAL_LOSSES`` and ``l1``, ``mse``, ``charbonnier`` in ``CONTENT_LOSSES``.
"""

from deblurgan.losses import adversarial, content
from deblurgan.losses.adversarial import (
    AdversarialLoss,
    Discriminator,
    HingeLoss,
    LeastSquaresLoss,
    NonSaturatingLoss,
    RelativisticAverageLSLoss,
)
from deblurgan.losses.content import CharbonnierLoss, L1Loss, MSELoss
from deblurgan.losses.registries import ADVERSARIAL_LOSSES, CONTENT_LOSSES
from deblurgan.losses.weighted import WeightedLoss

__all__ = [
    "ADVERSARIAL_LOSSES",
    "CONTENT_LOSSES",
    "AdversarialLoss",
    "CharbonnierLoss",
    "Discriminator",
    "HingeLoss",
    "L1Loss",
    "LeastSquaresLoss",
    "MSELoss",
    "NonSaturatingLoss",
    "RelativisticAverageLSLoss",
    "WeightedLoss",
    "adversarial",
    "content",
]
