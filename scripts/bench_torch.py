#!/usr/bin/env python3
"""Side-by-side reference: the training step of asym's MLP, ConvNet and
ResNet-20 in PyTorch on the CPU, with the same shapes, batch and threads.

Usage: python3 scripts/bench_torch.py [--models mlp,convnet,resnet20]
       [--batch 128] [--threads 2] [--steps 20] [--warmup 3] [--json]

Each model runs in its own process so that its peak RSS is its own, with
every thread pool torch uses pinned to --threads (torch_threads.py). Prints
ms/step (median), images/s and peak RSS (MiB), like `asym bench`.
Needs Debian's python3-torch; never needed by the tests.
"""
import argparse
import json
import resource
import subprocess
import sys
import time


def build(name, in_ch, classes):
    import torch.nn as nn

    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(in_ch * 28 * 28, 256), nn.ReLU(),
                             nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, classes))
    if name == "convnet":
        return nn.Sequential(
            nn.Conv2d(in_ch, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, classes))
    if name.startswith("resnet"):
        depth = int(name[len("resnet"):])
        n = (depth - 2) // 6

        class Block(nn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(cout)
                self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(cout)
                self.relu = nn.ReLU()
                self.down = None
                if stride != 1 or cin != cout:
                    self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

            def forward(self, x):
                y = self.relu(self.bn1(self.conv1(x)))
                y = self.bn2(self.conv2(y))
                s = x if self.down is None else self.down(x)
                return self.relu(y + s)

        layers = [nn.Conv2d(in_ch, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
        cin = 16
        for stage, w in enumerate([16, 32, 64]):
            for i in range(n):
                layers.append(Block(cin, w, 2 if stage > 0 and i == 0 else 1))
                cin = w
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
        return nn.Sequential(*layers)
    raise SystemExit(f"unknown model {name}")


def child(args):
    import torch_threads

    torch_threads.pin(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = build(args.models, 1, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
    x = torch.randn(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for s in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if s >= args.warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"model": args.models, "framework": "pytorch " + torch.__version__, "batch": args.batch,
                      "threads": args.threads, "step_ms": 1000 * med, "images_per_s": args.batch / med,
                      "peak_rss_mb": rss}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="mlp,convnet,resnet20")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    rows = []
    for m in args.models.split(","):
        cmd = [sys.executable, __file__, "--child", "--models", m, "--batch", str(args.batch),
               "--threads", str(args.threads), "--steps", str(args.steps), "--warmup", str(args.warmup)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{'model':>10} {'batch':>6} {'threads':>8} {'ms/step':>9} {'images/s':>9} {'peak RSS MiB':>13}")
    for r in rows:
        print(f"{r['model']:>10} {r['batch']:>6} {r['threads']:>8} {r['step_ms']:9.2f} {r['images_per_s']:9.0f} {r['peak_rss_mb']:13.0f}")
    print("framework:", rows[0]["framework"] if rows else "?")


if __name__ == "__main__":
    main()
