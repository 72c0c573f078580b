#!/usr/bin/env python3
"""Side-by-side reference for `asym bench --model vit`: the training step
(forward, mean cross-entropy, backward, and the step of asym bench's
optimizer: SGD, lr 1e-4, Nesterov momentum 0.9, weight decay 1e-4) of
asym's default ViT (patch embedding as a strided convolution, a learned
position vector per token, pre-LN blocks, final LayerNorm, mean of the
tokens, classifier) written with torch.nn, on the CPU, with the same
sizes, batch and threads.

  python3 scripts/bench_torch_vit.py --threads 1 --batch 32
      One measurement: ms/step (median), CPU ms/step (median, all
      threads), images/s and the process's peak RSS (MiB), like `asym
      bench` (--json: one JSON object). Every thread pool torch uses is
      pinned to --threads (see torch_threads.py).

scripts/bench_vs_torch.py runs it interleaved with `asym bench`.
Needs Debian's python3-torch; never needed by the tests.
"""
import argparse
import json
import math
import resource
import statistics


def vit(channels, height, width, classes, patch, dim, depth, heads, mlp):
    """asym's vit (models/transformer_vit.go): images (N, C, H, W) -> logits."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Attention(nn.Module):
        def __init__(self, d, h):
            super().__init__()
            self.heads = h
            self.q, self.k, self.v, self.proj = (nn.Linear(d, d) for _ in range(4))

        def forward(self, x):
            n, t, d = x.shape
            h = self.heads
            q, k, v = (m(x).view(n, t, h, d // h).transpose(1, 2) for m in (self.q, self.k, self.v))
            s = q @ k.transpose(-2, -1) / math.sqrt(d // h)
            return self.proj((s.softmax(-1) @ v).transpose(1, 2).reshape(n, t, d))

    class Block(nn.Module):  # pre-LN
        def __init__(self, d, h, hidden):
            super().__init__()
            self.ln1, self.attn = nn.LayerNorm(d), Attention(d, h)
            self.ln2, self.fc1, self.fc2 = nn.LayerNorm(d), nn.Linear(d, hidden), nn.Linear(hidden, d)

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))  # exact (erf) GELU

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = nn.Conv2d(channels, dim, patch, stride=patch)
            self.pos_emb = nn.Parameter(torch.randn((height // patch) * (width // patch), dim))
            self.blocks = nn.ModuleList(Block(dim, heads, mlp or 4 * dim) for _ in range(depth))
            self.ln_f, self.head = nn.LayerNorm(dim), nn.Linear(dim, classes)

        def forward(self, x):
            x = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_emb
            for b in self.blocks:
                x = b(x)
            return self.head(self.ln_f(x).mean(1))

    return ViT()


def measure(a):
    import torch_threads

    torch_threads.pin(a.threads)
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    c, h, w = a.input
    patch = a.patch or (4 if h >= 16 and w >= 16 else 2)
    model = vit(c, h, w, a.classes, patch, a.dim, a.depth, a.heads, a.mlp)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, nesterov=True, weight_decay=1e-4)
    x = torch.randn(a.batch, c, h, w)
    y = torch.randint(a.classes, (a.batch,))
    times, cpus = [], []
    for s in range(a.warmup + a.steps):
        t0, c0 = torch_threads.step_clock()
        opt.zero_grad(set_to_none=False)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        t1, c1 = torch_threads.step_clock()
        if s >= a.warmup:
            times.append(t1 - t0)
            cpus.append(c1 - c0)
    ms = 1000 * statistics.median(times)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"impl": f"torch {torch.__version__}", "threads": a.threads, "ms_per_step": ms,
            "cpu_ms_per_step": 1000 * statistics.median(cpus), "images_per_s": 1000 * a.batch / ms,
            "peak_rss_mib": rss}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in (("classes", 10), ("dim", 64), ("depth", 2), ("heads", 4), ("mlp", 0), ("patch", 0),
                          ("batch", 32), ("steps", 20), ("warmup", 3), ("seed", 1)):
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--input", default="1,28,28", help="C,H,W")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    a.input = [int(v) for v in a.input.split(",")]
    res = measure(a)
    if a.json:
        print(json.dumps(res))
        return
    print(f"{res['impl']} vit: input {a.input}, dim {a.dim}, depth {a.depth}, heads {a.heads}, batch {a.batch}, "
          f"{a.threads} threads: {res['ms_per_step']:.2f} ms/step ({res['cpu_ms_per_step']:.2f} CPU ms/step), "
          f"{res['images_per_s']:.0f} img/s, "
          f"peak RSS {res['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
