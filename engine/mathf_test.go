package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// ulps returns |got − want| in units of the float32 spacing at want.
func ulps(got float32, want float64) float64 {
	w := float32(want)
	sp := math.Nextafter32(float32(math.Abs(float64(w))), float32(math.Inf(1))) - float32(math.Abs(float64(w)))
	return math.Abs(float64(got)-want) / float64(sp)
}

// gelu64 and geluGrad64 are the float64 references.
func gelu64(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }
func geluGrad64(x float64) float64 {
	return 0.5*math.Erfc(-x/math.Sqrt2) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
}

// withKernels runs f with the native vector kernels (where the CPU has
// them) and with the plain Go loops.
func withKernels(t *testing.T, f func(t *testing.T)) {
	for _, name := range []string{"native", "go"} {
		if name == "native" && nativeSIMD().gelu == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			saved := vec
			defer func() { vec = saved }()
			if name == "go" {
				vec = simdKernels{}
			} else {
				vec = nativeSIMD()
			}
			f(t)
		})
	}
}

// TestMathfAccuracy checks expf, GELU and its derivative against float64
// references on a dense grid, through the slice functions (so the vector
// kernels and their masked tails are checked too): expf within 2 ulp
// wherever the result is a normal float32; GELU and its derivative, where
// they exceed 1e-30 in magnitude, within a relative error of
// 1e-6 + 2x²·2⁻²⁴ (the erfc fit's 1.2e-7, and the rounding of −x²/2,
// which grows with x² in the far tail), the derivative's relative to
// Φ(x) + |x|·φ(x) since it crosses zero.
func TestMathfAccuracy(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		var xs []float32
		for v := -103.0; v <= 88.5; v += 0.00731 {
			xs = append(xs, float32(v))
		}
		y := make([]float32, len(xs))
		expShiftSlice(y, xs, 0)
		worst := 0.0
		for i, x := range xs {
			want := math.Exp(float64(x))
			if want < 0x1p-126 {
				if math.Abs(float64(y[i])-want) > 0x1p-149 {
					t.Fatalf("expf(%g) = %g, want %g", x, y[i], want)
				}
				continue
			}
			worst = max(worst, ulps(y[i], want))
		}
		if worst > 2 {
			t.Errorf("expf: %.2f ulp, want ≤ 2", worst)
		}
		xs = xs[:0]
		for v := -14.0; v <= 14; v += 0.000913 {
			xs = append(xs, float32(v))
		}
		xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1e30, -1e30)
		y, dx, ones := make([]float32, len(xs)), make([]float32, len(xs)), make([]float32, len(xs))
		for i := range ones {
			ones[i] = 1
		}
		geluSlice(y, xs)
		geluGradSlice(dx, ones, xs)
		var wy, wd float64
		for i, x := range xs {
			for _, c := range []struct {
				what  string
				got   float32
				want  float64
				worst *float64
			}{{"gelu", y[i], gelu64(float64(x)), &wy}, {"gelu'", dx[i], geluGrad64(float64(x)), &wd}} {
				if math.Abs(c.want) < 1e-30 {
					if math.Abs(float64(c.got)) > 1e-30 {
						t.Fatalf("%s(%g) = %g, want %g", c.what, x, c.got, c.want)
					}
					continue
				}
				// The scale of the condition: |Φ| + |x·φ| for the derivative
				// (which crosses 0 near x = −0.75), and a tolerance that
				// grows as x²·u in the far tail, where −x²/2 is rounded.
				scale := math.Abs(c.want)
				if c.what == "gelu'" {
					xf := float64(x)
					scale = 0.5*math.Erfc(-xf/math.Sqrt2) + math.Abs(xf)*math.Exp(-xf*xf/2)/math.Sqrt(2*math.Pi)
				}
				tol := 1e-6 + 2*float64(x)*float64(x)*0x1p-24
				if e := math.Abs(float64(c.got)-c.want) / scale / tol; e > *c.worst {
					*c.worst = e
				}
			}
		}
		t.Logf("expf %.2f ulp; gelu error %.3g, gelu' error %.3g of the tolerance", worst, wy, wd)
		if wy > 1 || wd > 1 {
			t.Errorf("gelu error %.3g, gelu' error %.3g times the tolerance", wy, wd)
		}
		nan := float32(math.NaN())
		geluSlice(y[:1], []float32{nan})
		geluGradSlice(dx[:1], []float32{1}, []float32{nan})
		if y[0] == y[0] || dx[0] == dx[0] {
			t.Errorf("NaN input gives gelu %g, gelu' %g", y[0], dx[0])
		}
	})
}

// TestMathfRowKernels checks every row kernel of mathf.go against a float64
// computation for every length from 0 to 70 (full vectors and every masked
// tail), and that no kernel writes past the end of its output.
func TestMathfRowKernels(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		u := func(n int, lo, hi float64) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(lo + (hi-lo)*rng.Float64())
			}
			return v
		}
		const guard = 5
		out := func(n int) []float32 {
			v := make([]float32, n+guard)
			for i := range v {
				v[i] = -7
			}
			return v
		}
		checkGuard := func(what string, v []float32, n int) {
			for _, g := range v[n:] {
				if g != -7 {
					t.Fatalf("%s n=%d: wrote past the end", what, n)
				}
			}
		}
		near := func(what string, n int, got float32, want, scale float64) {
			if math.Abs(float64(got)-want) > 4e-6*scale {
				t.Fatalf("%s n=%d: got %g, want %g", what, n, got, want)
			}
		}
		for n := 0; n <= 70; n++ {
			x, dy, g, b := u(n, -3, 3), u(n, -1, 1), u(n, 0.5, 1.5), u(n, -1, 1)
			mx := float64(maxSlice(x))
			want := math.Inf(-1)
			for _, v := range x {
				want = max(want, float64(v))
			}
			if mx != want {
				t.Fatalf("max n=%d: %g, want %g", n, mx, want)
			}
			y := out(n)
			s := expShiftSlice(y[:n], x, 0.5)
			var ws float64
			for i, v := range x {
				e := math.Exp(float64(v) - 0.5)
				ws += e
				near("expShift", n, y[i], e, e)
			}
			checkGuard("expShift", y, n)
			near("expShift sum", n, s, ws, ws)
			y = out(n)
			scaleSlice(y[:n], x, 0.25)
			for i, v := range x {
				near("scale", n, y[i], 0.25*float64(v), 1)
			}
			checkGuard("scale", y, n)
			var wd float64
			for i, v := range x {
				wd += float64(v) * float64(dy[i])
			}
			near("dot", n, dotSlice(x, dy), wd, float64(n)*3)
			y = out(n)
			mulSubSlice(y[:n], x, dy, 0.3)
			for i, v := range x {
				near("mulSub", n, y[i], float64(v)*(float64(dy[i])-0.3), 4)
			}
			checkGuard("mulSub", y, n)
			const mu, is = 0.2, 1.7
			y = out(n)
			normAffineSlice(y[:n], x, g, b, mu, is)
			var sg, sgx float64
			for i, v := range x {
				xh := (float64(v) - mu) * is
				near("normAffine", n, y[i], xh*float64(g[i])+float64(b[i]), 10)
				sg += float64(g[i]) * float64(dy[i])
				sgx += float64(g[i]) * float64(dy[i]) * xh
			}
			checkGuard("normAffine", y, n)
			gs, gsx := lnDotsSlice(x, dy, g, mu, is)
			near("lnDots sg", n, gs, sg, float64(n)*2)
			near("lnDots sgx", n, gsx, sgx, float64(n)*10)
			y = out(n)
			lnGradSlice(y[:n], x, dy, g, mu, is, 0.1, 0.2)
			for i, v := range x {
				xh := (float64(v) - mu) * is
				near("lnGrad", n, y[i], is*(float64(g[i])*float64(dy[i])-0.1-xh*0.2), 10)
			}
			checkGuard("lnGrad", y, n)
			accg, accb := make([]float64, n+guard), make([]float64, n+guard)
			for i := range accg {
				accg[i], accb[i] = 1, 2
			}
			lnAccSlice(accg[:n], accb[:n], x, dy, mu, is)
			accF64Slice(accb[:n], dy)
			for i, v := range x {
				xh := (float64(v) - mu) * is
				if math.Abs(accg[i]-1-xh*float64(dy[i])) > 1e-5 || accb[i] != 2+2*float64(dy[i]) {
					t.Fatalf("lnAcc/accF64 n=%d: element %d is %g, %g", n, i, accg[i], accb[i])
				}
			}
			for i := n; i < n+guard; i++ {
				if accg[i] != 1 || accb[i] != 2 {
					t.Fatalf("lnAcc/accF64 n=%d: wrote past the end", n)
				}
			}
			y = out(n)
			geluSlice(y[:n], x)
			checkGuard("gelu", y, n)
			y = out(n)
			geluGradSlice(y[:n], dy, x)
			checkGuard("geluGrad", y, n)
			for i, v := range x {
				near("geluGrad", n, y[i], float64(dy[i])*geluGrad64(float64(v)), 2)
			}
		}
	})
}

// TestGELUPositionInvariant checks that an element's GELU does not depend
// on its position in the slice (vector body or masked tail).
func TestGELUPositionInvariant(t *testing.T) {
	x := make([]float32, 37)
	for i := range x {
		x[i] = float32(i)*0.37 - 6
	}
	full := make([]float32, len(x))
	geluSlice(full, x)
	for off := 1; off < len(x); off++ {
		part := make([]float32, len(x)-off)
		geluSlice(part, x[off:])
		for i, v := range part {
			if math.Float32bits(v) != math.Float32bits(full[off+i]) {
				t.Fatalf("offset %d: element %d is %v, %v at offset 0", off, i, v, full[off+i])
			}
		}
	}
	_ = fmt.Sprint()
}

func BenchmarkGELUKernels(b *testing.B) {
	for _, n := range []int{4096, 1 << 20} {
		x, dy, y := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(i%1000)*0.006 - 3
			dy[i] = 1
		}
		b.Run(fmt.Sprintf("gelu/%d", n), func(b *testing.B) {
			for b.Loop() {
				geluSlice(y, x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
		})
		b.Run(fmt.Sprintf("geluGrad/%d", n), func(b *testing.B) {
			for b.Loop() {
				geluGradSlice(y, dy, x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
		})
		b.Run(fmt.Sprintf("add/%d", n), func(b *testing.B) {
			for b.Loop() {
				addSlice(y, dy, x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
		})
	}
}
