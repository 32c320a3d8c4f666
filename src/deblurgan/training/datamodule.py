"""Training and validation data for the GAN: registry datasets behind resumable loaders."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from deblurgan.data import DATASETS
from deblurgan.training._containers import plain

__all__ = ["DeblurDataModule", "StepBatchSampler"]


def _epoch_seed(seed: int, epoch: int) -> int:
    # A fixed odd multiplier spreads neighbouring epochs apart; the mask keeps it in int64.
    return (seed * 0x9E3779B97F4A7C15 + epoch) & (2**63 - 1)


class StepBatchSampler(Sampler[list[int]]):
    """Batches that are a pure function of (seed, GAN step): resumable mid-epoch, worker-proof.

    Epoch ``e`` visits a permutation of the dataset drawn from a generator seeded by
    ``(seed, e)`` (or the identity without ``shuffle``), cut into ``len(self)`` full batches
    (the remainder is dropped). When iteration starts it asks ``completed_steps()`` how many
    batches the run has already consumed and resumes from that position, so a run resumed
    from a mid-epoch checkpoint sees exactly the batches it would have seen without stopping.
    With several processes, rank ``r`` of ``w`` takes the ``r``-th slice of each global batch of
    ``w * batch_size`` items.

    Args:
        length: number of items in the dataset.
        batch_size: items per batch and process.
        seed: base seed of the shuffling.
        shuffle: permute the items each epoch.
        completed_steps: returns the batches (GAN steps) already consumed by the run.
        rank: this process's rank.
        world_size: number of processes.

    Example:
        >>> sampler = StepBatchSampler(6, batch_size=2, shuffle=False)
        >>> list(sampler)
        [[0, 1], [2, 3], [4, 5]]
        >>> sampler = StepBatchSampler(6, batch_size=2, shuffle=False, completed_steps=lambda: 4)
        >>> list(sampler)  # step 4 is the second batch of the second epoch
        [[2, 3], [4, 5]]
    """

    def __init__(
        self,
        length: int,
        *,
        batch_size: int,
        seed: int = 0,
        shuffle: bool = True,
        completed_steps: Callable[[], int] | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not valid for world_size {world_size}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if length < batch_size * world_size:
            raise ValueError(
                f"the training set has {length} items, fewer than one batch of {batch_size} "
                f"per process x {world_size} process(es); add data or lower data.batch_size"
            )
        self.length = length
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.completed_steps = completed_steps or (lambda: 0)
        self.rank = rank
        self.world_size = world_size

    def __len__(self) -> int:
        return self.length // (self.batch_size * self.world_size)

    def order(self, epoch: int) -> list[int]:
        """The item order of ``epoch``."""
        if not self.shuffle:
            return list(range(self.length))
        generator = torch.Generator().manual_seed(_epoch_seed(self.seed, epoch))
        return torch.randperm(self.length, generator=generator).tolist()

    def __iter__(self) -> Iterator[list[int]]:
        per_epoch = len(self)
        epoch, start = divmod(int(self.completed_steps()), per_epoch)
        order = self.order(epoch)
        global_batch = self.batch_size * self.world_size
        for index in range(start, per_epoch):
            first = index * global_batch + self.rank * self.batch_size
            yield order[first : first + self.batch_size]


class _ResumableLoader(DataLoader[Any]):
    """A DataLoader whose position is the run's step count (see :class:`StepBatchSampler`).

    ``state_dict`` and ``load_state_dict`` tell Lightning that resuming mid-epoch is exact: the
    sampler recomputes its position from the restored step count, so there is nothing to load.
    """

    def state_dict(self) -> dict[str, Any]:
        sampler = self.batch_sampler
        steps = sampler.completed_steps() if isinstance(sampler, StepBatchSampler) else 0
        return {"completed_steps": int(steps)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        return None


def _dataset_spec(spec: Any, role: str) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"name": spec}
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise ValueError(
            f"data.{role} must be a dataset spec {{'name': ..., **kwargs}} with a name from "
            f"{', '.join(DATASETS)}, got {spec!r}"
        )
    return plain(spec)


class DeblurDataModule(L.LightningDataModule):
    """Registry datasets of ``{"blurry", "sharp", "name"}`` items behind deterministic loaders.

    The training loader draws its batches with :class:`StepBatchSampler`, asking the attached
    module for ``completed_steps`` (GAN steps, see ``GANModule``; ``trainer.global_step``
    otherwise), so resuming mid-epoch continues the same batch sequence. Validation runs over
    the whole validation set in order.

    Args:
        train: ``DATASETS`` spec of the training set, e.g.
            ``{"name": "synthetic", "root": "photos/", "crop_size": 256, "length": 100000}``.
        val: ``DATASETS`` spec of the validation set, or ``None`` for no validation.
        batch_size: training batch size per device.
        val_batch_size: validation batch size (default ``batch_size``; use 1 for images of
            different sizes).
        num_workers: DataLoader worker processes.
        seed: shuffling seed.
        shuffle: shuffle the training set each epoch.
        pin_memory: pin host memory (default: when CUDA is available).

    Example:
        >>> dm = DeblurDataModule({"name": "synthetic", "root": "photos/"}, batch_size=4)
        >>> dm.hparams.batch_size, dm.hparams.val
        (4, None)
    """

    def __init__(
        self,
        train: str | Mapping[str, Any],
        *,
        val: str | Mapping[str, Any] | None = None,
        batch_size: int = 8,
        val_batch_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        shuffle: bool = True,
        pin_memory: bool | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("batch_size", batch_size), ("val_batch_size", val_batch_size)):
            if value is None and name == "val_batch_size":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"data.{name} must be a positive integer, got {value!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                f"data.num_workers must be a non-negative integer, got {num_workers!r}"
            )
        self.save_hyperparameters(
            {
                "train": _dataset_spec(train, "train"),
                "val": None if val is None else _dataset_spec(val, "val"),
                "batch_size": batch_size,
                "val_batch_size": val_batch_size,
                "num_workers": num_workers,
                "seed": int(seed),
                "shuffle": bool(shuffle),
                "pin_memory": pin_memory,
            }
        )
        self.train_set: Dataset[Any] | None = None
        self.val_set: Dataset[Any] | None = None

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit") and self.train_set is None:
            self.train_set = DATASETS.from_spec(self.hparams["train"])
        if stage in (None, "fit", "validate") and self.val_set is None and self.hparams["val"]:
            self.val_set = DATASETS.from_spec(self.hparams["val"])

    @property
    def has_val(self) -> bool:
        """Whether a validation set is configured."""
        return self.hparams["val"] is not None

    def _completed_steps(self) -> int:
        trainer = self.trainer
        if trainer is None:
            return 0
        module = trainer.lightning_module
        steps = getattr(module, "completed_steps", None)
        return int(steps) if isinstance(steps, int) else int(trainer.global_step)

    def _loader_options(self) -> dict[str, Any]:
        workers = self.hparams["num_workers"]
        pin = self.hparams["pin_memory"]
        return {
            "num_workers": workers,
            "pin_memory": torch.cuda.is_available() if pin is None else bool(pin),
            "persistent_workers": workers > 0,
        }

    def train_dataloader(self) -> DataLoader[Any]:
        if self.train_set is None:
            self.setup("fit")
        assert self.train_set is not None  # for mypy: setup built it
        trainer = self.trainer
        rank = trainer.global_rank if trainer is not None else 0
        world_size = trainer.world_size if trainer is not None else 1
        sampler = StepBatchSampler(
            len(self.train_set),  # type: ignore[arg-type]
            batch_size=self.hparams["batch_size"],
            seed=self.hparams["seed"],
            shuffle=self.hparams["shuffle"],
            completed_steps=self._completed_steps,
            rank=rank,
            world_size=world_size,
        )
        return _ResumableLoader(
            self.train_set,
            batch_sampler=sampler,
            generator=torch.Generator().manual_seed(self.hparams["seed"]),
            **self._loader_options(),
        )

    def val_dataloader(self) -> DataLoader[Any] | list[Any]:
        if not self.has_val:
            return []
        if self.val_set is None:
            self.setup("validate")
        return DataLoader(
            self.val_set,  # type: ignore[arg-type]
            batch_size=self.hparams["val_batch_size"] or self.hparams["batch_size"],
            shuffle=False,
            **self._loader_options(),
        )
