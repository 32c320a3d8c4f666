"""GAN training with Lightning and Hydra: the module, the data module, ``fit`` and ``deblur train``.

This is the only package that imports ``lightning``, ``hydra`` and ``omegaconf``.
"""

from deblurgan.training.cli import CONFIG_DIR, train_main
from deblurgan.training.datamodule import DeblurDataModule, StepBatchSampler
from deblurgan.training.fit import GENERATOR_FILE, fit, resolve_run_dir
from deblurgan.training.module import DivergenceError, GANModule, lr_factor, pad_to_multiple

__all__ = [
    "CONFIG_DIR",
    "GENERATOR_FILE",
    "DeblurDataModule",
    "DivergenceError",
    "GANModule",
    "StepBatchSampler",
    "fit",
    "lr_factor",
    "pad_to_multiple",
    "resolve_run_dir",
    "train_main",
]
