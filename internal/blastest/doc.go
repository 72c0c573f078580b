// Package blastest is a conformance suite for asym's float32 BLAS
// implementations (package blas): it checks an implementation of gonum's
// blas.Float32 against float64 references, against gonum's pure-Go code,
// and for argument checking, and it offers a direct cgo call of OpenBLAS's
// cblas_sgemm (with -tags openblas) as a baseline for benchmarks.
//
// Tolerances follow the rounding-error bound of a float32 sum of n
// products, γₙ·Σ|terms| with γₙ = n·u/(1−n·u), u = 2⁻²⁴ (see package
// gradcheck).
package blastest
