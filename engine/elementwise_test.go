package engine_test

import (
	"math"
	"testing"

	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/tensor"
)

// elemSizes includes lengths below and above the threshold where
// elementwise kernels split over workers (2¹⁵).
var elemSizes = []int{1, 37, 1 << 15, 3*(1<<15) + 5}

// TestReLU checks y = max(x, 0) and δx = δy·[y > 0] exactly (no rounding
// is involved), including at x = 0 where the gradient is 0.
func TestReLU(t *testing.T) {
	forEachKernelSet(t, func(t *testing.T) {
		for _, n := range elemSizes {
			rng := newRand(uint64(n))
			x := gc.Uniform(rng, n, -1, 1)
			x[0] = 0
			if n > 3 { // in the vectorised part: −0, ±∞ must give 0, +∞, 0
				x[1], x[2], x[3] = float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1))
			}
			dy := gc.Uniform(rng, n, -1, 1)
			for _, th := range threadCounts {
				e := engine.NewCPU(th)
				y, dx := nanTensor(n), nanTensor(n)
				e.ReLU(y, tensor.FromData(x, n))
				e.ReLUGrad(dx, tensor.FromData(dy, n), y)
				for i, v := range x {
					wy, wd := float32(0), float32(0)
					if v > 0 {
						wy, wd = v, dy[i]
					}
					if math.Float32bits(y.Data[i]) != math.Float32bits(wy) || dx.Data[i] != wd {
						t.Fatalf("n %d threads %d [%d]: x %g dy %g → y %g dx %g, want %g %g", n, th, i, v, dy[i], y.Data[i], dx.Data[i], wy, wd)
					}
				}
			}
		}
	})
}

// TestElementwise checks Add, Mul, Axpy, Scale and Dot. Add, Mul and Scale
// round once (bound u·|result|), Axpy twice (γ₂·(|y|+|αx|)); Dot sums exact
// float64 products in float64 (bound 2⁻⁵³·n·Σ|terms|, here 1e-12 relative).
func TestElementwise(t *testing.T) {
	forEachKernelSet(t, func(t *testing.T) {
		for _, n := range elemSizes {
			rng := newRand(uint64(n) + 1)
			a, b := gc.Uniform(rng, n, -2, 2), gc.Uniform(rng, n, -2, 2)
			a64, b64 := gc.F64(a), gc.F64(b)
			for _, th := range threadCounts {
				e := engine.NewCPU(th)
				at, bt := tensor.FromData(a, n), tensor.FromData(b, n)
				dst := nanTensor(n)
				e.Add(dst, at, bt)
				gc.Close(t, "Add", dst.Data, gc.Add(a64, b64), nil, gc.U, 0)
				e.Mul(dst, at, bt)
				gc.Close(t, "Mul", dst.Data, gc.Mul(a64, b64), nil, gc.U, 0)

				y := append([]float32(nil), b...)
				e.Axpy(-0.3, a, y)
				want, mag := make([]float64, n), make([]float64, n)
				for i := range want {
					want[i] = b64[i] + float64(float32(-0.3))*a64[i]
					mag[i] = math.Abs(b64[i]) + 0.3*math.Abs(a64[i])
				}
				gc.Close(t, "Axpy", y, want, mag, gc.Gamma(2), 0)

				y = append(y[:0], a...)
				e.Scale(1.7, y)
				for i := range want {
					want[i] = float64(float32(1.7)) * a64[i]
				}
				gc.Close(t, "Scale", y, want, nil, gc.U, 0)

				got := e.Dot(a, b)
				wd, md := gc.Dot(a64, b64), gc.Dot(gc.Abs(a64), gc.Abs(b64))
				if math.Abs(got-wd) > 1e-12*md {
					t.Errorf("Dot n %d: got %.17g want %.17g", n, got, wd)
				}
			}
		}
		e := engine.NewCPU(1)
		mustPanic(t, "engine: Axpy", func() { e.Axpy(1, make([]float32, 2), make([]float32, 3)) })
		mustPanic(t, "engine: Dot", func() { e.Dot(make([]float32, 2), make([]float32, 3)) })
		mustPanic(t, "tensor: Add", func() { e.Add(tensor.New(2), tensor.New(2), tensor.New(3)) })
	})
}

// TestBias checks AddBias and BiasGrad on (N, C) and (N, C, H, W) shapes.
// AddBias rounds once; BiasGrad sums in float64 and rounds once, plus once
// more for the beta term.
func TestBias(t *testing.T) { forEachKernelSet(t, testBias) }

func testBias(t *testing.T) {
	for _, shape := range [][]int{{5, 3}, {300, 37}, {4, 3, 2, 5}, {64, 8, 9, 9}} {
		n, c := shape[0], shape[1]
		s := tensor.Numel(shape) / (n * c)
		rng := newRand(uint64(tensor.Numel(shape)))
		y0 := gc.Uniform(rng, tensor.Numel(shape), -1, 1)
		b := gc.Uniform(rng, c, -1, 1)
		want := gc.AddBias(gc.F64(y0), gc.F64(b), n, c, s)
		wantDB, magDB := make([]float64, c), make([]float64, c)
		prev := gc.Uniform(rng, c, -1, 1)
		for i, v := range y0 {
			ch := i / s % c
			wantDB[ch] += float64(v)
			magDB[ch] += math.Abs(float64(v))
		}
		for _, th := range threadCounts {
			e := engine.NewCPU(th)
			y := tensor.FromData(append([]float32(nil), y0...), shape...)
			e.AddBias(y, b)
			gc.Close(t, "AddBias", y.Data, want, nil, gc.U, 0)
			db := make([]float32, c)
			e.BiasGrad(db, tensor.FromData(y0, shape...), 0)
			gc.Close(t, "BiasGrad", db, wantDB, magDB, gc.U, 1e-12)
			acc := append([]float32(nil), prev...)
			e.BiasGrad(acc, tensor.FromData(y0, shape...), 0.5)
			w2, m2 := make([]float64, c), make([]float64, c)
			for ch := range w2 {
				w2[ch] = 0.5*float64(prev[ch]) + wantDB[ch]
				m2[ch] = 0.5*math.Abs(float64(prev[ch])) + magDB[ch]
			}
			gc.Close(t, "BiasGrad beta", acc, w2, m2, gc.Gamma(3), 1e-12)
		}
	}
}

// TestSoftmaxCrossEntropy checks the loss, the accuracy count and the
// gradient of the mean smoothed cross-entropy against the float64
// reference and its central differences.
//
// The kernel forms v − max in float32 (relative error u, i.e. an absolute
// error of at most u·R in an exponent, R the logit range) and does the rest
// in float64, then rounds (p − q)/N to float32. Hence |δloss| ≤ u·(R+1)
// and |δ(∂L/∂v)| ≤ u·(2R+2)·(p + |p − q|)/N. The central difference with
// step 1e-4 has truncation error h²/6·|L”'| ≤ 2e-10 (|L”'| ≤ 1/N) and
// rounding error below 1e-11; 1e-9 covers both.
func TestSoftmaxCrossEntropy(t *testing.T) {
	for _, tc := range []struct {
		n, k  int
		eps   float32
		scale float64
	}{
		{4, 3, 0, 2}, {4, 3, 0.1, 2}, {7, 10, 0.1, 5}, {3, 5, 0.3, 20}, {1, 2, 0, 1},
	} {
		rng := newRand(uint64(tc.n*100 + tc.k))
		logits := gc.Uniform(rng, tc.n*tc.k, -tc.scale, tc.scale)
		labels := make([]int32, tc.n)
		wantCorrect := 0
		for i := range labels {
			labels[i] = int32(rng.IntN(tc.k))
			arg := 0
			for j := 1; j < tc.k; j++ {
				if logits[i*tc.k+j] > logits[i*tc.k+arg] {
					arg = j
				}
			}
			if arg == int(labels[i]) {
				wantCorrect++
			}
		}
		l64 := gc.F64(logits)
		eps := float64(tc.eps)
		wantLoss := gc.SoftmaxCE(l64, labels, tc.k, eps)
		num := gc.Grads(func(a [][]float64) float64 { return gc.SoftmaxCE(a[0], labels, tc.k, eps) }, [][]float64{l64}, 1e-4)[0]
		mag := make([]float64, len(num))
		var R float64
		for i := 0; i < tc.n; i++ {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range l64[i*tc.k : (i+1)*tc.k] {
				lo, hi = min(lo, v), max(hi, v)
			}
			R = max(R, hi-lo)
		}
		for i := range mag {
			// p − q = N·grad, q ≥ 0, so p ≤ |N·grad| + q ≤ |N·grad| + 1.
			mag[i] = (2*math.Abs(num[i])*float64(tc.n) + 1) / float64(tc.n)
		}
		dl := nanTensor(tc.n, tc.k)
		e := engine.NewCPU(1)
		loss, correct := e.SoftmaxCrossEntropy(dl, tensor.FromData(logits, tc.n, tc.k), labels, tc.eps)
		if math.Abs(loss-wantLoss) > gc.U*(R+1) {
			t.Errorf("%+v: loss %.9g, want %.9g", tc, loss, wantLoss)
		}
		if correct != wantCorrect {
			t.Errorf("%+v: %d correct, want %d", tc, correct, wantCorrect)
		}
		gc.Close(t, "dlogits", dl.Data, num, mag, gc.U*(2*R+2), 1e-9)
		loss2, _ := e.SoftmaxCrossEntropy(nil, tensor.FromData(logits, tc.n, tc.k), labels, tc.eps)
		if loss2 != loss {
			t.Errorf("%+v: loss without gradient %v differs from %v", tc, loss2, loss)
		}
	}
	e := engine.NewCPU(1)
	mustPanic(t, "engine: SoftmaxCrossEntropy", func() {
		e.SoftmaxCrossEntropy(nil, tensor.New(2, 3), []int32{0, 3}, 0)
	})
	mustPanic(t, "engine: SoftmaxCrossEntropy", func() {
		e.SoftmaxCrossEntropy(nil, tensor.New(2, 3), []int32{0}, 0)
	})
}

// TestSoftmaxCrossEntropyExtreme checks that huge logits neither overflow
// nor lose the gradient: softmax([1000, 0]) = [1, e⁻¹⁰⁰⁰].
func TestSoftmaxCrossEntropyExtreme(t *testing.T) {
	var dl tensor.Tensor
	loss, correct := engine.NewCPU(1).SoftmaxCrossEntropy(&dl, tensor.FromData([]float32{1000, 0, -1000, 0}, 2, 2), []int32{1, 1}, 0)
	if math.Abs(loss-500) > 1e-9 || correct != 1 {
		t.Errorf("loss %v correct %d, want 500 and 1", loss, correct)
	}
	want := []float32{0.5, -0.5, 0, 0}
	for i, v := range dl.Data {
		if v != want[i] {
			t.Errorf("dlogits %v, want %v", dl.Data, want)
			break
		}
	}
}

// TestAddReLU checks that the fused AddReLU is bit-identical to Add
// followed by ReLU, signed zeros and infinities included.
func TestAddReLU(t *testing.T) {
	forEachKernelSet(t, func(t *testing.T) {
		for _, n := range elemSizes {
			rng := newRand(uint64(n) + 7)
			a, b := gc.Uniform(rng, n, -1, 1), gc.Uniform(rng, n, -1, 1)
			if n > 3 {
				a[1], b[1] = float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1)) // −0 + −0 = −0 → 0
				a[2], a[3] = float32(math.Inf(1)), float32(math.Inf(-1))
			}
			for _, th := range threadCounts {
				e := engine.NewCPU(th)
				at, bt := tensor.FromData(a, n), tensor.FromData(b, n)
				want, got := nanTensor(n), nanTensor(n)
				e.Add(want, at, bt)
				e.ReLU(want, want)
				e.AddReLU(got, at, bt)
				for i := range want.Data {
					if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
						t.Fatalf("n %d threads %d [%d]: %v + %v → %v, want %v", n, th, i, a[i], b[i], got.Data[i], want.Data[i])
					}
				}
			}
		}
	})
}

func TestTopKCorrect(t *testing.T) {
	logits := tensor.FromData([]float32{
		0.1, 0.5, 0.2, 0.9, // label 3: top-1
		0.1, 0.5, 0.2, 0.9, // label 1: second
		0.1, 0.5, 0.2, 0.9, // label 0: last
		1, 1, 1, 1, // label 2: tied with all, counts
	}, 4, 4)
	labels := []int32{3, 1, 0, 2}
	for _, tc := range []struct{ k, want int }{{1, 2}, {2, 3}, {3, 3}, {4, 4}, {10, 4}} {
		if got := engine.TopKCorrect(logits, labels, tc.k); got != tc.want {
			t.Errorf("top-%d: %d correct, want %d", tc.k, got, tc.want)
		}
	}
}
