#!/usr/bin/env bash
# Stage 2 of the shipped checkpoint (see scripts/pretrain.ts): from stage 1's weights, a fresh
# optimizer with a gentle warmup and a lower peak learning rate.
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
for f in .dev/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
xz -d -c .dev/node.xz > /tmp/node && chmod +x /tmp/node
cd .dev
/tmp/node train.mjs --init stage1.safetensors --preset base --seed 2 --batch-size 48 --steps "${STEPS:-800}" --warmup 100 \
  --lr 5e-4 --min-lr 5e-5 --eval-every 200 --backend webgpu --out "$OUT/base.safetensors" --json 2>"$OUT/train.err" | tee "$OUT/stage2.jsonl"
rm -f "$OUT/base.resume.safetensors"
