"""Train a tiny GAN with Lightning's DDP on two CPU processes (gloo); each rank writes a report.

Run as a script (``python ddp_two_cpus.py PHOTOS OUT``), never inside pytest's process: DDP
launches a second copy of this command, and two DDP runs in one process collide on ports.
Each rank writes ``OUT/rank<r>.json`` with the items it trained on per step and a checksum of
its generator and critic after training, so the test can check that the data was sharded and
that the replicas stayed identical.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import lightning as L
import torch

from deblurgan.training import fit


class _Report(L.Callback):
    def __init__(self, out: Path) -> None:
        self.out = out
        self.items: list[list[str]] = []

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self.items.append([str(name) for name in batch["name"]])

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        networks = {"generator": pl_module.generator, "discriminator": pl_module.discriminator}
        checksums = {
            name: float(sum(p.double().sum() for p in module.parameters()))
            for name, module in networks.items()
        }
        report = {
            "rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "backend": str(torch.distributed.get_backend()),
            "items": self.items,
            "checksums": checksums,
            "gan_steps": pl_module.completed_steps,
        }
        (self.out / f"rank{trainer.global_rank}.json").write_text(json.dumps(report))


def main() -> None:
    photos, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    sampler = {"name": "trajectory", "kernel_size": 7}
    config = {
        "generator": {"name": "lite_unet", "width": 4, "blocks": 1},
        "discriminator": {"name": "patchgan", "width": 4, "depth": 2},
        "adversarial": "ragan_ls",
        "content": {"l1": 1.0},
        "optim": {"lr_g": 1e-3, "lr_d": 1e-3, "adv_weight": 0.01},
        "data": {
            "train": {"name": "synthetic", "root": str(photos), "crop_size": 32, "length": 16,
                      "sampler": sampler},
            "val": {"name": "synthetic", "root": str(photos), "crop_size": 32, "length": 4,
                    "seed": 7, "flip": False, "sampler": sampler},
            "batch_size": 2,
            "num_workers": 0,
        },
        "trainer": {
            "max_steps": 3, "val_every": 3, "checkpoint_every": 3, "log_every": 1,
            "num_sanity_val_steps": 0, "enable_progress_bar": False,
            "enable_model_summary": False, "accelerator": "cpu", "devices": 2,
            "strategy": "ddp", "sample_every": 0,
        },
        "run_dir": str(out / "run"),
        "resume": None,
        "seed": 0,
    }  # fmt: skip
    fit(config, callbacks=[_Report(out)])


if __name__ == "__main__":
    main()
