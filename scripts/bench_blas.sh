#!/usr/bin/env bash
# Compares the training step times of the pure-Go build (CGO_ENABLED=0, the
# Go-assembly SGEMM of blas/sgemm) with those of the OpenBLAS build
# (-tags openblas). For every model of MODELS (default "mlp convnet
# resnet20") both binaries run `asym bench --isolate=false --model M` with
# the same arguments, alternately, ROUNDS times (default 5), so that the
# load of a shared machine falls on both alike. Every run is made twice, with
# --steps STEPS (default 20) and with 2·STEPS: the difference of the two
# processes' CPU times (user + system) over STEPS is the CPU time of a step,
# which, unlike the wall time, other processes on a loaded machine barely
# change. With --threads 1 it is the step time of an idle machine. It
# prints, per model, the median over the rounds of each build's
# wall step time (asym bench's median step) and CPU time per step, and
# their ratios.
#
#   scripts/bench_blas.sh --threads 1
#   ROUNDS=3 MODELS="convnet" scripts/bench_blas.sh --threads 2 --batch 64
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/asym-go" ./cmd/asym
go build -tags openblas -o "$tmp/asym-openblas" ./cmd/asym
python3 - "$tmp" "${ROUNDS:-5}" "${STEPS:-20}" "${MODELS:-mlp convnet resnet20}" "$@" <<'PY'
import json, os, statistics, subprocess, sys
tmp, rounds, steps, models, args = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(), sys.argv[5:]

def run(b, model, n):
    p = subprocess.Popen([f"{tmp}/asym-{b}", "bench", "--isolate=false", "--json", "--model", model, "--steps", str(n)] + args,
                         stdout=subprocess.PIPE)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    res = json.loads(out)
    if status != 0 or len(res) != 1:
        sys.exit(f"asym-{b} bench --model {model} failed")
    return res[0], ru.ru_utime + ru.ru_stime

wall, cpu = {}, {}
for r in range(rounds):
    for model in models:
        for b in ("go", "openblas"):
            _, c1 = run(b, model, steps)
            x, c2 = run(b, model, 2 * steps)
            key = (x["model"], x["rule"], x["threads"])
            wall.setdefault(key, {}).setdefault(b, []).append(x["step_ms"])
            cpu.setdefault(key, {}).setdefault(b, []).append(1000 * (c2 - c1) / steps)
    print(f"round {r+1}/{rounds} done", file=sys.stderr)

print(f"{'model':>10} {'rule':>5} {'threads':>7} {'go wall ms':>10} {'openblas wall ms':>16} {'ratio':>6} {'go CPU ms':>10} {'openblas CPU ms':>16} {'ratio':>6}")
for key in wall:
    m, r, t = key
    gw, ow = statistics.median(wall[key]["go"]), statistics.median(wall[key]["openblas"])
    gc, oc = statistics.median(cpu[key]["go"]), statistics.median(cpu[key]["openblas"])
    print(f"{m:>10} {r:>5} {t:>7} {gw:>10.2f} {ow:>16.2f} {gw/ow:>6.3f} {gc:>10.2f} {oc:>16.2f} {gc/oc:>6.3f}")
print(f"medians of {rounds} alternating rounds; ratios are pure Go over OpenBLAS; CPU ms per step from {steps} extra steps")
PY
