package engine_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
)

// sentinel marks destination elements a row kernel must not touch.
var sentinel = float32(math.Inf(-1))

// checkRows compares dst with want element by element (bit for bit: the
// row kernels only move data) and reports the first difference.
func checkRows(t *testing.T, what string, dst, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d is %v, want %v", what, i, dst[i], want[i])
		}
	}
}

// TestRowKernels checks CopyRows, GatherRows2 and InterleaveRows2 against
// plain loops, for widths around the 16- and 32-float vector chunks, zero
// margins up to 16 (the vector kernels' limit) and beyond, and checks that
// nothing outside the written rows changes.
func TestRowKernels(t *testing.T) {
	forEachKernelSet(t, func(t *testing.T) {
		rng := newRand(5)
		for _, rows := range []int{0, 1, 3} {
			for _, n := range []int{0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 50} {
				for _, z := range [][2]int{{0, 0}, {1, 0}, {0, 2}, {3, 5}, {16, 16}, {17, 1}} {
					name := fmt.Sprintf("rows %d n %d zeros %v", rows, n, z)
					w := z[0] + n + z[1]
					dld, sld := w+3, 2*n+2
					src := gc.Uniform(rng, rows*sld+1, -1, 1)
					mk := func() []float32 {
						d := make([]float32, rows*dld+4)
						for i := range d {
							d[i] = sentinel
						}
						return d
					}

					dst, want := mk(), mk()
					engine.CopyRows(dst, dld, src, sld, rows, n, z[0], z[1])
					for r := 0; r < rows; r++ {
						row := want[r*dld : r*dld+w]
						clear(row)
						copy(row[z[0]:], src[r*sld:r*sld+n])
					}
					checkRows(t, "CopyRows "+name, dst, want)

					dst, want = mk(), mk()
					engine.GatherRows2(dst, dld, src, sld, rows, n, z[0], z[1])
					for r := 0; r < rows; r++ {
						row := want[r*dld : r*dld+w]
						clear(row)
						for i := 0; i < n; i++ {
							row[z[0]+i] = src[r*sld+2*i]
						}
					}
					checkRows(t, "GatherRows2 "+name, dst, want)

					if z != [2]int{0, 0} {
						continue
					}
					b := gc.Uniform(rng, rows*sld+1, -1, 1)
					dst, want = mk(), mk()
					engine.InterleaveRows2(dst, dld, src, b, sld, rows, n)
					for r := 0; r < rows; r++ {
						for i := 0; i < n; i++ {
							if i%2 == 0 {
								want[r*dld+i] = src[r*sld+i/2]
							} else {
								want[r*dld+i] = b[r*sld+i/2]
							}
						}
					}
					checkRows(t, "InterleaveRows2 "+name, dst, want)
				}
			}
		}
	})
}

// TestDirectKernels checks the micro-kernels of the direct convolution
// (AVX-512 where available, else the portable ones) against float64 sums
// of the same products, on random shifts. Each result is a float32 sum of
// T products (T taps, or 16n for the dot kernel), so it lies within
// γ_T·Σ|terms| of the exact sum whatever the order (FMA included).
func TestDirectKernels(t *testing.T) {
	forEachKernelSet(t, func(t *testing.T) {
		rng := newRand(9)
		b := gc.Uniform(rng, 4000, -1, 1)
		for i := 0; ; i++ {
			const taps, ldc = 37, 100
			offs := make([]int32, taps)
			for k := range offs {
				offs[k] = int32(rng.IntN(3000))
			}
			a := gc.Uniform(rng, taps*16, -1, 1)
			c := make([]float32, 16*ldc)
			mr, nr, ok := engine.TileKernel(i, a, b, offs, c, ldc)
			if !ok {
				if i == 0 && engine.DotKernel(nil, 0, nil, nil, 0, &[24]float32{}) {
					t.Fatal("no tile kernel, but a dot kernel")
				}
				break
			}
			want, mag := make([]float64, mr*nr), make([]float64, mr*nr)
			got := make([]float32, mr*nr)
			for r := 0; r < mr; r++ {
				for j := 0; j < nr; j++ {
					for k, o := range offs {
						p := float64(a[k*mr+r]) * float64(b[int(o)+j])
						want[r*nr+j] += p
						mag[r*nr+j] += math.Abs(p)
					}
					got[r*nr+j] = c[r*ldc+j]
				}
			}
			gc.Close(t, fmt.Sprintf("tile %dx%d", mr, nr), got, want, mag, gc.Gamma(taps), 0)
		}

		const n, ldd = 9, 150
		dy := gc.Uniform(rng, 4*ldd, -1, 1)
		offs := []int32{0, 1, 17, 500, 2999, 3000}
		var out [24]float32
		if !engine.DotKernel(dy, ldd, b, offs, n, &out) {
			return
		}
		want, mag := make([]float64, 24), make([]float64, 24)
		for o := 0; o < 4; o++ {
			for k, off := range offs {
				for i := 0; i < 16*n; i++ {
					p := float64(dy[o*ldd+i]) * float64(b[int(off)+i])
					want[o*6+k] += p
					mag[o*6+k] += math.Abs(p)
				}
			}
		}
		gc.Close(t, "dot 4x6", out[:], want, mag, gc.Gamma(16*n), 0)
	})
}
