"""Torch datasets of (blurry, sharp) pairs: synthetic camera shake and paired folders.

Importing this package registers ``"synthetic"`` and ``"paired_folders"`` in :data:`DATASETS`.
Every item is a dict ``{"blurry": (3, h, w), "sharp": (3, h, w), "name": str}`` in [0, 1].
"""

from deblurgan.data import paired as paired  # registers "paired_folders"
from deblurgan.data import synthetic as synthetic  # registers "synthetic"
from deblurgan.data.paired import ImagePair, PairedFolderDataset, find_pairs
from deblurgan.data.registries import DATASETS
from deblurgan.data.synthetic import SyntheticBlurDataset, build_sampler, list_image_files
from deblurgan.data.transforms import (
    crop_window,
    item_generator,
    item_seed,
    random_crop_pair,
    random_flip_pair,
)

__all__ = [
    "DATASETS",
    "ImagePair",
    "PairedFolderDataset",
    "SyntheticBlurDataset",
    "build_sampler",
    "crop_window",
    "find_pairs",
    "item_generator",
    "item_seed",
    "list_image_files",
    "random_crop_pair",
    "random_flip_pair",
]
