#!/usr/bin/env bash
# On a lent NVIDIA machine (after scripts/device/pack-speed.sh here), in one session: the fast path's
# agreement with the reference and the training-step benchmark of both paths for baby (batch 16) and
# small (6 layers, batch 64) through Dawn/Vulkan; the per-operation times of small; PyTorch eager fp32
# on the same GPU; and the baby preset trained 2000 steps on the fast path (validation loss).
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
for f in .dev/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
xz -d -c .dev/node.xz > /tmp/node && chmod +x /tmp/node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
t0=$(date +%s)
node=/tmp/node; d=.dev/speed
$node $d/bench.mjs --json --envs node --backends webgpu --configs baby --batch-size 16 --steps 30 --check 2>"$OUT/bench.err" | tee "$OUT/speed.jsonl"
$node $d/bench.mjs --json --envs node --backends webgpu --configs small --steps 10 2>>"$OUT/bench.err" | tee -a "$OUT/speed.jsonl"
echo "bench done at $(( $(date +%s) - t0 )) s"
$node $d/bench-ops.mjs --json --backend webgpu --config small --reps 10 2>"$OUT/ops.err" | tee "$OUT/ops.jsonl" | tail -1
PYTHONUNBUFFERED=1 timeout 100 python3 scripts/device/torch_bench.py --steps 30 2>"$OUT/torch.err" | tee -a "$OUT/speed.jsonl" \
  || echo "pytorch: not measured (see torch.err)"
echo "torch done at $(( $(date +%s) - t0 )) s"
(cd .dev && $node speed/train.mjs --preset baby --steps 2000 --backend webgpu --eval-every 500 --json 2>"$OUT/train.err") | tee "$OUT/val.jsonl"
echo "done in $(( $(date +%s) - t0 )) s"
