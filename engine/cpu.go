package engine

import (
	"runtime"
	"sync"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/asymlab/asym/blas"
)

// CPU is the CPU backend. Create it with [NewCPU].
type CPU struct {
	threads int
	scratch []workerScratch
	packed  []float32   // packed weights of the direct convolution
	offs    []int32     // tap shifts of the direct convolution
	phase   []phaseTaps // taps of each phase of a strided input gradient
	plan    extPlan     // layout of the direct convolution in progress
	lnAcc   []float64   // LayerNorm parameter-gradient sums
	biasAcc []float64   // dense bias-gradient sums
}

// workerScratch is the reusable memory of one worker.
type workerScratch struct {
	cols    []float32 // im2col columns
	tmp     []float32 // gathered outputs / gradients
	partial []float32 // per-worker weight-gradient accumulator
	direct  directScratch
	bnAcc   []float64 // per-channel batch-norm sums
	bnCoef  []float32 // per-channel batch-norm coefficients
}

// NewCPU returns a CPU backend that splits work over threads goroutines
// (threads ≤ 0 means runtime.GOMAXPROCS(0)).
func NewCPU(threads int) *CPU {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &CPU{threads: threads, scratch: make([]workerScratch, threads)}
}

// Name returns "cpu/" followed by the BLAS in use.
func (c *CPU) Name() string { return "cpu/" + blas.CurrentName() }

// Threads returns the number of workers.
func (c *CPU) Threads() int { return c.threads }

// grow returns s resized to n elements, reallocating only when needed.
func grow(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// split returns the half-open range of items [lo, hi) that worker w of nw
// handles out of n: contiguous and deterministic.
func split(n, nw, w int) (lo, hi int) {
	q, r := n/nw, n%nw
	lo = w*q + min(w, r)
	hi = lo + q
	if w < r {
		hi++
	}
	return lo, hi
}

// parallel runs fn(w, lo, hi) for every worker w that has a non-empty range
// of the n items, using at most c.threads workers and only as many as give
// each at least minItems items. It returns the number of workers used;
// worker w always gets the same range for the same n.
func (c *CPU) parallel(n, minItems int, fn func(w, lo, hi int)) int {
	nw := c.threads
	if minItems < 1 {
		minItems = 1
	}
	if m := n / minItems; m < nw {
		nw = max(m, 1)
	}
	if nw == 1 {
		fn(0, 0, n)
		return 1
	}
	var wg sync.WaitGroup
	for w := 1; w < nw; w++ {
		lo, hi := split(n, nw, w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(w, lo, hi)
		}()
	}
	lo, hi := split(n, nw, 0)
	fn(0, lo, hi)
	wg.Wait()
	return nw
}

func tr(t bool) gblas.Transpose {
	if t {
		return gblas.Trans
	}
	return gblas.NoTrans
}

// gemm is a single-threaded call into the selected BLAS with tight leading
// dimensions, or explicit ones.
func gemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
			} else {
				for j := range row {
					row[j] *= beta
				}
			}
		}
		return
	}
	blas.Current().Sgemm(tr(tA), tr(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// minGemmWork is the number of multiply-adds below which a product is not
// worth splitting over workers.
const minGemmWork = 1 << 16

// MatMul computes c = alpha·op(a)·op(b) + beta·c, splitting the rows of c
// over workers (or its columns when c has fewer rows than workers). Each
// element of c is computed by one worker and the split depends only on the
// sizes and the number of threads, so the result is reproducible for a
// given thread count. It may differ in the last bits between thread counts:
// a BLAS rounds a product differently depending on the shape of the
// sub-product it is given (package sgemm computes the edge tiles of C apart
// from the full ones, OpenBLAS picks different kernels).
func (c *CPU) MatMul(transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, cm []float32) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	if len(cm) < m*n {
		panic("engine: MatMul: c too short")
	}
	work := m * n * max(k, 1)
	if c.threads == 1 || work < minGemmWork || k == 0 { // k = 0: a or b may be empty, not sliceable
		gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cm, n)
		return
	}
	if m >= c.threads*4 || m >= n {
		rowsPer := max(1, minGemmWork/max(n*max(k, 1), 1))
		c.parallel(m, rowsPer, func(_, lo, hi int) {
			var as []float32
			if transA {
				as = a[lo:]
			} else {
				as = a[lo*lda:]
			}
			gemm(transA, transB, hi-lo, n, k, alpha, as, lda, b, ldb, beta, cm[lo*n:], n)
		})
		return
	}
	colsPer := max(1, minGemmWork/max(m*max(k, 1), 1))
	c.parallel(n, colsPer, func(_, lo, hi int) {
		var bs []float32
		if transB {
			bs = b[lo*ldb:]
		} else {
			bs = b[lo:]
		}
		gemm(transA, transB, m, hi-lo, k, alpha, a, lda, bs, ldb, beta, cm[lo:], n)
	})
}

var _ Backend = (*CPU)(nil)
