"""Neural networks: generators and discriminators by registry name, backbones, checkpoints.

Importing this package registers every architecture (the imports below are explicit on purpose).
"""

from deblurgan.models import discriminators, generators  # noqa: F401  (registers them)
from deblurgan.models.fetch import FETCHABLE_WEIGHTS, FetchableWeights, fetch_weights
from deblurgan.models.generator import Generator
from deblurgan.models.registries import DISCRIMINATORS, GENERATORS
from deblurgan.models.weights import (
    SHIPPED_WEIGHTS,
    ShippedWeights,
    build_generator,
    generator_weights_path,
    load_generator,
    load_or_build_generator,
    read_checkpoint,
    save_generator,
)

__all__ = [
    "DISCRIMINATORS",
    "FETCHABLE_WEIGHTS",
    "GENERATORS",
    "SHIPPED_WEIGHTS",
    "FetchableWeights",
    "Generator",
    "ShippedWeights",
    "build_generator",
    "fetch_weights",
    "generator_weights_path",
    "load_generator",
    "load_or_build_generator",
    "read_checkpoint",
    "save_generator",
]
