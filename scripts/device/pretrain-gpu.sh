#!/usr/bin/env bash
# On a lent NVIDIA machine (see scripts/device/pack.sh): unpack the Vulkan loader and Node, take the
# reference path's WebGPU benchmark, then pre-train the base checkpoint with as many steps as fit in
# PRETRAIN_SECONDS at the measured speed (the step count is printed, so the run can be repeated).
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
for f in .dev/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
xz -d -c .dev/node.xz > /tmp/node && chmod +x /tmp/node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
cd .dev
t0=$(date +%s)
/tmp/node bench.mjs --backends webgpu --configs baby --steps 10 --json 2>"$OUT/bench.err" | tee "$OUT/bench.jsonl"
RECIPE=(--preset base --seed 1 --batch-size 48 --warmup 200 --lr 1e-3 --min-lr 1e-4 --backend webgpu)
rate=$(/tmp/node train.mjs "${RECIPE[@]}" --steps 30 --warmup 5 --eval-every 30 --json 2>/dev/null | tail -1 | sed -E 's/.*"tokens_per_s":([0-9]+).*/\1/')
echo "probe: $rate tokens/s at batch 48; $(( $(date +%s) - t0 )) s so far"
steps=$(( rate * ${PRETRAIN_SECONDS:-300} / (48 * 128) / 200 * 200 ))
(( steps < 400 )) && steps=400
(( steps > 6000 )) && steps=6000
echo "pretraining $steps steps"
/tmp/node train.mjs "${RECIPE[@]}" --steps "$steps" --eval-every 200 --out "$OUT/base.safetensors" --json 2>"$OUT/train.err" | tee "$OUT/pretrain.jsonl"
rm -f "$OUT/base.resume.safetensors"
echo "done in $(( $(date +%s) - t0 )) s"
