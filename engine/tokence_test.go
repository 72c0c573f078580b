package engine_test

import (
	"math"
	"testing"

	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/tensor"
)

// TestTokenCrossEntropy checks the token-level loss against the
// classification kernel: without ignored positions it is
// SoftmaxCrossEntropy on the (N·T, K) view, bit for bit; with ignored
// positions it is SoftmaxCrossEntropy on the kept rows only, their gradient
// bit for bit, and ignored rows get an exact zero gradient.
func TestTokenCrossEntropy(t *testing.T) {
	const N, T, K = 3, 5, 7
	rng := newRand(10)
	logits := tensor.FromData(gc.Uniform(rng, N*T*K, -3, 3), N, T, K)
	labels := make([]int32, N*T)
	for i := range labels {
		labels[i] = int32(rng.IntN(K))
	}
	e := engine.NewCPU(1)
	for _, eps := range []float32{0, 0.1} {
		var dTok, dCls tensor.Tensor
		lt, ct, nt := e.TokenCrossEntropy(&dTok, logits, labels, -1, eps)
		lc, cc := e.SoftmaxCrossEntropy(&dCls, logits.View(N*T, K), labels, eps)
		if lt != lc || ct != cc || nt != N*T || !tensor.Equal(dTok.View(N*T, K), &dCls) {
			t.Errorf("eps %g: token loss %v correct %d count %d, classification %v %d", eps, lt, ct, nt, lc, cc)
		}
		// Ignore every third position.
		ign := append([]int32(nil), labels...)
		var keptX []float32
		var keptY []int32
		for i := range ign {
			if i%3 == 0 {
				ign[i] = -1
				continue
			}
			keptX = append(keptX, logits.Data[i*K:(i+1)*K]...)
			keptY = append(keptY, labels[i])
		}
		dTok.Fill(float32(math.NaN()))
		lt, ct, nt = e.TokenCrossEntropy(&dTok, logits, ign, -1, eps)
		lc, cc = e.SoftmaxCrossEntropy(&dCls, tensor.FromData(keptX, len(keptY), K), keptY, eps)
		if lt != lc || ct != cc || nt != len(keptY) {
			t.Errorf("eps %g ignore: loss %v correct %d count %d, want %v %d %d", eps, lt, ct, nt, lc, cc, len(keptY))
		}
		k := 0
		for i := range ign {
			row := dTok.Data[i*K : (i+1)*K]
			for j, v := range row {
				want := float32(0)
				if ign[i] != -1 {
					want = dCls.Data[k*K+j]
				}
				if math.Float32bits(v) != math.Float32bits(want) {
					t.Fatalf("eps %g ignore: dlogits[%d][%d] = %g, want %g", eps, i, j, v, want)
				}
			}
			if ign[i] != -1 {
				k++
			}
		}
	}
	// All ignored: zero loss, zero gradient, zero count.
	all := make([]int32, N*T)
	for i := range all {
		all[i] = -1
	}
	var d tensor.Tensor
	if l, c, n := e.TokenCrossEntropy(&d, logits, all, -1, 0); l != 0 || c != 0 || n != 0 || tensor.Norm2(d.Data) != 0 {
		t.Errorf("all ignored: %v %d %d |d| %g", l, c, n, tensor.Norm2(d.Data))
	}
	mustPanic(t, "engine: TokenCrossEntropy", func() { e.TokenCrossEntropy(nil, logits, labels[:3], -1, 0) })
	bad := append([]int32(nil), labels...)
	bad[2] = K
	mustPanic(t, "engine: TokenCrossEntropy", func() { e.TokenCrossEntropy(nil, logits, bad, -1, 0) })
}
