"""
Makes tests/fixtures/reference-tiny.safetensors: a tiny GPT's weights, one batch, and what
PyTorch computes from them (logits, loss, gradient norm, one AdamW step, the loss after it),
so the engine's tests can check its maths against PyTorch without PyTorch installed.

    /usr/bin/python3 scripts/torch/make_reference_fixture.py

The weights are drawn in float32 and stored as float32; the reference computation runs in
float64 starting from exactly those float32 values, and its results are rounded to float32
only when written. The fixture is therefore the exact maths, not one float32 implementation's
rounding.
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt import GPT, GPTConfig, make_optimizer, write_safetensors  # noqa: E402

SEED = 20240611
CONFIG = GPTConfig(vocabSize=13, contextLength=8, layers=2, heads=2, width=16, dropout=0.0)
B, T = 3, 8
OPTIMIZER = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8, "weightDecay": 0.1, "gradClip": 1.0}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "reference-tiny.safetensors")


WEIGHT_STD = 0.2


def init_for_test(model):
    """Random everywhere, so that a mistake in any parameter's use shows: normal(0, WEIGHT_STD)
    weights and embeddings, LayerNorm weights 1 ± 0.1, LayerNorm and Linear biases ± 0.1.

    WEIGHT_STD is 0.2, not GPT-2's 0.02, on purpose: with 0.02 the attention is almost uniform and
    the logits almost flat, so an attention-scale or head-split mistake moves the logits by ~1e-5
    and GELU's erf form differs from its tanh form by ~1e-7, both lost in float32 noise. With 0.2
    those mistakes move the logits by ~0.5, ~1.5 and ~7e-4, and the gradient norm (~2.2) is above
    the clipping threshold, so clipping is exercised too."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, WEIGHT_STD)
            elif name.endswith("weight"):  # LayerNorm gains
                p.normal_(1.0, 0.1)
            else:  # LayerNorm and Linear biases
                p.normal_(0.0, 0.1)


def weights(model):
    """The weights under their PyTorch names, without the tied lm_head.weight (as checkpoints)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k != "lm_head.weight"}


def main():
    torch.manual_seed(SEED)
    model = GPT(CONFIG)  # float32
    init_for_test(model)
    x = torch.randint(0, CONFIG.vocabSize, (B, T))
    y = torch.randint(0, CONFIG.vocabSize, (B, T))
    initial = weights(model)  # float32, as drawn

    # float32 -> float64 is exact: the computation starts from the stored float32 values.
    model = model.double()
    model.train()  # dropout is 0, so train and eval agree
    logits, loss = model(x, y)  # (B, T, V), ()
    loss.backward()
    params = list(model.parameters())
    grad_norm = torch.nn.utils.clip_grad_norm_(params, OPTIMIZER["gradClip"])  # norm before clipping
    # Smallest gradient outside the key part of c_attn.bias, whose gradient is zero in exact
    # arithmetic (adding a constant to every score of a query row leaves its softmax unchanged).
    C = CONFIG.width
    min_abs_grad = min(
        (torch.cat([p.grad[:C], p.grad[2 * C:]]) if n.endswith("attn.c_attn.bias") else p.grad).abs().min().item()
        for n, p in model.named_parameters()
    )
    opt = make_optimizer(
        model,
        lr=OPTIMIZER["lr"],
        weight_decay=OPTIMIZER["weightDecay"],
        beta1=OPTIMIZER["beta1"],
        beta2=OPTIMIZER["beta2"],
        eps=OPTIMIZER["epsilon"],
    )
    opt.step()
    with torch.no_grad():
        _, loss_after = model(x, y)

    tensors = dict(initial)
    tensors["batch.x"] = x.float()
    tensors["batch.y"] = y.float()
    tensors["expected.logits"] = logits.detach().float()
    tensors["expected.loss"] = loss.detach().reshape(1).float()
    tensors["expected.grad_norm"] = grad_norm.detach().reshape(1).float()
    tensors["expected.loss_after_step"] = loss_after.detach().reshape(1).float()
    for k, v in weights(model).items():
        tensors["after." + k] = v.float()

    metadata = {
        "format": "gpt-lab-fixture/1",
        "config": json.dumps(CONFIG.to_dict()),
        "optimizer": json.dumps(OPTIMIZER),
        "made_by": f"scripts/torch/make_reference_fixture.py (PyTorch {torch.__version__})",
    }
    out = os.path.normpath(OUT)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_safetensors(out, tensors, metadata)
    print(json.dumps({
        "file": out,
        "bytes": os.path.getsize(out),
        "loss": loss.item(),
        "grad_norm": grad_norm.item(),
        "loss_after_step": loss_after.item(),
        "min_abs_grad": min_abs_grad,
    }))


if __name__ == "__main__":
    main()
