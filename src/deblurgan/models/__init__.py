"""Neural networks: generators and discriminators by registry name, backbones, checkpoints.

Importing this package registers every architecture (the imports below are explicit on purpose).
"""

from deblurgan.models import discriminators, generators  # noqa: F401  (registers them)
from deblurgan.models.registries import DISCRIMINATORS, GENERATORS
from deblurgan.models.weights import (
    SHIPPED_WEIGHTS,
    ShippedWeights,
    build_generator,
    load_generator,
    read_checkpoint,
    save_generator,
)

__all__ = [
    "DISCRIMINATORS",
    "GENERATORS",
    "SHIPPED_WEIGHTS",
    "ShippedWeights",
    "build_generator",
    "load_generator",
    "read_checkpoint",
    "save_generator",
]
