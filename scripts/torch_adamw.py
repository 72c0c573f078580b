#!/usr/bin/env python3
"""Run torch.optim.AdamW for asym's optimizer tests (optim/torch_test.go).

Reads a JSON job from argv[1] and writes the final parameters as JSON to
argv[2]. The job holds the initial parameters (name, kind, value), one
noise vector per parameter per step, the AdamW settings, the warm-up +
cosine schedule in steps and the clipping norm. Every step sets
grad = noise + 0.5*param, clips the gradients of the whole group with
torch.nn.utils.clip_grad_norm_ (when clip > 0), and steps AdamW with two
parameter groups: weights with weight decay, biases and norms without.
"""
import json
import math
import sys

import torch


def main():
    job = json.load(open(sys.argv[1]))
    params = [torch.tensor(p["value"], dtype=torch.float32, requires_grad=True) for p in job["params"]]
    decayed = [p for p, d in zip(params, job["params"]) if d["kind"] == "weight"]
    other = [p for p, d in zip(params, job["params"]) if d["kind"] != "weight"]
    opt = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": job["wd"]}, {"params": other, "weight_decay": 0.0}],
        lr=job["lr"], betas=(job["beta1"], job["beta2"]), eps=job["eps"])
    w, total, floor = job["warmup"], job["total"], job["floor"]

    def factor(t):  # optim.Schedule.Factor, cosine in steps
        p = min(max((t - w) / (total - w), 0.0), 1.0)
        f = floor + (1 - floor) * (1 + math.cos(math.pi * p)) / 2
        if t < w:
            f *= t / w
        return f

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    for noise in job["noise"]:
        with torch.no_grad():
            for p, n in zip(params, noise):
                p.grad = torch.tensor(n, dtype=torch.float32) + 0.5 * p
        if job["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(params, job["clip"])
        opt.step()
        sched.step()
    json.dump([p.detach().tolist() for p in params], open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
