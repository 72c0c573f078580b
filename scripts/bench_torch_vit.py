#!/usr/bin/env python3
"""Side-by-side reference for `asym bench --model vit`: the training step
(forward, mean cross-entropy, backward, and the step of asym bench's
optimizer: SGD, lr 1e-4, Nesterov momentum 0.9, weight decay 1e-4) of
asym's default ViT (patch embedding as a strided convolution, a learned
position vector per token, pre-LN blocks, final LayerNorm, mean of the
tokens, classifier) written with torch.nn — the ViT of
docs/transformers-interop.md (scripts/torch_transformers.py) — on the CPU,
with the same sizes, batch and threads.

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
import resource
import statistics


def measure(a):
    import torch_threads

    torch_threads.pin(a.threads)
    import torch
    import torch.nn.functional as F
    from torch_transformers import ViT

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    c, h, w = a.input
    patch = a.patch or (4 if h >= 16 and w >= 16 else 2)
    model = ViT(c, h, w, a.classes, patch, dim=a.dim, depth=a.depth, heads=a.heads, mlp=a.mlp)
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
