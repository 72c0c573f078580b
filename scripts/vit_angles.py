#!/usr/bin/env python3
"""Alignment angles of a Transformer's attention projections vs its MLP
projections, per rule, from the runs of an `asym compare` directory.

Usage: python3 scripts/vit_angles.py RUNS_DIR [--model vit]

RUNS_DIR is the compare directory (it holds runs/MODEL/RULE/seedN/). For
every run it takes the last logged "align" record of every layer whose name
matches blocks.*.attn.* or blocks.*.mlp.*, averages each angle over the
layers of the group, then over the seeds, and prints a Markdown table with
the final test accuracy (summary.json; "diverged at step S" from
the message in diverged.json). Angles in degrees: weight (B vs W), gradient (the layer's
input gradient under the rule vs under backprop), end-to-end (the weight
update vs backprop's). Standard library only.
"""
import argparse
import glob
import json
import os
import statistics


def mean(xs):
    return statistics.mean(xs) if xs else float("nan")


def run_angles(path):
    last = {}
    with open(os.path.join(path, "metrics.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("kind") == "align":
                last[r["layer"]] = r
    groups = {"attn": [], "mlp": []}
    for name, r in last.items():
        parts = name.split(".")
        if len(parts) >= 3 and parts[0] == "blocks" and parts[2] in groups:
            groups[parts[2]].append(r)
    step = max((r["step"] for r in last.values()), default=-1)
    return step, {g: {k: mean([r[k] for r in rs if r.get(k) is not None])
                      for k in ("weight_angle", "gradient_angle", "end_to_end_angle")} for g, rs in groups.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("--model", default="vit")
    a = p.parse_args()
    print("| rule | test acc (%) per seed | attn: weight / gradient / end-to-end (°) | mlp: weight / gradient / end-to-end (°) | last logged step |")
    print("|---|---|---|---|---|")
    for rdir in sorted(glob.glob(os.path.join(a.dir, "runs", a.model, "*"))):
        accs, angles, steps = [], [], []
        for sdir in sorted(glob.glob(os.path.join(rdir, "seed*"))):
            if os.path.exists(os.path.join(sdir, "summary.json")):
                accs.append(f"{100 * json.load(open(os.path.join(sdir, 'summary.json')))['test_acc']:.2f}")
            elif os.path.exists(os.path.join(sdir, "diverged.json")):
                msg = json.load(open(os.path.join(sdir, "diverged.json")))
                step = msg.split("step ", 1)[1].split(":", 1)[0] if "step " in msg else "?"
                accs.append(f"diverged at step {step}")
            step, ang = run_angles(sdir)
            angles.append(ang)
            steps.append(str(step))
        cells = []
        for g in ("attn", "mlp"):
            vals = [mean([x[g][k] for x in angles]) for k in ("weight_angle", "gradient_angle", "end_to_end_angle")]
            cells.append(" / ".join("–" if v != v else f"{v:.1f}" for v in vals))  # –: not logged (no B)
        print(f"| {os.path.basename(rdir)} | {', '.join(accs)} | {cells[0]} | {cells[1]} | {', '.join(steps)} |")


if __name__ == "__main__":
    main()
