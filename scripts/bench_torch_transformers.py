#!/usr/bin/env python3
"""Side-by-side reference for `asym bench --model gpt`: the training step
(forward, mean cross-entropy over the tokens, backward, and the step of
asym bench's optimizer: SGD, lr 1e-4, Nesterov momentum 0.9, weight
decay 1e-4) of the
GPT of docs/transformers-interop.md in PyTorch on the CPU, with the same
sizes, batch and threads.

Usage: python3 scripts/bench_torch_transformers.py --context 32 --vocab 91
       --dim 32 --depth 2 --heads 4 --batch 16 --threads 1 --steps 20 --warmup 3

Prints ms/step (median), tokens/s and the process's peak RSS (MiB), like
`asym bench`. Needs Debian's python3-torch; never needed by the tests.
"""
import argparse
import resource
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in (("context", 128), ("vocab", 91), ("dim", 128), ("depth", 4), ("heads", 4), ("batch", 32),
                          ("threads", 1), ("steps", 20), ("warmup", 3), ("seed", 1)):
        p.add_argument("--" + name, type=int, default=default)
    a = p.parse_args()
    import torch
    import torch.nn.functional as F
    from torch_transformers import GPT

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = GPT(a.vocab, a.context, dim=a.dim, depth=a.depth, heads=a.heads)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, nesterov=True, weight_decay=1e-4)
    x = torch.randint(a.vocab, (a.batch, a.context))
    y = torch.randint(a.vocab, (a.batch * a.context,))
    times = []
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x).reshape(-1, a.vocab), y)
        loss.backward()
        opt.step()
        if s >= a.warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    ms = 1000 * times[len(times) // 2]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch {torch.__version__} gpt: context {a.context}, dim {a.dim}, depth {a.depth}, heads {a.heads}, batch {a.batch}, "
          f"{a.threads} threads: {ms:.2f} ms/step, {1000 * a.batch * a.context / ms:.0f} tokens/s, peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
