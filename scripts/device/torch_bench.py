"""
PyTorch eager fp32 training-step speed of the same GPT (scripts/torch/gpt.py), for the ratio in
`npm run bench`'s GPU figures: forward, backward, global-norm clipping at 1.0 and AdamW as the
engine sets it up, on random tokens, timed with the GPU synchronised. TF32 is off (true fp32).
Prints one JSON line per configuration, in the bench's row format with "path": "pytorch-eager".

  python3 scripts/device/torch_bench.py [--steps 30]
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
from gpt import GPT, GPTConfig, make_optimizer  # noqa: E402

CONFIGS = {
    # name: (layers, heads, width, context, batch); vocabulary 89 as in the JS bench
    "baby": (4, 4, 128, 64, 16),
    "small": (6, 6, 384, 256, 64),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--configs", default="baby,small")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    for name in args.configs.split(","):
        L, nh, C, T, B = CONFIGS[name]
        cfg = GPTConfig(vocabSize=89, contextLength=T, layers=L, heads=nh, width=C)
        torch.manual_seed(1)
        model = GPT(cfg)
        model.init_weights()
        model.to(dev)
        opt = make_optimizer(model, 1e-3)
        g = torch.Generator(device=dev).manual_seed(2)

        def step():
            x = torch.randint(0, 89, (B, T), device=dev, generator=g)
            y = torch.randint(0, 89, (B, T), device=dev, generator=g)
            _, loss = model(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            return loss

        for _ in range(3):
            step()
        if dev == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            loss = step()
        loss.item()
        if dev == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        print(json.dumps({
            "name": "train_step", "path": "pytorch-eager", "backend": dev, "env": "python",
            "config": name, "batch_size": B, "dtype": "float32",
            "tokens_per_s": round(args.steps * B * T / seconds),
            "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu",
            "torch": torch.__version__,
        }), flush=True)


if __name__ == "__main__":
    main()
