#!/usr/bin/env bash
# The exact training of the shipped model (src/deblurgan/weights/default.safetensors).
# Re-run with `make train-default`; then copy runs/default/generator.safetensors into
# src/deblurgan/weights/default.safetensors and re-measure with benchmarks/default_model_quality.py.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python scripts/prepare_default_data.py data/default
.venv/bin/deblur train \
  generator=lite_unet discriminator=none content=l1 \
  optim.lr_g=3e-4 'optim.betas=[0.9,0.999]' optim.decay_start=0.3 \
  data.root=data/default/train data.val_root=data/default/val \
  data.crop_size=128 'data.scale=[0.25,0.75]' \
  data.batch_size=8 data.num_workers=1 \
  trainer.max_steps=5000 trainer.val_every=500 trainer.checkpoint_every=500 \
  trainer.enable_progress_bar=false \
  seed=0 run_dir=runs/default "$@"
