#!/usr/bin/env python3
"""Side-by-side reference for `asym bench --model gpt`: the training step
(forward, mean cross-entropy over the tokens, backward, and the step of
asym bench's optimizer: SGD, lr 1e-4, Nesterov momentum 0.9, weight
decay 1e-4) of the
GPT of docs/transformers-interop.md in PyTorch on the CPU, with the same
sizes, batch and threads.

Usage: python3 scripts/bench_torch_transformers.py --context 32 --vocab 91
       --dim 32 --depth 2 --heads 4 --batch 16 --threads 1 --steps 20 --warmup 3

Prints ms/step (median), CPU ms/step (median, all threads), tokens/s and
the process's peak RSS (MiB), like `asym bench` (with --json as one JSON
object). Every thread pool torch uses is pinned to --threads (see
torch_threads.py). scripts/bench_vs_torch.py runs this interleaved with
`asym bench`. Needs Debian's python3-torch; never needed by the tests.
"""
import argparse
import json
import resource
import statistics
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in (("context", 128), ("vocab", 91), ("dim", 128), ("depth", 4), ("heads", 4), ("batch", 32),
                          ("threads", 1), ("steps", 20), ("warmup", 3), ("seed", 1)):
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    import torch_threads

    torch_threads.pin(a.threads)
    import torch
    import torch.nn.functional as F
    from torch_transformers import GPT

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = GPT(a.vocab, a.context, dim=a.dim, depth=a.depth, heads=a.heads)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, nesterov=True, weight_decay=1e-4)
    x = torch.randint(a.vocab, (a.batch, a.context))
    y = torch.randint(a.vocab, (a.batch * a.context,))
    times, cpus = [], []
    for s in range(a.warmup + a.steps):
        t0, c0 = torch_threads.step_clock()
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x).reshape(-1, a.vocab), y)
        loss.backward()
        opt.step()
        t1, c1 = torch_threads.step_clock()
        if s >= a.warmup:
            times.append(t1 - t0)
            cpus.append(c1 - c0)
    ms, cpu = 1000 * statistics.median(times), 1000 * statistics.median(cpus)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if a.json:
        print(json.dumps({"impl": f"torch {torch.__version__}", "threads": a.threads, "ms_per_step": ms,
                          "cpu_ms_per_step": cpu, "peak_rss_mib": rss}))
        return
    print(f"torch {torch.__version__} gpt: context {a.context}, dim {a.dim}, depth {a.depth}, heads {a.heads}, batch {a.batch}, "
          f"{a.threads} threads: {ms:.2f} ms/step ({cpu:.2f} CPU ms/step), {1000 * a.batch * a.context / ms:.0f} tokens/s, "
          f"peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
