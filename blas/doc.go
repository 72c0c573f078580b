// Package blas selects the float32 BLAS that asym's compute engine calls.
//
// # Overview
//
// asym speaks to BLAS through gonum's [gblas.Float32] interface. The default
// implementation is gonum's pure-Go one, so asym builds and runs with
// CGO_ENABLED=0. OpenBLAS is available through cgo in the sibling package
// blas/openblas, built only with the "openblas" build tag; importing that
// package registers it under the name "openblas".
//
// The choice is process-wide: call [Use] once at start-up (the CLI's --blas
// flag or the ASYM_BLAS environment variable), never while a computation
// runs. The engine parallelises over goroutines itself and always calls the
// BLAS from one goroutine per work item, so implementations are asked to run
// single-threaded (see [Register]).
package blas
