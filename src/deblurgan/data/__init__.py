"""Torch datasets of (blurry, sharp) pairs: synthetic blur, paired folders, GoPro, A|B images.

Importing this package registers ``"synthetic"``, ``"paired_folders"``, ``"gopro"``,
``"aligned"``, ``"dead_leaves"`` and ``"mixture"`` in :data:`DATASETS`. Every item is a dict
``{"blurry": (3, h, w), "sharp": (3, h, w), "name": str}`` in [0, 1]. Every dataset validates
its files when it is built (image headers only) and raises one ``ValueError`` listing every
offending file; :func:`check_dataset` reports the same problems without raising.
"""

from deblurgan.data import aligned as aligned  # registers "aligned"
from deblurgan.data import dead_leaves as dead_leaves  # registers "dead_leaves"
from deblurgan.data import gopro as gopro  # registers "gopro"
from deblurgan.data import mixture as mixture  # registers "mixture"
from deblurgan.data import paired as paired  # registers "paired_folders"
from deblurgan.data import synthetic as synthetic  # registers "synthetic"
from deblurgan.data.aligned import AlignedImage, AlignedPairDataset, find_aligned_images
from deblurgan.data.check import DATASET_FORMATS, DatasetReport, check_dataset, detect_format
from deblurgan.data.dead_leaves import (
    DeadLeavesDataset,
    LeafPartition,
    dead_leaves_image,
    dead_leaves_partition,
    sample_radii,
)
from deblurgan.data.gopro import GoProDataset
from deblurgan.data.mixture import MixtureDataset
from deblurgan.data.paired import ImagePair, PairedFolderDataset, find_pairs
from deblurgan.data.registries import DATASETS
from deblurgan.data.synthetic import (
    PairSynthesizer,
    SyntheticBlurDataset,
    build_sampler,
    list_image_files,
)
from deblurgan.data.transforms import (
    PairAugment,
    crop_window,
    item_generator,
    item_seed,
    random_colour_jitter_pair,
    random_crop_pair,
    random_flip_pair,
    random_rot90_pair,
)
from deblurgan.data.validation import DatasetError

__all__ = [
    "DATASETS",
    "DATASET_FORMATS",
    "AlignedImage",
    "AlignedPairDataset",
    "DatasetError",
    "DatasetReport",
    "DeadLeavesDataset",
    "GoProDataset",
    "ImagePair",
    "LeafPartition",
    "MixtureDataset",
    "PairAugment",
    "PairSynthesizer",
    "PairedFolderDataset",
    "SyntheticBlurDataset",
    "build_sampler",
    "check_dataset",
    "crop_window",
    "dead_leaves_image",
    "dead_leaves_partition",
    "detect_format",
    "find_aligned_images",
    "find_pairs",
    "item_generator",
    "item_seed",
    "list_image_files",
    "random_colour_jitter_pair",
    "random_crop_pair",
    "random_flip_pair",
    "random_rot90_pair",
    "sample_radii",
]
