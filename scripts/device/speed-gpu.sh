#!/usr/bin/env bash
# On a lent NVIDIA machine (after scripts/device/pack-speed.sh here): the fast path's agreement with
# the reference on the GPU first, then reference and fast training steps of baby (batch 16) and
# small (6 layers, batch 64) through Dawn/Vulkan in Node, then PyTorch eager fp32 on the same GPU.
# Every line lands in $OUT/speed.jsonl; the adapter line says which GPU Dawn used.
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
for f in .dev/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
xz -d -c .dev/node.xz > /tmp/node && chmod +x /tmp/node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
t0=$(date +%s)
node=/tmp/node; bench=.dev/speed/bench.mjs
$node $bench --json --backends webgpu --configs baby --batch-size 16 --steps ${BABY_STEPS:-30} --check 2>"$OUT/bench.err" | tee "$OUT/speed.jsonl"
echo "baby done at $(( $(date +%s) - t0 )) s"
$node $bench --json --backends webgpu --configs small --steps ${SMALL_STEPS:-8} 2>>"$OUT/bench.err" | tee -a "$OUT/speed.jsonl"
echo "small done at $(( $(date +%s) - t0 )) s"
PYTHONUNBUFFERED=1 timeout ${TORCH_SECONDS:-120} python3 scripts/device/torch_bench.py --steps 30 2>"$OUT/torch.err" | tee -a "$OUT/speed.jsonl" \
  || echo "pytorch: not measured (see torch.err)"
grep -m1 -o "\"device\":\"[^\"]*\"" "$OUT/speed.jsonl"
echo "done in $(( $(date +%s) - t0 )) s"
