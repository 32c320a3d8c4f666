#!/usr/bin/env bash
# Does the adversarial term help the default model on real blur? (issue 12 §4)
#
# Two fine-tunings of the same starting weights (the default run's weight average, exported from
# its last.ckpt), identical except for the adversarial term: (A) the shipped recipe, -PSNR only;
# (B) the same plus DeblurGAN-v2's RaGAN-LS with its double-scale critic at weight 0.001. Both run
# STEPS steps (default 3000) from the same seed, then benchmarks/validation_views.py scores both
# against the blurry input and the starting weights on the synthetic view and on Lai et al.'s
# real-kernel pairs. Keep the term only if (B) beats (A) on those views without losing PSNR.
#
#   bash scripts/compare_adversarial.sh              # 3000 steps each, then the views
#   STEPS=500 bash scripts/compare_adversarial.sh    # a quick look
#
# Runs go to runs/adv_compare/{psnr,ragan_ls}; each is resumable (run the script again).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-3000}
OUT=runs/adv_compare
START=$OUT/start.safetensors
mkdir -p "$OUT"
if [[ ! -f "$START" ]]; then
  .venv/bin/python - "$START" <<'EOF'
import sys
from deblurgan.models import load_generator, save_generator
# last.ckpt loads as its weight average (EMA), what the run validates and exports
save_generator(load_generator("runs/default_v4/checkpoints/last.ckpt"), sys.argv[1])
EOF
fi
COMMON=(
  generator=nafnet content=psnr init_weights="$START"
  optim.optimizer=adamw optim.lr_g=2e-4 optim.lr_d=1e-4 'optim.betas=[0.9,0.9]' optim.weight_decay=0
  optim.warmup_steps=100 optim.decay=cosine optim.decay_start=0 optim.grad_clip=0.5
  optim.ema_decay=0.999
  data.root=data/train_photos/train data.val_root=data/train_photos/val
  data.crop_size=256 data.batch_size=4 data.num_workers=1 data.val.length=64
  trainer.max_steps="$STEPS" trainer.val_every=500 trainer.checkpoint_every=250
  trainer.enable_progress_bar=false seed=1
)
for arm in psnr ragan_ls; do
  if [[ $arm == psnr ]]; then extra=(discriminator=none); else
    extra=(discriminator=double_scale adversarial=ragan_ls optim.adv_weight=0.001)
  fi
  run=$OUT/$arm
  resume=()
  [[ -f $run/checkpoints/last.ckpt ]] && resume=(resume="$run/checkpoints/last.ckpt")
  [[ -f $run/generator.safetensors ]] || nice -n 19 .venv/bin/deblur train "${COMMON[@]}" \
    "${extra[@]}" run_dir="$run" "${resume[@]}"
done
.venv/bin/python benchmarks/validation_views.py --views synthetic,lai --baseline "$START" \
  -m "$OUT/psnr/generator.safetensors" -m "$OUT/ragan_ls/generator.safetensors" \
  --photos data/train_photos/val --json "$OUT/views.json"
