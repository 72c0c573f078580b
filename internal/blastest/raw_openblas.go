//go:build cgo && openblas

package blastest

/*
#cgo pkg-config: openblas
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
*/
import "C"

import "unsafe"

// RawAvailable reports whether [RawSgemm] calls OpenBLAS (built with
// -tags openblas and cgo).
const RawAvailable = true

// RawSgemm computes c = a·b for tight row-major a (m×k), b (k×n) and c
// (m×n) with one direct cgo call of OpenBLAS's cblas_sgemm, without any of
// asym's wrappers or checks: the baseline of the BLAS benchmarks. It
// panics if a slice is too short.
func RawSgemm(m, n, k int, a, b, c []float32) {
	if len(a) < m*k || len(b) < k*n || len(c) < m*n || m*n*k == 0 {
		panic("blastest: RawSgemm: bad sizes")
	}
	C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasNoTrans, C.blasint(m), C.blasint(n), C.blasint(k),
		1, (*C.float)(unsafe.Pointer(&a[0])), C.blasint(k), (*C.float)(unsafe.Pointer(&b[0])), C.blasint(n),
		0, (*C.float)(unsafe.Pointer(&c[0])), C.blasint(n))
}

// RawSetThreads sets the number of threads OpenBLAS uses per call.
func RawSetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
