// Package blas selects the float32 BLAS that asym's compute engine calls.
//
// # Overview
//
// asym speaks to BLAS through gonum's [gblas.Float32] interface. The default
// implementation, "go", is gonum's pure-Go one with Sgemm replaced by
// package sgemm's (packed, cache-blocked, with AVX-512 or AVX2+FMA
// micro-kernels in Go assembly, chosen at run time), so asym builds and runs
// with CGO_ENABLED=0 and multiplies matrices about as fast as OpenBLAS. OpenBLAS is available through cgo in the sibling package
// blas/openblas, built only with the "openblas" build tag; importing that
// package registers it under the name "openblas".
//
// The choice is process-wide: call [Use] once at start-up (the CLI's --blas
// flag or the ASYM_BLAS environment variable), never while a computation
// runs. The engine parallelises over goroutines itself and always calls the
// BLAS from one goroutine per work item, so implementations are asked to run
// single-threaded (see [Register]).
package blas
