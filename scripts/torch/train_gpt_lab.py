#!/usr/bin/env python3
"""
Continue training a GPT Lab model with PyTorch, on a CPU, one GPU or many.

GPT Lab (the browser lab) exports a folder with this script, model.safetensors, config.json and
train.txt. This script reads the checkpoint by hand (a .safetensors file is an 8-byte header length,
a JSON header and raw little-endian data; no package needed), builds the same GPT, measures the
validation loss on the same windows GPT Lab used, trains with AdamW, and writes the result back in
GPT Lab's format so that it opens in the lab again.

    python3 train_gpt_lab.py --steps 1000                                   # CPU or the first GPU
    torchrun --standalone --nproc_per_node 4 train_gpt_lab.py --amp         # 4 GPUs, one process each
    python3 -m torch.distributed.run --standalone --nproc_per_node 2 \\
        train_gpt_lab.py --device cpu --steps 50                            # 2 CPU processes (gloo)

Under torchrun every process runs this file; torchrun sets RANK, LOCAL_RANK and WORLD_SIZE.
Each process holds a full copy of the model (DistributedDataParallel) and takes its share of
every batch; DDP averages the gradients across processes with an all-reduce during backward, so
every copy takes the same step. --batch-size is the global batch (all processes together), and
the windows of a step are the same whatever the number of processes: rank r takes windows
r, r + W, r + 2W, … of the step's batch (W processes), as torch's DistributedSampler deals out
a dataset.

Works with PyTorch 1.13 or newer and the Python standard library. Written for GPT Lab; the maths
matches src/gpt/model.ts (pre-LayerNorm blocks, tanh GELU, head tied to the token embedding).

Glossary for the shape comments: B batch, T time (positions), C channels (width), nh heads,
hs head size (C / nh), V vocabulary size.
"""

import argparse
import contextlib
import json
import math
import os
import struct
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

CHECKPOINT_FORMAT = "gpt-lab/1"
MODEL_KEYS = ["vocabSize", "contextLength", "layers", "heads", "width", "dropout"]
VALIDATION_SEED = 1337  # GPT Lab's fixed validation windows (src/train/data.ts)
VALIDATION_BATCHES = 20


# ----------------------------------------------------------------------------- the model

class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg["width"]
        self.heads = cfg["heads"]
        self.c_attn = nn.Linear(C, 3 * C)  # q, k, v in one product; weight (3C, C) as GPT Lab stores it
        self.c_proj = nn.Linear(C, C)
        self.drop = nn.Dropout(cfg["dropout"])
        T = cfg["contextLength"]
        # −inf above the diagonal (a later position, which a token may not look at), 0 elsewhere. A float
        # buffer, not a bool one: DDP broadcasts buffers at start, and gloo cannot send bools.
        self.register_buffer("mask", torch.triu(torch.full((T, T), float("-inf")), diagonal=1), persistent=False)

    def forward(self, x):
        B, T, C = x.shape
        nh = self.heads
        hs = C // nh
        q, k, v = self.c_attn(x).split(C, dim=2)  # each (B, T, C)
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)).float() * (1.0 / math.sqrt(hs)) + self.mask[:T, :T]  # (B, nh, T, T)
        att = self.drop(F.softmax(att, dim=-1).to(v.dtype))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.drop(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg["width"]
        self.c_fc = nn.Linear(C, 4 * C)
        self.c_proj = nn.Linear(4 * C, C)
        self.drop = nn.Dropout(cfg["dropout"])

    def forward(self, x):
        return self.drop(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))  # (B, T, C)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg["width"], eps=1e-5)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg["width"], eps=1e-5)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg["vocabSize"], cfg["width"]),
            wpe=nn.Embedding(cfg["contextLength"], cfg["width"]),
            drop=nn.Dropout(cfg["dropout"]),
            h=nn.ModuleList([Block(cfg) for _ in range(cfg["layers"])]),
            ln_f=nn.LayerNorm(cfg["width"], eps=1e-5),
        ))
        self.lm_head = nn.Linear(cfg["width"], cfg["vocabSize"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied: one Parameter used twice

    def forward(self, idx, targets=None):
        B, T = idx.shape
        pos = torch.arange(T, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))  # (B, T, C)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.float().view(B * T, -1), targets.view(B * T))  # mean over B·T
        return logits, loss


# ----------------------------------------------------------------------------- safetensors by hand

def read_safetensors(path):
    """(tensors: name -> float32 tensor, metadata: dict of strings). F32 only, as GPT Lab writes."""
    assert sys.byteorder == "little", "this reader assumes a little-endian machine, as the format does"
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise SystemExit(f"{path}: too short to be a .safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise SystemExit(f"{path}: the header length {n} runs past the end of the file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None) or {}
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {info['dtype']}; GPT Lab checkpoints are F32")
        start, end = info["data_offsets"]
        shape = list(info["shape"])
        count = 1
        for d in shape:
            count *= d
        if end - start != 4 * count or end > len(body):
            raise SystemExit(f"{path}: tensor {name} has {end - start} bytes for shape {shape}")
        t = torch.frombuffer(bytearray(body[start:end]), dtype=torch.float32) if count else torch.empty(0)
        tensors[name] = t.reshape(shape).clone()
    return tensors, metadata


def float32_bytes(t):
    """Little-endian float32 bytes of a tensor, through NumPy when it is installed (fast), else struct."""
    t = t.detach().to("cpu", torch.float32).contiguous().view(-1)
    try:
        return t.numpy().tobytes()
    except (ImportError, RuntimeError):  # PyTorch without NumPy
        return struct.pack(f"<{t.numel()}f", *t.tolist())


def write_safetensors(path, tensors, metadata):
    """F32 tensors in name order, string metadata, header padded with spaces to a multiple of 8."""
    header = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name in sorted(tensors):
        raw = float32_bytes(tensors[name])
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)  # a crash never leaves half a checkpoint


def load_checkpoint(path):
    """A GPT Lab checkpoint -> (model on the CPU, config dict, vocabulary list, step, val_loss or None)."""
    tensors, meta = read_safetensors(path)
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise SystemExit(f"{path}: format is {meta.get('format')!r}, not {CHECKPOINT_FORMAT!r}: not a GPT Lab checkpoint")
    raw = json.loads(meta["config"])
    cfg = {k: raw[k] for k in MODEL_KEYS}
    vocabulary = json.loads(meta["vocabulary"])
    if len(vocabulary) != cfg["vocabSize"]:
        raise SystemExit(f"{path}: {len(vocabulary)} vocabulary entries but vocabSize {cfg['vocabSize']}")
    model = GPT(cfg)
    state = dict(tensors)
    state["lm_head.weight"] = state["transformer.wte.weight"]  # tied, never written to the file
    model.load_state_dict(state, strict=True)  # every name and shape must match
    val_loss = float(meta["val_loss"]) if "val_loss" in meta else None
    return model, cfg, vocabulary, int(meta["step"]), val_loss


def save_checkpoint(path, model, cfg, vocabulary, step, val_loss):
    state = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    metadata = {
        "format": CHECKPOINT_FORMAT,
        "config": json.dumps({k: cfg[k] for k in MODEL_KEYS}),
        "vocabulary": json.dumps(vocabulary, ensure_ascii=False),
        "step": str(step),
        "val_loss": repr(float(val_loss)),
    }
    write_safetensors(path, state, metadata)


# ----------------------------------------------------------------------------- data, as GPT Lab draws it

class Mulberry32:
    """GPT Lab's random generator (src/gpt/random.ts), so the validation windows are the lab's own."""

    M = 0xFFFFFFFF

    def __init__(self, seed):
        self.state = seed & self.M

    def next(self):
        M = self.M
        self.state = (self.state + 0x6D2B79F5) & M
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & M
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & M)) & M
        return ((t ^ (t >> 14)) & M) / 4294967296.0

    def int(self, n):
        return math.floor(self.next() * n)


def random_starts(rng, token_count, T, count):
    span = token_count - T
    if span < 1:
        raise SystemExit(f"{token_count} tokens cannot hold one window of {T}+1")
    return [rng.int(span) for _ in range(count)]


def encode(text, vocabulary):
    """One token per code point; a character outside the vocabulary takes the space token (or 0)."""
    ids = {ch: i for i, ch in enumerate(vocabulary)}
    fallback = ids.get(" ", 0)
    out = [ids.get(ch, fallback) for ch in text]
    unknown = sum(1 for ch in text if ch not in ids)
    return out, unknown


def windows(tokens, starts, T, device):
    """x = tokens[s : s+T], y = tokens[s+1 : s+T+1] for each start. (B, T) each."""
    x = torch.stack([tokens[s:s + T] for s in starts]).to(device, non_blocking=True)
    y = torch.stack([tokens[s + 1:s + T + 1] for s in starts]).to(device, non_blocking=True)
    return x, y


def learning_rate(it, lr, min_lr, warmup, steps):
    """GPT Lab's schedule (src/train/schedule.ts): linear warmup, cosine to min_lr at `steps`."""
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it >= steps:
        return min_lr
    ratio = (it - warmup) / max(1, steps - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


# ----------------------------------------------------------------------------- distributed helpers

def setup_distributed(device_arg):
    """(rank, world, local_rank, device). Under torchrun: one process group, gloo on CPU, nccl on CUDA."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device_arg == "auto" else device_arg == "cuda"
    if use_cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda, but PyTorch sees no CUDA GPU")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
        # Processes on one machine share its cores: give each its share, not all of them.
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    if world > 1:
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return rank, world, local_rank, device


def all_sum(value, device, world):
    """Sum a Python float over all processes."""
    if world == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.item()


@torch.no_grad()
def validation_loss(model, val_tokens, batch_size, T, device, rank, world):
    """GPT Lab's validation loss: the mean over 20 fixed batches (seed 1337) of each batch's mean
    cross-entropy. The batches are dealt out among the processes and the sums added up. Always in
    float32, even with --amp, so that the number in the checkpoint is the one GPT Lab measures."""
    rng = Mulberry32(VALIDATION_SEED)
    batches = [random_starts(rng, len(val_tokens), T, batch_size) for _ in range(VALIDATION_BATCHES)]
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(rank, VALIDATION_BATCHES, world):
        x, y = windows(val_tokens, batches[i], T, device)
        _, loss = model(x, y)
        total += loss.item()
    model.train(was_training)
    return all_sum(total, device, world) / VALIDATION_BATCHES


# ----------------------------------------------------------------------------- main

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=os.path.join(here, "model.safetensors"), help="a GPT Lab .safetensors checkpoint")
    ap.add_argument("--text", default=os.path.join(here, "train.txt"), help="the training text (UTF-8)")
    ap.add_argument("--config", default=os.path.join(here, "config.json"), help="training settings exported by GPT Lab (optional)")
    ap.add_argument("--out", default=os.path.join(here, "model-continued.safetensors"), help="where to write the result")
    ap.add_argument("--steps", type=int, default=200, help="optimizer steps to take")
    ap.add_argument("--batch-size", type=int, help="windows per step, all processes together (default: config.json's)")
    ap.add_argument("--lr", type=float, default=1e-4, help="peak learning rate (low: the optimizer starts with empty moments)")
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--warmup", type=int, default=0, help="steps of linear warmup")
    ap.add_argument("--weight-decay", type=float, help="AdamW weight decay on 2-D weights (default: config.json's)")
    ap.add_argument("--grad-clip", type=float, help="global gradient-norm clipping, 0 for none (default: config.json's)")
    ap.add_argument("--eval-every", type=int, default=0, help="also measure validation loss every N steps")
    ap.add_argument("--seed", type=int, default=1, help="seed of the training windows")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--amp", action="store_true", help="mixed precision on CUDA: bfloat16 where supported, else float16 with loss scaling")
    ap.add_argument("--json", action="store_true", help="one JSON line per report")
    args = ap.parse_args()

    rank, world, _, device = setup_distributed(args.device)
    main_process = rank == 0

    def log(record):
        if not main_process:
            return
        if args.json:
            print(json.dumps(record), flush=True)
        else:
            print("  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()), flush=True)

    hp = {}
    if os.path.exists(args.config):
        with open(args.config, "r", encoding="utf-8") as f:
            hp = json.load(f).get("hyperparameters", {})
    batch_size = args.batch_size or int(hp.get("batchSize", 12))
    val_batch_size = int(hp.get("batchSize", batch_size))  # the lab's validation set is drawn at its batch size
    weight_decay = args.weight_decay if args.weight_decay is not None else float(hp.get("weightDecay", 0.1))
    grad_clip = args.grad_clip if args.grad_clip is not None else float(hp.get("gradClip", 1.0))
    betas = (float(hp.get("beta1", 0.9)), float(hp.get("beta2", 0.99)))
    eps = float(hp.get("epsilon", 1e-8))
    if batch_size % world != 0:
        raise SystemExit(f"--batch-size {batch_size} does not divide among {world} processes; pick a multiple of {world}")

    model, cfg, vocabulary, start_step, saved_val = load_checkpoint(args.checkpoint)
    T = cfg["contextLength"]
    with open(args.text, "r", encoding="utf-8", newline="") as f:  # newline="": the text exactly as written
        text = f.read()
    ids, unknown = encode(text, vocabulary)
    tokens = torch.tensor(ids, dtype=torch.long)
    cut = math.floor(len(tokens) * 0.9)  # the first 90% trains, the last 10% validates
    train_tokens, val_tokens = tokens[:cut], tokens[cut:]

    model.to(device)
    raw_model = model
    if world > 1:
        # Each process keeps a full copy; backward all-reduces the gradients (averaged over processes).
        model = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    use_amp = args.amp and device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16

    def amp():
        return torch.autocast(device_type="cuda", dtype=amp_dtype) if use_amp else contextlib.nullcontext()

    # Loss scaling, for float16 only (bfloat16 has float32's range). torch.amp.GradScaler is the name
    # from PyTorch 2.3 on; 1.13 has torch.cuda.amp.GradScaler.
    GradScaler = torch.amp.GradScaler if hasattr(torch.amp, "GradScaler") else torch.cuda.amp.GradScaler
    scaler = GradScaler(enabled=use_amp and amp_dtype == torch.float16)

    # AdamW as GPT Lab does it: decay on 2-D weights (embeddings, Linear weights) only.
    decay = [p for p in raw_model.parameters() if p.dim() >= 2]
    no_decay = [p for p in raw_model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=betas, eps=eps,
    )

    n_params = sum(p.numel() for p in raw_model.parameters())
    if main_process:
        print(
            f"GPT Lab model: {cfg['layers']} layers, {cfg['heads']} heads, width {cfg['width']}, context {T}, "
            f"vocabulary {cfg['vocabSize']}, {n_params:,} parameters, step {start_step}; "
            f"{len(tokens):,} tokens ({unknown} unknown characters); {world} process(es) on {device.type}"
            + (f", mixed precision {amp_dtype}" if use_amp else ""),
            file=sys.stderr, flush=True,
        )

    val = validation_loss(raw_model, val_tokens, val_batch_size, T, device, rank, world)
    record = {"step": start_step, "val_loss": val}
    if saved_val is not None:
        record["checkpoint_val_loss"] = saved_val
    log(record)

    rng = Mulberry32(args.seed)  # the same on every process: each takes its own share of each batch
    model.train()
    t0 = time.time()
    loss_sum, loss_count = 0.0, 0  # this process's training losses since the last report
    for i in range(args.steps):
        starts = random_starts(rng, len(train_tokens), T, batch_size)
        x, y = windows(train_tokens, starts[rank::world], T, device)  # this process's share
        lr = learning_rate(i, args.lr, args.min_lr, args.warmup, args.steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        with amp():
            _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()  # DDP all-reduces the gradients here, bucket by bucket
        scaler.unscale_(optimizer)
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(raw_model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        loss_sum += loss.item()
        loss_count += 1
        step = start_step + i + 1
        if args.eval_every and (i + 1) % args.eval_every == 0 and i + 1 < args.steps:
            seconds = time.time() - t0
            val = validation_loss(raw_model, val_tokens, val_batch_size, T, device, rank, world)
            train_loss = all_sum(loss_sum, device, world) / (world * loss_count)
            log({"step": step, "train_loss": train_loss, "val_loss": val, "tokens_per_s": (i + 1) * batch_size * T / seconds})
            loss_sum, loss_count = 0.0, 0

    seconds = time.time() - t0
    step = start_step + args.steps
    val = validation_loss(raw_model, val_tokens, val_batch_size, T, device, rank, world)
    final = {"step": step, "val_loss": val}
    if loss_count:
        final["train_loss"] = all_sum(loss_sum, device, world) / (world * loss_count)
    if args.steps:
        final["tokens_per_s"] = args.steps * batch_size * T / seconds
    log(final)
    if main_process:
        save_checkpoint(args.out, raw_model, cfg, vocabulary, step, val)
        print(f"wrote {args.out} (step {step}, validation loss {val:.4f}); open it in GPT Lab", file=sys.stderr, flush=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
