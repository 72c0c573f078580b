#!/usr/bin/env bash
# Runs every fuzz target of the repository for a short fixed time, as CI
# does (scripts/test.sh calls it). Each target runs alone for FUZZTIME
# (default 10s); minimizing a new interesting input is limited to
# FUZZMINTIME (default 2s) so that a target cannot stall in minimization
# (Go's default, 60s, let FuzzCIFAR stop executing inputs for most of a
# run). Targets are found by their `func FuzzXxx(f *testing.F)` line, so a
# new one is fuzzed without editing this script. A crasher is written by
# go test under the package's testdata/fuzz/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
fuzztime=${FUZZTIME:-10s}
mintime=${FUZZMINTIME:-2s}

targets=$(git ls-files '*_test.go' 2>/dev/null || find . -name '*_test.go' -not -path './.git/*')
n=0
start=$SECONDS
while IFS=: read -r file fn; do
  pkg="./$(dirname "${file#./}")"
  echo "-- $fn ($pkg, $fuzztime)"
  CGO_ENABLED=0 go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$mintime" "$pkg"
  n=$((n + 1))
done < <(grep -H -o -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' $targets | sed -E 's/^([^:]+):func (Fuzz[A-Za-z0-9_]+).*/\1:\2/' | sort)
if [ "$n" -eq 0 ]; then echo "fuzz.sh: found no fuzz targets" >&2; exit 1; fi
echo "fuzzed $n targets in $((SECONDS - start))s"
