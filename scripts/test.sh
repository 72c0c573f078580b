#!/usr/bin/env bash
# Runs asym's whole test suite, as CI does:
#   1. formatting, go vet (every build configuration) and staticcheck;
#   2. the tests in the pure-Go build (CGO_ENABLED=0), those of the
#      numeric packages again without assembly (-tags purego), then every
#      fuzz target for a short fixed time (scripts/fuzz.sh);
#   3. the tests in the cgo build with OpenBLAS and MPI (-tags openblas,mpi;
#      includes the mpirun -np 2 data-parallel tests);
#   4. the long tests (convergence on real data), in the OpenBLAS build.
# It needs Go ≥ 1.26 and, for steps 3–4 and a few tests, Debian packages;
# run as root on Debian it installs the missing ones itself.
# Set ASYM_SKIP_LONG=1 to skip step 4 (about 10 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

packages=(pkg-config libopenblas-dev openmpi-bin libopenmpi-dev dataset-fashion-mnist chromium python3-numpy python3-torch python3-torchvision)
missing=()
pkg-config --exists openblas 2>/dev/null || missing+=(pkg-config libopenblas-dev)
pkg-config --exists ompi 2>/dev/null && command -v mpirun >/dev/null || missing+=(openmpi-bin libopenmpi-dev)
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
command -v chromium >/dev/null || missing+=(chromium)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || missing+=(python3-torch python3-torchvision)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing: ${missing[*]}; install them with: sudo apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi

echo "== gofmt, go vet, staticcheck"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
if [ -d .git ]; then
  # Generated code must match its generator.
  go generate ./engine ./blas/sgemm
  for f in engine/kernels_amd64.s blas/sgemm/kernels_amd64.s; do
    git diff --exit-code -- "$f" || { echo "$f is stale: run go generate ./$(dirname "$f")" >&2; exit 1; }
  done
fi
CGO_ENABLED=0 go vet ./...
go vet -tags openblas,mpi ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags openblas,mpi ./...

echo "== tests: pure Go (CGO_ENABLED=0)"
CGO_ENABLED=0 go build ./...
CGO_ENABLED=0 go test -count=1 ./...

echo "== tests: pure Go without assembly (-tags purego: the portable GEMM, conv and vector loops)"
CGO_ENABLED=0 go vet -tags purego ./...
CGO_ENABLED=0 go test -count=1 -tags purego ./blas/... ./engine/ ./nn/ ./rules/ ./train/

echo "== fuzz: every fuzz target for ${FUZZTIME:-10s} (about 2 minutes)"
scripts/fuzz.sh

echo "== tests: cgo + OpenBLAS + MPI"
go test -count=1 -tags openblas,mpi ./...

if [ "${ASYM_SKIP_LONG:-}" != 1 ]; then
  echo "== long tests: convergence on real data (OpenBLAS)"
  ASYM_LONG=1 go test -count=1 -tags openblas -timeout 40m -run 'Long' ./...
fi
echo "== all tests passed"
