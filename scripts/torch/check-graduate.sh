#!/usr/bin/env bash
# The "graduate to real infrastructure" path, end to end (Infrastructure chapter; not run in CI: it
# needs PyTorch, e.g. Debian's python3-torch):
#
#   1. GPT Lab trains a small model (the tiny preset, on Moby-Dick) and writes a checkpoint;
#   2. the export the chapter's button downloads is built from it with the engine's code
#      (scripts/torch/check-load.ts bundle) and unpacked with the system's tar;
#   3. the exported train_gpt_lab.py continues training under torchrun with 2 CPU processes (gloo,
#      DistributedDataParallel): its first validation loss must be the checkpoint's, not ln(vocabulary);
#   4. the checkpoint it writes is read back by GPT Lab (check-load.ts load) and evaluated there: the
#      lab must measure the validation loss PyTorch measured.
#
#   scripts/torch/check-graduate.sh [CHECKPOINT]   # default: a fresh tiny model (50 steps)
#
# Environment: PYTHON (default /usr/bin/python3, Debian's PyTorch), WORK (default a temporary folder),
# STEPS (PyTorch steps, default 30).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=${WORK:-$(mktemp -d /tmp/gpt-lab-graduate.XXXXXX)}
STEPS=${STEPS:-30}
mkdir -p "$WORK"
echo "== working in $WORK"

if [[ $# -ge 1 ]]; then
  CKPT=$1
  echo "== 1. GPT Lab checkpoint: $CKPT"
else
  CKPT=$WORK/tiny.safetensors
  echo "== 1. GPT Lab trains the tiny preset for 50 steps (wasm)"
  npx tsx scripts/train.ts --preset tiny --steps 50 --warmup 10 --eval-every 50 --backend wasm --out "$CKPT" --json
fi

echo "== 2. the export, built by the engine's code, unpacked by the system's tar"
npx tsx scripts/torch/check-load.ts bundle --checkpoint "$CKPT" --batch-size 4 --out "$WORK/export.tar" | tee "$WORK/bundle.json"
tar -tvf "$WORK/export.tar"
rm -rf "$WORK/gpt-lab-export"
tar -xf "$WORK/export.tar" -C "$WORK"

echo "== 3. PyTorch continues it: torchrun, 2 CPU processes, gloo"
"$PYTHON" -c 'import torch, sys; print("PyTorch", torch.__version__, "on Python", sys.version.split()[0])'
# --redirects/--tee 1: Debian's PyTorch 1.13 with Python 3.11 cannot parse the default "0" (an enum
# change in Python 3.11), so worker output goes through tee, prefixed [default0]:.
(cd "$WORK/gpt-lab-export" && "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node 2 --redirects 1 --tee 1 \
  train_gpt_lab.py --device cpu --steps "$STEPS" --eval-every 10 --lr 1e-3 --warmup 5 --json) 2>&1 |
  grep -v -e '^\*\*\*' -e 'OMP_NUM_THREADS' -e '^WARNING:__main__:$' | tee "$WORK/torch.log"

echo "== 4. GPT Lab reads the result back"
npx tsx scripts/torch/check-load.ts load --checkpoint "$WORK/gpt-lab-export/model-continued.safetensors" --batch-size 4 |
  tee "$WORK/load.json"

# The facts, checked: PyTorch starts where GPT Lab stopped, training lowers the loss, and GPT Lab
# measures what PyTorch wrote.
"$PYTHON" - "$WORK" <<'EOF'
import json, math, re, sys
work = sys.argv[1]
bundle = json.loads(open(f"{work}/bundle.json").read())
lines = [json.loads(re.sub(r"^\[default\d+\]:", "", l)) for l in open(f"{work}/torch.log") if re.match(r"^(\[default\d+\]:)?\{", l)]
first, last = lines[0], lines[-1]
loaded = json.loads(open(f"{work}/load.json").read())
vocab = json.load(open(f"{work}/gpt-lab-export/config.json"))["hyperparameters"]["vocabSize"]
print(f"GPT Lab's validation loss of the exported checkpoint: {bundle['val_loss']:.6f} (ln(vocabulary {vocab}) = {math.log(vocab):.4f})")
print(f"PyTorch's first validation loss (step {first['step']}):    {first['val_loss']:.6f}")
print(f"PyTorch's last validation loss (step {last['step']}):      {last['val_loss']:.6f}")
print(f"GPT Lab's validation loss of PyTorch's checkpoint:   {loaded['val_loss_gpt_lab']:.6f} (in its metadata: {loaded['val_loss_in_file']:.6f}, step {loaded['step']})")
problems = []
if abs(first["val_loss"] - bundle["val_loss"]) > 1e-3:
    problems.append("PyTorch did not start from the checkpoint's validation loss")
if first["val_loss"] > math.log(vocab) - 0.5:
    problems.append("the starting loss is that of an untrained model")
if not last["val_loss"] < first["val_loss"]:
    problems.append("training in PyTorch did not lower the validation loss")
if abs(loaded["val_loss_gpt_lab"] - last["val_loss"]) > 1e-3 or loaded["step"] != last["step"]:
    problems.append("GPT Lab does not measure what PyTorch wrote")
if problems:
    sys.exit("FAILED: " + "; ".join(problems))
print("OK: GPT Lab -> PyTorch (torchrun, 2 processes) -> GPT Lab, continuous")
EOF
