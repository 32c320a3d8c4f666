"""Exploratory recipe probe for the shipped model: validation gain over short lite_unet runs.

Trains ``lite_unet`` with L1 directly (no Lightning, one-cycle learning rate) on synthetic
camera-shake blur of the training photos of ``scripts/prepare_default_data.py`` and prints, every
``--eval-every`` steps, the PSNR gain over the blurry input on 32 fixed validation crops (the
validation photos, scale 0.25-0.5, 256 px: the test protocol of
``benchmarks/default_model_quality.py`` on the validation split, never the test split) next to
the running L1 gain on the training batches. It answers "does this recipe keep improving on
photos it has not seen?" in minutes; the model card's Limits cite its runs.

    python scripts/prepare_default_data.py data/default
    python scripts/probe_recipe.py --lr 1e-3 --steps 1500                  # the current mix
    python scripts/probe_recipe.py --lr 1e-3 --steps 1000 --natural-only --scale 0.25 0.5
    python scripts/probe_recipe.py --lr 1e-3 --steps 1500 --dead-leaves 0.5
    python scripts/probe_recipe.py --lr 1e-3 --steps 1500 --width 12 --blocks 1
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from deblurgan.data import DeadLeavesDataset, MixtureDataset, SyntheticBlurDataset
from deblurgan.losses import CONTENT_LOSSES
from deblurgan.metrics import psnr
from deblurgan.models import build_generator

SAMPLER = {"name": "trajectory", "kernel_size": 31}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/default"))
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--width", type=int, default=24)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--scale", type=float, nargs=2, default=(0.25, 0.75))
    parser.add_argument("--natural-only", action="store_true", help="leave out the renders")
    parser.add_argument("--dead-leaves", type=float, default=0.0, help="share of dead leaves")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--loss", default="l1", help="a content loss name: l1, psnr, ...")
    parser.add_argument("--val-crops", type=int, default=32)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    files = sorted(p for p in (args.data / "train").iterdir() if p.is_file())
    if args.natural_only:
        files = [f for f in files if not f.name.startswith("extra_")]
    train: torch.utils.data.Dataset = SyntheticBlurDataset(
        files, crop_size=args.crop, length=10**6, sampler=SAMPLER, scale=tuple(args.scale)
    )
    if args.dead_leaves > 0:
        leaves = DeadLeavesDataset(crop_size=args.crop, length=10**6, sampler=SAMPLER, seed=5)
        train = MixtureDataset(
            [train, leaves], weights=[1 - args.dead_leaves, args.dead_leaves], length=10**6
        )
    val = SyntheticBlurDataset(
        args.data / "val", crop_size=256, length=args.val_crops, sampler=SAMPLER, scale=(0.25, 0.5),
        flip=False, seed=1000003,
    )  # fmt: skip
    items = [val[i] for i in range(len(val))]
    val_blurry = torch.stack([v["blurry"] for v in items])
    val_sharp = torch.stack([v["sharp"] for v in items])
    base = float(psnr(val_blurry, val_sharp).mean())
    print(f"validation input PSNR {base:.3f} dB", flush=True)

    criterion = CONTENT_LOSSES.build(args.loss)
    model = build_generator({"name": "lite_unet", "width": args.width, "blocks": args.blocks})
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.steps, pct_start=max(0.05, 3 / args.steps)
    )
    batches = iter(DataLoader(train, batch_size=args.batch, num_workers=1))
    start, running = time.time(), 0.0
    for step in range(1, args.steps + 1):
        batch = next(batches)
        out = model(batch["blurry"])
        loss = criterion(out, batch["sharp"])
        identity = F.l1_loss(batch["blurry"], batch["sharp"])
        running = 0.98 * running + 0.02 * float(identity - F.l1_loss(out.detach(), batch["sharp"]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % args.eval_every == 0:
            model.eval()
            with torch.no_grad():
                out = torch.cat([model(val_blurry[i : i + 8]) for i in range(0, len(items), 8)])
            model.train()
            value = float(psnr(out, val_sharp).mean())
            print(
                f"step {step} val {value:.3f} dB gain {value - base:+.3f} dB, "
                f"train L1 gain {running:.5f}, {(time.time() - start) / step:.3f} s/step",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
