package sgemm

import (
	"fmt"
	"strings"
	"sync"

	"github.com/asymlab/asym/blas/internal/gemmargs"
	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is gonum's pure-Go float32 BLAS with Sgemm replaced by
// this package's packed, cache-blocked one. It is safe for concurrent use;
// every call runs on the calling goroutine only.
type Implementation struct {
	gonum.Implementation
}

var _ gblas.Float32 = Implementation{}

// microFunc computes the mr×nr tile t = alpha·Σ_p a[p·mr+i]·b[p·nr+j] of
// packed a and b (k ≥ 1 steps) and stores c[i·ldc+j] = t + beta·c[i·ldc+j],
// or t when load is 0 (c is then not read).
type microFunc func(k int, a, b, c *float32, ldc int, alpha, beta float32, load int)

// micro is a micro-kernel of nr columns.
type micro struct {
	nr int
	fn microFunc
}

// kernel is a set of micro-kernels with their cache blocking and packing
// helpers.
type kernel struct {
	name   string
	mr, nr int // register tile: mr rows of C by nr columns
	// kc, mc and nc bound the blocks of k (a packed panel of B stays in
	// L1), of m (the packed block of A stays in L2) and of n (the packed
	// block of B).
	kc, mc, nc int
	// micros are the micro-kernels of mr rows, narrowest first, the last
	// nr wide; a narrower one computes the last panel of B when that is
	// narrow enough.
	micros []micro
	// transpose, when not nil, transposes n/8 8×8 blocks of the 8 rows
	// src, src+lds, … into rows of 8 floats ldd apart at dst (n a multiple
	// of 8); packing uses it for operands stored across the panels.
	transpose func(dst *float32, ldd int, src *float32, lds int, n int)
	// transposeA, when not nil, packs n (a multiple of 8) steps of a panel
	// of A from its mr rows src, src+lds, ….
	transposeA func(dst, src *float32, lds, n int)
	// copies, where they hold width w, copy n rows of w floats, lds apart
	// at src, to dst, w apart: packing uses them for operands stored along
	// the panels.
	copies map[int]func(dst, src *float32, lds, n int)
}

// panel returns the micro-kernel for a panel of B of w ≤ nr columns: the
// narrowest that is wide enough.
func (kr *kernel) panel(w int) micro {
	for _, m := range kr.micros {
		if m.nr >= w {
			return m
		}
	}
	panic("sgemm: panel wider than the register tile")
}

// width returns the number of columns of the panel of B that starts rem
// columns before the end of a block: nr, or all of rem when rem ≤ nr; when
// rem < 2·nr, the last two panels are split more evenly where their
// micro-kernels are no wider in all (8×32 + 8×32 rather than 8×48 + 8×16:
// the narrow kernels load more per multiply-add).
func (kr *kernel) width(rem int) int {
	if rem <= kr.nr {
		return rem
	}
	if rem < 2*kr.nr {
		w := kr.panel((rem + 1) / 2).nr
		if w+kr.panel(rem-w).nr <= kr.nr+kr.panel(rem-kr.nr).nr {
			return w
		}
	}
	return kr.nr
}

// generic stands for gonum's portable Sgemm, used where no assembly kernel
// runs (the purego build tag, other architectures, CPUs without AVX2 and
// FMA): a 4×4 micro-kernel in plain Go, tried first, was several times
// slower than gonum's blocked product (1.2–1.5 GFLOP/s against 4.2–5.5 in
// BenchmarkSgemm with -tags purego).
var generic = kernel{name: "generic"}

// active is the kernel Sgemm uses: the best one the CPU supports.
var active = best()

// best returns the first kernel of kernels(), the fastest supported one.
func best() *kernel {
	k := kernels()
	return &k[0]
}

// Kernel returns the name of the micro-kernel in use: "avx512", "avx2" or
// "generic" (gonum's Sgemm).
func Kernel() string { return active.name }

// Kernels returns the names of the micro-kernels the machine supports,
// fastest first.
func Kernels() []string {
	var names []string
	for _, k := range kernels() {
		names = append(names, k.name)
	}
	return names
}

// UseKernel makes the supported micro-kernel called name the one Sgemm uses
// (for benchmarks and tests; the default is the fastest). It must not be
// called while a product runs.
func UseKernel(name string) error {
	for _, k := range kernels() {
		if k.name == name {
			active = &k
			return nil
		}
	}
	return fmt.Errorf("sgemm: kernel %q is not supported here; supported: %s", name, strings.Join(Kernels(), ", "))
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// op(A) being m×k and op(B) k×n. As in every BLAS, C is not read when beta
// is 0 and A and B are not read when alpha or k is 0. Invalid arguments
// panic with gonum's messages.
func (impl Implementation) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ok := active.micros != nil && k > 0 && alpha != 0 && gemmargs.Fits(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if !ok {
		// gonum panics on invalid arguments with the standard messages,
		// handles the empty and alpha = 0 cases, and is the portable
		// fallback.
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemm(active, tA != gblas.NoTrans, tB != gblas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// workspace holds the packed blocks of A and B and an edge tile.
type workspace struct {
	a, b, tile []float32
}

var pool = sync.Pool{New: func() any { return new(workspace) }}

func growTo(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// blocks splits n into ⌈n/max⌉ nearly equal blocks and returns their size,
// rounded up to a multiple of unit.
func blocks(n, maxSize, unit int) int {
	nb := (n + maxSize - 1) / maxSize
	s := (n + nb - 1) / nb
	return (s + unit - 1) / unit * unit
}

// gemm is the blocked product (arguments valid, m, n, k ≥ 1, alpha ≠ 0).
// Loops, outermost first: blocks of nc columns, blocks of kc steps of k
// (B packed into panels of nr columns), blocks of mc rows (A packed into
// panels of mr rows), panels of B, panels of A, the micro-kernel.
func gemm(kr *kernel, aTrans, bTrans bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := kr.mr, kr.nr
	kc := blocks(k, kr.kc, 1)
	mc := min(blocks(m, kr.mc, mr), (m+mr-1)/mr*mr)
	nc := min(blocks(n, kr.nc, nr), (n+nr-1)/nr*nr)
	ws := pool.Get().(*workspace)
	defer pool.Put(ws)
	ws.a = growTo(ws.a, mc*kc)
	ws.b = growTo(ws.b, kc*nc)
	ws.tile = growTo(ws.tile, mr*nr)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			packB(kr, ws.b, b, ldb, bTrans, pc, kb, jc, nb)
			bet, load := beta, 1
			if pc > 0 {
				bet = 1
			} else if beta == 0 {
				load = 0
			}
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				packA(kr, ws.a, a, lda, aTrans, ic, mb, pc, kb)
				for jr, w := 0, 0; jr < nb; jr += w {
					w = kr.width(nb - jr)
					mk := kr.panel(w)
					bp := &ws.b[jr*kb]
					for ir := 0; ir < mb; ir += mr {
						h := min(mr, mb-ir)
						ap := &ws.a[ir*kb]
						off := (ic+ir)*ldc + jc + jr
						if h == mr && w == mk.nr {
							_ = c[off+(mr-1)*ldc+w-1] // the tile lies in c
							mk.fn(kb, ap, bp, &c[off], ldc, alpha, bet, load)
							continue
						}
						mk.fn(kb, ap, bp, &ws.tile[0], mk.nr, alpha, 0, 0)
						for i := 0; i < h; i++ {
							dst := c[off+i*ldc : off+i*ldc+w]
							src := ws.tile[i*mk.nr : i*mk.nr+w]
							if load == 0 {
								copy(dst, src)
								continue
							}
							for j, v := range src {
								dst[j] = v + bet*dst[j]
							}
						}
					}
				}
			}
		}
	}
}

// packB copies op(B)[pc:pc+kb, jc:jc+nb] into dst as panels of kb steps,
// each as wide as the micro-kernel that computes it (see kernel.width),
// zero-padded; the panel of column jr starts at jr·kb.
func packB(kr *kernel, dst, b []float32, ldb int, trans bool, pc, kb, jc, nb int) {
	for jr, w := 0, 0; jr < nb; jr += w {
		w = kr.width(nb - jr)
		nr := kr.panel(w).nr
		panel := dst[jr*kb : jr*kb+kb*nr]
		if !trans { // op(B)[p][j] = b[p·ldb + j]: rows are contiguous
			if cp := kr.copies[nr]; cp != nil && w == nr {
				src := b[pc*ldb+jc+jr : (pc+kb-1)*ldb+jc+jr+nr]
				cp(&panel[0], &src[0], ldb, kb)
				continue
			}
			for p := 0; p < kb; p++ {
				row := b[(pc+p)*ldb+jc+jr:]
				d := panel[p*nr : p*nr+nr]
				copy(d[:w], row[:w])
				clear(d[w:])
			}
			continue
		}
		// op(B)[p][j] = b[j·ldb + p]: columns of op(B) are contiguous.
		if w < nr {
			clear(panel)
		}
		j0 := 0
		if kb8 := kb &^ 7; kr.transpose != nil && kb8 > 0 {
			for ; j0+8 <= w; j0 += 8 {
				// The 8 rows of b hold kb ≥ kb8 floats from pc on.
				src := b[(jc+jr+j0)*ldb+pc : (jc+jr+j0+7)*ldb+pc+kb]
				kr.transpose(&panel[j0], nr, &src[0], ldb, kb8)
				for j := j0; j < j0+8; j++ {
					col := b[(jc+jr+j)*ldb+pc+kb8 : (jc+jr+j)*ldb+pc+kb]
					for p, v := range col {
						panel[(kb8+p)*nr+j] = v
					}
				}
			}
		}
		for j := j0; j < w; j++ {
			col := b[(jc+jr+j)*ldb+pc:]
			col = col[:kb]
			for p, v := range col {
				panel[p*nr+j] = v
			}
		}
	}
}

// packA copies op(A)[ic:ic+mb, pc:pc+kb] into dst as ⌈mb/mr⌉ panels of kb
// steps of mr floats, zero-padded to a whole panel.
func packA(kr *kernel, dst, a []float32, lda int, trans bool, ic, mb, pc, kb int) {
	mr := kr.mr
	cp := kr.copies[mr]
	for ir := 0; ir < mb; ir += mr {
		h := min(mr, mb-ir)
		panel := dst[ir*kb : ir*kb+kb*mr]
		if trans && cp != nil && h == mr {
			src := a[pc*lda+ic+ir : (pc+kb-1)*lda+ic+ir+mr]
			cp(&panel[0], &src[0], lda, kb)
			continue
		}
		if trans { // op(A)[i][p] = a[p·lda + i]: columns of op(A) are contiguous
			for p := 0; p < kb; p++ {
				col := a[(pc+p)*lda+ic+ir:]
				d := panel[p*mr : p*mr+mr]
				copy(d[:h], col[:h])
				clear(d[h:])
			}
			continue
		}
		if h < mr {
			clear(panel)
		}
		if kb8 := kb &^ 7; kr.transposeA != nil && h == mr && kb8 > 0 {
			src := a[(ic+ir)*lda+pc : (ic+ir+mr-1)*lda+pc+kb]
			kr.transposeA(&panel[0], &src[0], lda, kb8)
			for i := 0; i < mr; i++ {
				row := a[(ic+ir+i)*lda+pc+kb8 : (ic+ir+i)*lda+pc+kb]
				for p, v := range row {
					panel[(kb8+p)*mr+i] = v
				}
			}
			continue
		}
		for i := 0; i < h; i++ {
			row := a[(ic+ir+i)*lda+pc:]
			row = row[:kb]
			for p, v := range row {
				panel[p*mr+i] = v
			}
		}
	}
}
