#!/usr/bin/env python3
"""Interleaved speed and memory comparison of asym's Transformers with the
same models written with torch.nn (scripts/bench_torch_transformers.py for
the GPT, scripts/bench_torch_vit.py for the ViT) on PyTorch's CPU backend.

  python3 scripts/bench_vs_torch.py --asym ./asym --model gpt,vit --threads 1,2 --rounds 3

Every round runs, for each model and thread count, `asym bench --model M
--rule bp --json` of each binary given (comma-separated) and the PyTorch
script once, each in its own process (so its peak RSS is its own), one
after the other; the cases of a round alternate, so that a slow spell of
a shared machine hits all of them. Prints, per model and thread count,
the median over the rounds of each case's ms/step (itself the median of
--steps timed steps after --warmup), the spread over the rounds, the
median CPU ms/step (all threads of the process: it does not grow while
other processes hold the cores), the ratios to PyTorch of both medians,
and the largest peak RSS. PyTorch's thread pools are all pinned (see
torch_threads.py). The sizes are the defaults of docs/transformers.md:
GPT context 128, width 128, 4 blocks (--gpt 128,128,4), 4 heads,
vocabulary 91, batch 16; ViT 1×28×28, patch 4, width 64, 2 blocks, batch
32.

Needs Debian's python3-torch; never needed by the tests.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = {
    "vit": {"asym": ["--input", "1,28,28", "--classes", "10", "--batch", "32"],
            "torch": ["bench_torch_vit.py", "--input", "1,28,28", "--classes", "10", "--batch", "32"]},
}


def gpt_sizes(spec):
    """Sets MODELS["gpt"] from "context,width,blocks" (4 heads, vocabulary 91, batch 16)."""
    ctx, dim, depth = spec.split(",")
    MODELS["gpt"] = {
        "asym": ["--input", ctx, "--classes", "91", "--dim", dim, "--depth", depth, "--heads", "4", "--batch", "16"],
        "torch": ["bench_torch_transformers.py", "--context", ctx, "--vocab", "91", "--dim", dim, "--depth", depth,
                  "--heads", "4", "--batch", "16"]}


def run_asym(binary, model, threads, steps, warmup):
    cmd = [binary, "bench", "--model", model, "--rule", "bp", "--threads", str(threads), "--steps", str(steps),
           "--warmup", str(warmup), "--json"] + MODELS[model]["asym"]
    res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)[0]
    return f"asym {res['backend']}", {"ms": res["step_ms"], "cpu": res["step_cpu_ms"], "rss": res["peak_rss_mb"]}


def run_torch(python, model, threads, steps, warmup):
    script, *args = MODELS[model]["torch"]
    cmd = [python, os.path.join(HERE, script), "--json", "--threads", str(threads), "--steps", str(steps),
           "--warmup", str(warmup)] + args
    res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    return res["impl"], {"ms": res["ms_per_step"], "cpu": res["cpu_ms_per_step"], "rss": res["peak_rss_mib"]}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--asym", required=True, help="asym binaries, comma-separated (e.g. a pure-Go and an OpenBLAS build)")
    p.add_argument("--model", default="gpt,vit")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--python", default=sys.executable, help="the Python with torch (Debian's: /usr/bin/python3)")
    p.add_argument("--gpt", default="128,128,4", help="the GPT's context,width,blocks")
    a = p.parse_args()
    gpt_sizes(a.gpt)
    models = a.model.split(",")
    for m in models:
        if m not in MODELS:
            raise SystemExit(f"unknown model {m}: want gpt or vit")
    threads = [int(t) for t in a.threads.split(",")]
    rows = {}
    for r in range(a.rounds):
        for m in models:
            for t in threads:
                for b in a.asym.split(","):
                    name, res = run_asym(b, m, t, a.steps, a.warmup)
                    rows.setdefault((m, t), {}).setdefault(name, []).append(res)
                name, res = run_torch(a.python, m, t, a.steps, a.warmup)
                rows[(m, t)].setdefault(name, []).append(res)
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    print("| model | implementation | threads | ms/step (median of rounds) | min–max | CPU ms/step | ratio to torch (ms) | ratio to torch (CPU) | peak RSS MiB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for (m, t), cases in rows.items():
        torch_name = next(n for n in cases if n.startswith("torch"))
        tms = statistics.median(x["ms"] for x in cases[torch_name])
        tcpu = statistics.median(x["cpu"] for x in cases[torch_name])
        for name, xs in cases.items():
            ms = statistics.median(x["ms"] for x in xs)
            cpu = statistics.median(x["cpu"] for x in xs)
            lo, hi = min(x["ms"] for x in xs), max(x["ms"] for x in xs)
            rss = max(x["rss"] for x in xs)
            print(f"| {m} | {name} | {t} | {ms:.1f} | {lo:.1f}–{hi:.1f} | {cpu:.1f} | {ms / tms:.2f} | {cpu / tcpu:.2f} | {rss:.0f} |")
    print(f"\nload average (1, 5, 15 min) after the run: {os.getloadavg()}")


if __name__ == "__main__":
    main()
