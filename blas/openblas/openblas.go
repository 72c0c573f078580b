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
	switch t {
	case gblas.NoTrans:
		return C.CblasNoTrans
	case gblas.Trans, gblas.ConjTrans:
		return C.CblasTrans
	}
	panic("blas: illegal transpose")
}

func checkMatrix(name byte, rows, cols int, a []float32, lda int) {
	if lda < max(1, cols) {
		panic("blas: bad ld" + string(name))
	}
	if rows > 0 && cols > 0 && len(a) < lda*(rows-1)+cols {
		panic("blas: insufficient length of " + string(name))
	}
}

func checkVector(name byte, n int, x []float32, inc int) {
	if inc == 0 {
		panic("blas: zero inc" + string(name))
	}
	if inc < 0 {
		inc = -inc
	}
	if n > 0 && len(x) <= (n-1)*inc {
		panic("blas: insufficient length of " + string(name))
	}
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C (row-major).
func (Implementation) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("blas: negative dimension")
	}
	ar, ac := m, k
	if tA != gblas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != gblas.NoTrans {
		br, bc = n, k
	}
	checkMatrix('a', ar, ac, a, lda)
	checkMatrix('b', br, bc, b, ldb)
	checkMatrix('c', m, n, c, ldc)
	if m == 0 || n == 0 {
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
func (Implementation) Sgemv(tA gblas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	if m < 0 || n < 0 {
		panic("blas: negative dimension")
	}
	checkMatrix('a', m, n, a, lda)
	lx, ly := n, m
	if tA != gblas.NoTrans {
		lx, ly = m, n
	}
	checkVector('x', lx, x, incX)
	checkVector('y', ly, y, incY)
	if m == 0 || n == 0 {
		return
	}
	C.cblas_sgemv(C.CblasRowMajor, trans(tA), C.blasint(m), C.blasint(n), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&x[0])), C.blasint(incX), C.float(beta),
		(*C.float)(unsafe.Pointer(&y[0])), C.blasint(incY))
}

// Sdot returns Σ x_i·y_i.
func (Implementation) Sdot(n int, x []float32, incX int, y []float32, incY int) float32 {
	if n <= 0 {
		return 0
	}
	checkVector('x', n, x, incX)
	checkVector('y', n, y, incY)
	return float32(C.cblas_sdot(C.blasint(n), (*C.float)(unsafe.Pointer(&x[0])), C.blasint(incX),
		(*C.float)(unsafe.Pointer(&y[0])), C.blasint(incY)))
}

// Saxpy computes y += alpha·x.
func (Implementation) Saxpy(n int, alpha float32, x []float32, incX int, y []float32, incY int) {
	if n <= 0 {
		return
	}
	checkVector('x', n, x, incX)
	checkVector('y', n, y, incY)
	C.cblas_saxpy(C.blasint(n), C.float(alpha), (*C.float)(unsafe.Pointer(&x[0])), C.blasint(incX),
		(*C.float)(unsafe.Pointer(&y[0])), C.blasint(incY))
}

// Sscal computes x *= alpha.
func (Implementation) Sscal(n int, alpha float32, x []float32, incX int) {
	if n <= 0 {
		return
	}
	if incX <= 0 {
		panic("blas: non-positive incX")
	}
	checkVector('x', n, x, incX)
	C.cblas_sscal(C.blasint(n), C.float(alpha), (*C.float)(unsafe.Pointer(&x[0])), C.blasint(incX))
}

// Snrm2 returns the Euclidean norm of x.
func (Implementation) Snrm2(n int, x []float32, incX int) float32 {
	if n <= 0 {
		return 0
	}
	if incX <= 0 {
		panic("blas: non-positive incX")
	}
	checkVector('x', n, x, incX)
	return float32(C.cblas_snrm2(C.blasint(n), (*C.float)(unsafe.Pointer(&x[0])), C.blasint(incX)))
}
