#!/usr/bin/env python3
"""PyTorch side of asym's Transformer interop check (needs python3-torch
and numpy; files are read with the safetensors spec, no safetensors
package).

  torch_transformers.py check gpt|vit WEIGHTS INPUT TARGETS LOGITS GRADS --config JSON
      Build the torch.nn model below with the sizes in JSON, load asym's
      exported WEIGHTS with strict=True, run it on INPUT (raw float32: token
      ids (N, T) for gpt, images (N, C, H, W) for vit), compare the logits
      with LOGITS (raw float32 written by asym), take the mean cross-entropy
      against TARGETS (raw int32) and compare every parameter's gradient
      with GRADS (safetensors, asym's names). Prints the largest
      differences; exits 1 above the tolerances.

The modules between the markers are the ones docs/transformers-interop.md
shows (a test checks that the document holds them verbatim).
"""
import argparse
import json
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_interop import read_safetensors  # noqa: E402

# --- modules begin
import math

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    def __init__(self, d, heads, causal):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.q, self.k, self.v, self.proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x):
        n, t, d = x.shape
        h = self.heads
        q, k, v = (m(x).view(n, t, h, d // h).transpose(1, 2) for m in (self.q, self.k, self.v))
        s = q @ k.transpose(-2, -1) / math.sqrt(d // h)
        if self.causal:
            s = s.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        return self.proj((s.softmax(-1) @ v).transpose(1, 2).reshape(n, t, d))


class MLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU


class Block(nn.Module):  # pre-LN
    def __init__(self, d, heads, hidden, causal):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(d), Attention(d, heads, causal)
        self.ln2, self.mlp = nn.LayerNorm(d), MLP(d, hidden)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """asym's gpt: token ids (N, T) -> logits (N, T, vocab)."""

    def __init__(self, vocab, context, dim=128, depth=4, heads=4, mlp=0):
        super().__init__()
        self.tok_emb, self.pos_emb = nn.Embedding(vocab, dim), nn.Embedding(context, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, mlp or 4 * dim, True) for _ in range(depth))
        self.ln_f, self.head = nn.LayerNorm(dim), nn.Linear(dim, vocab)

    def forward(self, ids):
        x = self.tok_emb(ids) + self.pos_emb.weight[: ids.shape[1]]
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln_f(x))


class ViT(nn.Module):
    """asym's vit: images (N, C, H, W) -> logits (N, classes)."""

    def __init__(self, channels, height, width, classes, patch, dim=64, depth=2, heads=4, mlp=0):
        super().__init__()
        self.patch_embed = nn.Conv2d(channels, dim, patch, stride=patch)
        self.pos_emb = nn.Embedding((height // patch) * (width // patch), dim)
        self.blocks = nn.ModuleList(Block(dim, heads, mlp or 4 * dim, False) for _ in range(depth))
        self.ln_f, self.head = nn.LayerNorm(dim), nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_emb.weight
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln_f(x).mean(1))
# --- modules end


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd", choices=["check"])
    p.add_argument("arch", choices=["gpt", "vit"])
    for f in ("weights", "input", "targets", "logits", "grads"):
        p.add_argument(f)
    p.add_argument("--config", required=True, help="JSON: the model's sizes and input shape")
    p.add_argument("--tol", type=float, default=1e-4, help="tolerance relative to the largest value")
    a = p.parse_args()
    cfg = json.loads(a.config)
    shape = cfg.pop("input")
    x = torch.from_numpy(np.fromfile(a.input, dtype=np.float32).reshape(shape))
    targets = torch.from_numpy(np.fromfile(a.targets, dtype=np.int32).astype(np.int64))
    if a.arch == "gpt":
        model, x = GPT(**cfg), x.long()
    else:
        model = ViT(**cfg)
    weights = {k: torch.from_numpy(v) for k, v in read_safetensors(a.weights).items()}
    model.load_state_dict(weights, strict=True)
    logits = model(x)
    want = np.fromfile(a.logits, dtype=np.float32).reshape(logits.shape)
    worst = 0.0

    def check(name, got, want):
        nonlocal worst
        # The floor 1e-3: the key bias's gradient is 0 in exact arithmetic
        # (softmax ignores a shift of a row of scores), so both sides hold
        # rounding noise of about 1e-9 there.
        scale = max(float(np.abs(want).max()), 1e-3)
        d = float(np.abs(got - want).max()) / scale
        worst = max(worst, d)
        if d > a.tol:
            print(f"{name}: max |difference| / max |value| = {d:.3g} > {a.tol}")
        return d

    check("logits", logits.detach().numpy(), want)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets)
    loss.backward()
    grads = read_safetensors(a.grads)
    for name, prm in model.named_parameters():
        check(name + ".grad", prm.grad.numpy(), grads[name])
    print(f"{a.arch}: loss {loss.item():.6f}, {len(grads)} gradients; largest relative difference {worst:.3g}")
    sys.exit(1 if worst > a.tol else 0)


if __name__ == "__main__":
    main()
