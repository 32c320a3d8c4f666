"""A weighted mixture of datasets (e.g. photos and dead leaves), item by item, seeded per index.

Training on a mixture of natural and synthetic images keeps the natural-image performance while
adding variety (Achddou, Gousseau and Ladjal, "Synthetic images as a regularity prior for image
restoration neural networks", SSVM 2021). Item ``i`` of :class:`MixtureDataset` picks a source
with a generator seeded by ``(seed, i)`` and returns one of that source's items, so the mixture
is, like every dataset here, a pure function of ``(seed, index)``: the same in every epoch,
process, DataLoader worker and resumed run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from deblurgan.data.registries import DATASETS
from deblurgan.data.transforms import item_generator

__all__ = ["MixtureDataset"]

logger = logging.getLogger(__name__)


def _build(spec: Any, position: int) -> tuple[Any, str]:
    """A source dataset and its label: the registry name of a spec, else the class name."""
    if isinstance(spec, str | Mapping):
        try:
            dataset = DATASETS.from_spec(spec)
        except KeyError as exc:
            raise ValueError(f"datasets[{position}]: {exc.args[0]}") from None
        return dataset, spec if isinstance(spec, str) else str(spec["name"])
    if not callable(getattr(spec, "__getitem__", None)) or not callable(
        getattr(spec, "__len__", None)
    ):
        raise TypeError(
            f"datasets[{position}] must be a DATASETS spec (a name or {{'name': ..., **kwargs}}) "
            f"or a dataset (with __getitem__ and __len__), got {spec!r}"
        )
    return spec, type(spec).__name__


def _crop_of(dataset: Any, label: str) -> tuple[int, int]:
    """The ``(height, width)`` of a source's items: its ``crop_size``, else its first item."""
    if hasattr(dataset, "crop_size"):
        crop = dataset.crop_size
        if isinstance(crop, int) and not isinstance(crop, bool):
            return crop, crop
        if isinstance(crop, Sequence) and len(crop) == 2:
            return int(crop[0]), int(crop[1])
        raise ValueError(
            f"every dataset of a mixture needs a fixed crop size (items are batched together), "
            f"but {label} has crop_size={crop!r}"
        )
    height, width = dataset[0]["sharp"].shape[-2:]
    return int(height), int(width)


@DATASETS.register("mixture")
class MixtureDataset(Dataset[dict[str, Any]]):
    """Items drawn from several datasets with given probabilities.

    Item ``i`` draws, from a generator seeded by ``(seed, i)``, first the source (dataset ``k``
    with probability ``weights[k] / sum(weights)``) and then a uniformly random index into that
    source, and returns the source's item with an extra ``"source"`` key: the source's label
    (its registry name, or its class name for a dataset object; a repeated label gets ``#k``
    appended). Sources keep their own seeds and augmentations.

    Args:
        datasets: the sources: ``DATASETS`` specs (``{"name": ..., **kwargs}`` or a name) or
            dataset objects. Every source must give items of one crop size.
        weights: relative frequency of each source (non-negative, not all zero); default equal.
        length: number of items of the mixture (a virtual epoch).
        seed: base seed of the draws; item ``i`` is a function of ``(seed, i)`` only.

    Raises:
        ValueError: no sources, bad weights or length, or sources with different crop sizes
            (the message names both).

    Example:
        >>> leaves = {"name": "dead_leaves", "crop_size": 16, "length": 100,
        ...           "sampler": {"name": "trajectory", "kernel_size": 7}}
        >>> mix = MixtureDataset([leaves, {**leaves, "texture": "flat"}], weights=[3, 1], length=8)
        >>> item = mix[5]
        >>> len(mix), item["sharp"].shape, item["source"] in ("dead_leaves", "dead_leaves#1")
        (8, torch.Size([3, 16, 16]), True)
    """

    def __init__(
        self,
        datasets: Sequence[Any],
        *,
        weights: Sequence[float] | None = None,
        length: int,
        seed: int = 0,
    ) -> None:
        if isinstance(datasets, str | Mapping) or not isinstance(datasets, Sequence):
            raise TypeError(
                f"datasets must be a list of dataset specs or datasets, got {datasets!r}"
            )
        if not datasets:
            raise ValueError("a mixture needs at least one dataset")
        if weights is None:
            weights = [1.0] * len(datasets)
        if isinstance(weights, str) or not isinstance(weights, Sequence):
            raise TypeError(f"weights must be a list of numbers, got {weights!r}")
        if len(weights) != len(datasets):
            raise ValueError(
                f"weights must have one number per dataset ({len(datasets)}), got {list(weights)}"
            )
        for weight in weights:
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not math.isfinite(weight)
                or weight < 0
            ):
                raise ValueError(
                    f"weights must be finite non-negative numbers, got {list(weights)}"
                )
        total = float(sum(weights))
        if total <= 0:
            raise ValueError(f"weights must not all be zero, got {list(weights)}")
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"length must be a positive integer, got {length!r}")

        self.datasets: list[Any] = []
        self.labels: list[str] = []
        for position, spec in enumerate(datasets):
            dataset, label = _build(spec, position)
            if len(dataset) < 1:
                raise ValueError(f"datasets[{position}] ({label}) is empty")
            if label in self.labels:
                label = f"{label}#{position}"
            self.datasets.append(dataset)
            self.labels.append(label)
        crops = [_crop_of(d, label) for d, label in zip(self.datasets, self.labels, strict=True)]
        for k in range(1, len(crops)):
            if crops[k] != crops[0]:
                raise ValueError(
                    f"every dataset of a mixture must give one crop size: {self.labels[0]} "
                    f"gives {crops[0][0]}x{crops[0][1]} crops but {self.labels[k]} gives "
                    f"{crops[k][0]}x{crops[k][1]}"
                )
        kernels = [bool(getattr(d, "return_kernel", False)) for d in self.datasets]
        if len(set(kernels)) > 1:
            raise ValueError(
                "every dataset of a mixture must agree on return_kernel (items are batched "
                f"together); got {dict(zip(self.labels, kernels, strict=True))}"
            )
        self.crop_size = crops[0][0] if crops[0][0] == crops[0][1] else crops[0]
        self.weights = [float(w) / total for w in weights]
        self._cumulative = torch.tensor(self.weights, dtype=torch.float64).cumsum(0)[:-1]
        self.length = length
        self.seed = int(seed)
        logger.info(
            "MixtureDataset: %d items from %s with weights %s",
            self.length,
            self.labels,
            [round(w, 4) for w in self.weights],
        )

    def __len__(self) -> int:
        return self.length

    def source(self, index: int) -> tuple[int, int]:
        """Which source item ``index`` comes from: ``(dataset position, index in it)``."""
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index} out of range for a dataset of {self.length} items")
        generator = item_generator(self.seed, index % self.length)
        u = torch.rand(1, generator=generator, dtype=torch.float64)
        which = int(torch.bucketize(u, self._cumulative, right=True))
        # A zero-weight source is never chosen, even at the bucket edges.
        while self.weights[which] == 0:
            which -= 1
        inner = int(torch.randint(len(self.datasets[which]), (1,), generator=generator))
        return which, inner

    def __getitem__(self, index: int) -> dict[str, Any]:
        which, inner = self.source(index)
        item = dict(self.datasets[which][inner])
        item["source"] = self.labels[which]
        return item
