"""
Validation loss of a GPT Lab checkpoint, computed by PyTorch, to cross-check the engine's number.

    /usr/bin/python3 scripts/torch/eval_checkpoint.py --checkpoint model.safetensors \
        --corpus DIR/corpus.txt --windows DIR/windows.json

corpus.txt and windows.json come from `npx tsx scripts/export-validation.ts --out-dir DIR`
(windows.json: a list of batches, each a list of window starts into the validation tokens).
Prints one JSON line: {"val_loss": ..., "batches": 20, "unknown_chars": n}.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt import encode, load_checkpoint, split_tokens, validation_loss  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="a gpt-lab/1 .safetensors file")
    ap.add_argument("--corpus", required=True, help="the corpus text (UTF-8)")
    ap.add_argument("--windows", required=True, help="JSON list of batches of validation window starts")
    args = ap.parse_args()

    model, vocabulary, _ = load_checkpoint(args.checkpoint)
    model.float().eval()
    # newline="" keeps the text exactly as written (no \r\n translation).
    with open(args.corpus, "r", encoding="utf-8", newline="") as f:
        text = f.read()
    ids, unknown = encode(text, vocabulary)
    _, val = split_tokens(torch.tensor(ids, dtype=torch.long))
    with open(args.windows, "r", encoding="utf-8") as f:
        windows = json.load(f)
    print(f"{len(ids)} tokens, {len(val)} validation tokens, {len(windows)} batches", file=sys.stderr)

    with torch.no_grad():
        val_loss = validation_loss(model, val, windows, model.config.contextLength)
    print(json.dumps({"val_loss": val_loss, "batches": len(windows), "unknown_chars": unknown}))


if __name__ == "__main__":
    main()
