package gemmargs

import (
	"testing"

	gblas "gonum.org/v1/gonum/blas"
)

func TestFits(t *testing.T) {
	f := func(n int) []float32 { return make([]float32, n) }
	N, T := gblas.NoTrans, gblas.Trans
	for _, tc := range []struct {
		name    string
		tA, tB  gblas.Transpose
		m, n, k int
		a       []float32
		lda     int
		b       []float32
		ldb     int
		c       []float32
		ldc     int
		want    bool
	}{
		{"exact", N, N, 2, 3, 4, f(8), 4, f(12), 3, f(6), 3, true},
		{"transposed, padded rows", T, T, 2, 3, 4, f(3*4 + 2), 3, f(2*5 + 4), 5, f(6), 3, true},
		{"conj-trans is trans", gblas.ConjTrans, N, 2, 3, 4, f(4 * 2), 2, f(12), 3, f(6), 3, true},
		{"k = 0 (C scaled by beta)", N, N, 2, 3, 0, f(1), 1, nil, 3, f(6), 3, true},
		{"a one short", N, N, 2, 3, 4, f(7), 4, f(12), 3, f(6), 3, false},
		{"c one short", N, N, 2, 3, 4, f(8), 4, f(12), 3, f(5), 3, false},
		{"lda below the columns", N, N, 2, 3, 4, f(8), 3, f(12), 3, f(6), 3, false},
		{"ldc below n", N, N, 2, 3, 4, f(8), 4, f(12), 3, f(6), 2, false},
		{"m = 0", N, N, 0, 3, 4, nil, 4, f(12), 3, nil, 3, false},
		{"bad transpose", 'x', N, 2, 3, 4, f(8), 4, f(12), 3, f(6), 3, false},
	} {
		if got := Fits(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.a, tc.lda, tc.b, tc.ldb, tc.c, tc.ldc); got != tc.want {
			t.Errorf("%s: Fits = %v, want %v", tc.name, got, tc.want)
		}
	}
}
