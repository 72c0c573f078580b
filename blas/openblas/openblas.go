//go:build cgo && openblas

package openblas

/*
#cgo pkg-config: openblas
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
*/
import "C"

import (
	"unsafe"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/blas/internal/gemmargs"
)

// Available reports whether this binary was built with OpenBLAS.
const Available = true

// Implementation is OpenBLAS behind gonum's blas.Float32 interface. The
// embedded gonum implementation serves the routines not overridden here.
type Implementation struct {
	gonum.Implementation
}

func init() {
	blas.Register(blas.Impl{
		Name:         "openblas",
		Float32:      Implementation{},
		SingleThread: func() { C.openblas_set_num_threads(1) },
	})
}

// SetThreads sets the number of threads OpenBLAS itself may use per call.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

func trans(t gblas.Transpose) C.enum_CBLAS_TRANSPOSE {
	if t == gblas.NoTrans {
		return C.CblasNoTrans
	}
	return C.CblasTrans // Trans or ConjTrans (the same for real matrices), checked by the callers
}

// vecOK reports whether x holds the n ≥ 1 elements x[0], x[|inc|], ...,
// x[(n−1)·|inc|] (BLAS addresses negative increments from the end).
func vecOK(n int, x []float32, inc int) bool {
	if inc < 0 {
		inc = -inc
	}
	return n >= 1 && inc != 0 && len(x) > (n-1)*inc
}

// Every routine below calls C only for arguments that are valid and
// non-empty. It hands anything else to gonum's implementation, which
// panics with gonum's message for an invalid argument and handles the
// legal corner cases (empty sizes, negative increments of Sscal and Snrm2)
// exactly as the pure-Go BLAS does. No pointer reaches C unless the Go
// slices hold every element it reads or writes.

// Sgemm computes C = alpha·op(A)·op(B) + beta·C (row-major).
func (i Implementation) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !gemmargs.Fits(tA, tB, m, n, k, a, lda, b, ldb, c, ldc) {
		i.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var pa, pb *float32
	if k > 0 {
		pa, pb = &a[0], &b[0]
	}
	C.cblas_sgemm(C.CblasRowMajor, trans(tA), trans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(pa)), C.blasint(lda),
		(*C.float)(unsafe.Pointer(pb)), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

// Sgemv computes y = alpha·op(A)·x + beta·y (row-major).
func (i Implementation) Sgemv(tA gblas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	lx, ly := n, m
	if tA != gblas.NoTrans {
		lx, ly = m, n
	}
	ok := gemmargs.ValidTrans(tA) && m > 0 && n > 0 && lda >= n && len(a) >= (m-1)*lda+n &&
		vecOK(lx, x, incX) && vecOK(ly, y, incY)
	if !ok {
		i.Implementation.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	C.cblas_sgemv(C.CblasRowMajor, trans(tA), C.blasint(m), C.blasint(n), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&x[0])), C.blasint(incX), C.float(beta),
		(*C.float)(unsafe.Pointer(&y[0])), C.blasint(incY))
}

// Sdot returns Σ x_i·y_i.
func (i Implementation) Sdot(n int, x []float32, incX int, y []float32, incY int) float32 {
	if !vecOK(n, x, incX) || !vecOK(n, y, incY) {
		return i.Implementation.Sdot(n, x, incX, y, incY)
	}
	return float32(C.cblas_sdot(C.blasint(n), (*C.float)(unsafe.Pointer(&x[0])), C.blasint(incX),
		(*C.float)(unsafe.Pointer(&y[0])), C.blasint(incY)))
}

// Saxpy computes y += alpha·x.
func (i Implementation) Saxpy(n int, alpha float32, x []float32, incX int, y []float32, incY int) {
	if !vecOK(n, x, incX) || !vecOK(n, y, incY) {
		i.Implementation.Saxpy(n, alpha, x, incX, y, incY)
		return
	}
	C.cblas_saxpy(C.blasint(n), C.float(alpha), (*C.float)(unsafe.Pointer(&x[0])), C.blasint(incX),
		(*C.float)(unsafe.Pointer(&y[0])), C.blasint(incY))
}

// Sscal computes x *= alpha.
func (i Implementation) Sscal(n int, alpha float32, x []float32, incX int) {
	if incX <= 0 || !vecOK(n, x, incX) {
		i.Implementation.Sscal(n, alpha, x, incX)
		return
	}
	C.cblas_sscal(C.blasint(n), C.float(alpha), (*C.float)(unsafe.Pointer(&x[0])), C.blasint(incX))
}

// Snrm2 returns the Euclidean norm of x.
func (i Implementation) Snrm2(n int, x []float32, incX int) float32 {
	if incX <= 0 || !vecOK(n, x, incX) {
		return i.Implementation.Snrm2(n, x, incX)
	}
	return float32(C.cblas_snrm2(C.blasint(n), (*C.float)(unsafe.Pointer(&x[0])), C.blasint(incX)))
}
