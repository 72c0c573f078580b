#!/usr/bin/env bash
# Compares the training step times of the pure-Go build (CGO_ENABLED=0, the
# Go-assembly SGEMM of blas/sgemm) with those of the OpenBLAS build
# (-tags openblas): both binaries run `asym bench` with the same arguments,
# alternately, ROUNDS times (default 5), so that the load of a shared
# machine falls on both alike. It prints, per model, the median and the
# fastest of the rounds' step times of each build and their ratios.
#
#   scripts/bench_blas.sh --model mlp,convnet,resnet20 --threads 2
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/asym-go" ./cmd/asym
go build -tags openblas -o "$tmp/asym-openblas" ./cmd/asym
for r in $(seq "$rounds"); do
  for b in go openblas; do
    "$tmp/asym-$b" bench "$@" --json >>"$tmp/$b.jsonl"
  done
  echo "round $r/$rounds done" >&2
done
python3 - "$tmp" <<'PY'
import json, statistics, sys
d = sys.argv[1]
res = {}
for b in ("go", "openblas"):
    for line in open(f"{d}/{b}.jsonl"):
        for x in json.loads(line):
            key = (x["model"], x["rule"], x["threads"])
            res.setdefault(key, {}).setdefault(b, []).append(x["step_ms"])
print(f"{'model':>10} {'rule':>5} {'threads':>7} {'go ms (median, min)':>22} {'openblas ms (median, min)':>26} {'go/openblas median':>19} {'min':>6}")
for (m, r, t), v in res.items():
    g, o = v["go"], v["openblas"]
    gm, om = statistics.median(g), statistics.median(o)
    print(f"{m:>10} {r:>5} {t:>7} {gm:>13.2f} {min(g):>8.2f} {om:>17.2f} {min(o):>8.2f} {gm/om:>19.3f} {min(g)/min(o):>6.3f}")
print(f"step times of {len(g)} alternating rounds (asym bench --json: median step of each run)")
PY
