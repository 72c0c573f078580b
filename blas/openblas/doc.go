// Package openblas registers OpenBLAS (through cgo) as an asym BLAS
// implementation under the name "openblas".
//
// It is compiled only with cgo enabled and the "openblas" build tag
// (go build -tags openblas), and links through pkg-config
// (Debian: apt-get install libopenblas-dev). Without the tag the package is
// empty and [Available] is false, so importing it is always safe.
//
// The hot routines (Sgemm, Sgemv, Sdot, Saxpy, Sscal, Snrm2) call cblas
// directly; every other routine falls back to gonum's pure-Go code.
// Arguments are checked in Go before any pointer reaches C, with gonum's
// panic messages, so a wrong size can never corrupt memory.
package openblas
