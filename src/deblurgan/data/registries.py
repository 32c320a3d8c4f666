"""The dataset registry: dataset formats by public name."""

from __future__ import annotations

from typing import Any

from deblurgan.registry import Registry

DATASETS: Registry[Any] = Registry("dataset")
