"""
Trains the same GPT in PyTorch, for comparing loss curves with the engine's `npm run train`.
Defaults are the `baby` preset. Batches are random windows drawn with torch's own generator (not
the engine's batches); the validation windows are the engine's, from export-validation.

    npx tsx scripts/export-validation.ts --context 64 --batch 12 --out-dir /tmp/val
    /usr/bin/python3 scripts/torch/train_reference.py --corpus /tmp/val/corpus.txt \
        --windows /tmp/val/windows.json --eval-every 250 [--out model.safetensors]

Prints one JSON line per evaluation: {"step","train_loss","val_loss","tokens_per_s"};
train_loss is the mean training loss of the steps since the previous evaluation (null at step 0),
tokens_per_s counts training steps only. `--steps 0 --out PATH` writes a random-init checkpoint.
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt import (  # noqa: E402
    GPT, GPTConfig, batch_at, encode, learning_rate, make_optimizer, save_checkpoint, split_tokens, validation_loss,
)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--windows", required=True, help="validation windows JSON (from export-validation)")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--context-length", type=int, default=64)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--batch-size", type=int, default=12)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.99)
    ap.add_argument("--epsilon", type=float, default=1e-8)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="write the final weights here as a gpt-lab/1 checkpoint")
    args = ap.parse_args()

    with open(args.corpus, "r", encoding="utf-8", newline="") as f:
        text = f.read()
    vocabulary = sorted(set(text))  # code-point order, as CharTokenizer.fromText
    ids, _ = encode(text, vocabulary)
    train, val = split_tokens(torch.tensor(ids, dtype=torch.long))
    with open(args.windows, "r", encoding="utf-8") as f:
        windows = json.load(f)

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    cfg = GPTConfig(
        vocabSize=len(vocabulary), contextLength=args.context_length, layers=args.layers,
        heads=args.heads, width=args.width, dropout=args.dropout,
    )
    model = GPT(cfg)
    model.init_weights(generator=gen)
    opt = make_optimizer(model, args.lr, args.weight_decay, args.beta1, args.beta2, args.epsilon)
    T, B = cfg.contextLength, args.batch_size

    def report(step, losses, train_seconds, tokens):
        print(json.dumps({
            "step": step,
            "train_loss": sum(losses) / len(losses) if losses else None,
            "val_loss": validation_loss(model, val, windows, T),
            "tokens_per_s": tokens / train_seconds if train_seconds > 0 else None,
        }), flush=True)

    report(0, [], 0.0, 0)
    losses, train_seconds, tokens = [], 0.0, 0
    val_loss = None
    model.train()
    for it in range(args.steps):
        t0 = time.perf_counter()
        lr = learning_rate(it, args.lr, args.min_lr, args.warmup, args.steps)
        for g in opt.param_groups:
            g["lr"] = lr
        starts = torch.randint(0, len(train) - T, (B,), generator=gen).tolist()
        x, y = batch_at(train, starts, T)
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        losses.append(loss.item())
        train_seconds += time.perf_counter() - t0
        tokens += B * T
        step = it + 1
        if step % args.eval_every == 0 or step == args.steps:
            report(step, losses, train_seconds, tokens)
            losses, train_seconds, tokens = [], 0.0, 0

    if args.out:
        final = validation_loss(model, val, windows, T)
        save_checkpoint(args.out, model, vocabulary, args.steps, final)
        print(f"wrote {args.out} (step {args.steps}, val_loss {final:.4f})", file=sys.stderr)


if __name__ == "__main__":
    main()
