"""
A plain PyTorch GPT with the same maths and parameter names as GPT Lab's engine (see
/DESIGN.md, "The model"), plus the small tools the cross-checks need: a hand-written
safetensors reader/writer (there is no Python safetensors package here), checkpoint
loading/saving in the `gpt-lab/1` format, AdamW set up as the engine does it, and the
learning-rate schedule.

Glossary for the shape comments (as in src/gpt/config.ts):
  B batch size, T time (positions), C channels (= width), nh heads, hs head size (= C / nh),
  V vocabulary size.

Only used by hand and to make the committed test fixture; the tests never need PyTorch.
Run with the system python (`/usr/bin/python3`), which has PyTorch.
"""

import json
import math
import struct
import sys
from dataclasses import dataclass, asdict, fields

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------- config

@dataclass
class GPTConfig:
    """The architecture, with the field names of `ModelConfig` in src/gpt/config.ts."""
    vocabSize: int
    contextLength: int = 64
    layers: int = 4
    heads: int = 4
    width: int = 128
    dropout: float = 0.0

    @classmethod
    def from_dict(cls, d):
        """Takes the model fields from a config object; other keys (training settings) are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_dict(self):
        return asdict(self)


# ----------------------------------------------------------------------------- model

class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        assert cfg.width % cfg.heads == 0, "width must divide evenly among the heads"
        self.heads = cfg.heads
        self.c_attn = nn.Linear(cfg.width, 3 * cfg.width)  # q, k, v in one matmul; weight (3C, C)
        self.c_proj = nn.Linear(cfg.width, cfg.width)
        self.attn_dropout = nn.Dropout(cfg.dropout)
        self.resid_dropout = nn.Dropout(cfg.dropout)
        # True above the diagonal = a future position, hidden. Not persistent: not a weight.
        T = cfg.contextLength
        self.register_buffer("future", torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1), persistent=False)

    def forward(self, x):
        B, T, C = x.shape
        nh = self.heads
        hs = C // nh
        q, k, v = self.c_attn(x).split(C, dim=2)  # each (B, T, C), in that order along the last dim
        # head h is the contiguous slice [h*hs, (h+1)*hs) of the channels
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, nh, T, T)
        att = att.masked_fill(self.future[:T, :T], float("-inf"))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C): heads side by side again
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(cfg.width, 4 * cfg.width)
        self.c_proj = nn.Linear(4 * cfg.width, cfg.width)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        h = F.gelu(self.c_fc(x), approximate="tanh")  # (B, T, 4C)
        return self.dropout(self.c_proj(h))  # (B, T, C)


class Block(nn.Module):
    """Pre-LayerNorm: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.width, eps=1e-5)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.width, eps=1e-5)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.config = cfg
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg.vocabSize, cfg.width),
            wpe=nn.Embedding(cfg.contextLength, cfg.width),
            drop=nn.Dropout(cfg.dropout),
            h=nn.ModuleList([Block(cfg) for _ in range(cfg.layers)]),
            ln_f=nn.LayerNorm(cfg.width, eps=1e-5),
        ))
        self.lm_head = nn.Linear(cfg.width, cfg.vocabSize, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied: one Parameter, two uses

    def init_weights(self, generator=None):
        """GPT-2 style: normal(0, 0.02) weights and embeddings, residual projections scaled by
        1/sqrt(2*layers), zero biases, LayerNorm weight 1 and bias 0."""
        std = 0.02
        for name, p in self.named_parameters():
            with torch.no_grad():
                if p.dim() >= 2:
                    s = std / math.sqrt(2 * self.config.layers) if name.endswith("c_proj.weight") else std
                    p.normal_(0.0, s, generator=generator)
                elif ".ln_" in name or name.startswith("transformer.ln_f"):
                    p.fill_(1.0 if name.endswith("weight") else 0.0)
                else:
                    p.zero_()

    def forward(self, idx, targets=None):
        B, T = idx.shape
        assert T <= self.config.contextLength, f"window of {T} is longer than the context length"
        pos = torch.arange(T, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)  # (B, T, C)
        x = self.transformer.drop(x)
        for block in self.transformer.h:
            x = block(x)  # (B, T, C)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(B * T))  # mean over B*T
        return logits, loss


# ----------------------------------------------------------------------------- optimizer

def make_optimizer(model, lr, weight_decay=0.1, beta1=0.9, beta2=0.99, eps=1e-8):
    """AdamW as the engine does it: decoupled weight decay on every parameter with two or more
    dimensions (wte, wpe, all Linear weights), none on biases and LayerNorm parameters.
    (`named_parameters` lists the tied wte/lm_head Parameter once.)"""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(beta1, beta2), eps=eps)


def learning_rate(it, lr, min_lr, warmup, steps):
    """The schedule for 0-based step `it`: linear warmup, then cosine from lr down to min_lr."""
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > steps:
        return min_lr
    ratio = (it - warmup) / (steps - warmup)
    coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))  # 1 → 0
    return min_lr + coeff * (lr - min_lr)


# ----------------------------------------------------------------------------- safetensors

_DTYPES = {
    "F32": (torch.float32, 4),
    "F64": (torch.float64, 8),
    "I32": (torch.int32, 4),
    "I64": (torch.int64, 8),
}
_NAMES = {dt: (name, size) for name, (dt, size) in _DTYPES.items()}


def read_safetensors(path):
    """Returns (tensors: dict[name, torch.Tensor], metadata: dict[str, str])."""
    assert sys.byteorder == "little", "this reader assumes a little-endian machine"
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short to be a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, which this reader does not read")
        dtype, size = _DTYPES[info["dtype"]]
        start, end = info["data_offsets"]
        shape = list(info["shape"])
        count = math.prod(shape)
        if end - start != count * size or end > len(body):
            raise ValueError(f"{path}: tensor {name} has {end - start} bytes for shape {shape}")
        buf = bytearray(body[start:end])
        t = torch.frombuffer(buf, dtype=dtype) if count > 0 else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(shape).clone()
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes tensors (F32 unless the tensor is float64/int32/int64) in name order, with string
    metadata. The header is padded with spaces so that the data starts at a multiple of 8."""
    assert sys.byteorder == "little", "this writer assumes a little-endian machine"
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise TypeError(f"metadata {k} must be a string")
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype not in _NAMES:
            raise TypeError(f"tensor {name}: dtype {t.dtype} is not written")
        dtype_name, _ = _NAMES[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype_name, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


# ----------------------------------------------------------------------------- checkpoints

def load_checkpoint(path):
    """Loads a GPT Lab checkpoint (`format` = gpt-lab/1). Returns (model, vocabulary, metadata).

    The file holds no `lm_head.weight`: the head is tied to the token embedding, so writing it
    would store the same matrix twice. PyTorch's state_dict still lists the tied Parameter under
    both names, so we add `lm_head.weight` = the wte tensor before a strict load; strict=True then
    checks that every other name and shape in the file matches the model exactly.
    """
    tensors, metadata = read_safetensors(path)
    fmt = metadata.get("format")
    if fmt != "gpt-lab/1":
        raise ValueError(f"{path}: format is {fmt!r}, expected 'gpt-lab/1'")
    cfg = GPTConfig.from_dict(json.loads(metadata["config"]))
    vocabulary = json.loads(metadata["vocabulary"])
    if len(vocabulary) != cfg.vocabSize:
        raise ValueError(f"{path}: {len(vocabulary)} vocabulary entries but vocabSize {cfg.vocabSize}")
    model = GPT(cfg)
    state = {k: v.float() for k, v in tensors.items()}
    if "lm_head.weight" in state:
        raise ValueError(f"{path}: holds lm_head.weight, but the head is tied and never written")
    state["lm_head.weight"] = state["transformer.wte.weight"]
    model.load_state_dict(state, strict=True)
    return model, vocabulary, metadata


def save_checkpoint(path, model, vocabulary, step, val_loss=None):
    """Writes the weights (without the tied lm_head.weight) and the gpt-lab/1 metadata."""
    state = {k: v.float() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    metadata = {
        "format": "gpt-lab/1",
        "config": json.dumps(model.config.to_dict()),
        "vocabulary": json.dumps(list(vocabulary), ensure_ascii=False),
        "step": str(step),
    }
    if val_loss is not None:
        metadata["val_loss"] = repr(float(val_loss))
    write_safetensors(path, state, metadata)


# ----------------------------------------------------------------------------- corpus

def encode(text, vocabulary):
    """Character ids (Python str = code points, as the engine's tokenizer). An unknown character
    becomes the space token when the vocabulary has one, else token 0, and is counted.
    Returns (ids: list[int], unknown: int)."""
    ids = {ch: i for i, ch in enumerate(vocabulary)}
    fallback = ids.get(" ", 0)
    out = []
    unknown = 0
    for ch in text:
        i = ids.get(ch)
        if i is None:
            unknown += 1
            i = fallback
        out.append(i)
    return out, unknown


def split_tokens(tokens, train_fraction=0.9):
    """The first 90% of tokens train, the last 10% validate (cut = floor(len * 0.9))."""
    cut = math.floor(len(tokens) * train_fraction)
    return tokens[:cut], tokens[cut:]


def batch_at(tokens, starts, T):
    """tokens: 1-D LongTensor. Window at s: x = tokens[s:s+T], y = tokens[s+1:s+T+1]. (B, T) each."""
    for s in starts:
        if s < 0 or s + T + 1 > len(tokens):
            raise ValueError(f"window at {s} runs past the {len(tokens)} tokens")
    x = torch.stack([tokens[s:s + T] for s in starts])
    y = torch.stack([tokens[s + 1:s + T + 1] for s in starts])
    return x, y


@torch.no_grad()
def validation_loss(model, val_tokens, windows, T):
    """Mean over the fixed batches of each batch's mean cross-entropy."""
    was_training = model.training
    model.eval()
    losses = []
    for starts in windows:
        x, y = batch_at(val_tokens, starts, T)
        _, loss = model(x, y)
        losses.append(loss.item())
    model.train(was_training)
    return sum(losses) / len(losses)
