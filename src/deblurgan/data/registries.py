"""The dataset registry: dataset formats by public name."""

from __future__ import annotations

from typing import Any

from torch.utils.data import Dataset

from deblurgan.registry import Registry

DATASETS: Registry[Dataset[Any]] = Registry("dataset")
