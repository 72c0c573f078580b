package gradcheck

import "math"

// This file holds the float64 references of the Transformer layers. Their
// tests compare float32 results normwise: |got − want| ≤ rel·max|want| +
// abs ([MaxAbs]), because softmax, layer normalisation and GELU are not
// sums of products whose absolute terms give elementwise magnitudes.

// MaxAbs returns a slice of len(x) copies of max_i |x_i|, the magnitude of
// a normwise comparison with [Close].
func MaxAbs(x []float64) []float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	out := make([]float64, len(x))
	for i := range out {
		out[i] = m
	}
	return out
}

// BatchedMatMul returns c_i = op(a_i)·op(b_i) for batch stored matrices
// (op(a_i) m×k, op(b_i) k×n, row-major).
func BatchedMatMul(transA, transB bool, batch, m, n, k int, a, b []float64) []float64 {
	c := make([]float64, batch*m*n)
	for p := 0; p < batch; p++ {
		A, B := a[p*m*k:], b[p*k*n:]
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for l := 0; l < k; l++ {
					av := A[i*k+l]
					if transA {
						av = A[l*m+i]
					}
					bv := B[l*n+j]
					if transB {
						bv = B[j*k+l]
					}
					s += av * bv
				}
				c[p*m*n+i*n+j] = s
			}
		}
	}
	return c
}

// Softmax returns softmax over the last dimension (length s) of x, whose
// rows come in groups of t (the score matrices of attention); with causal
// (t = s) entry (i, j) of a group with j > i is 0.
func Softmax(x []float64, t, s int, causal bool) []float64 {
	y := make([]float64, len(x))
	for r := 0; r < len(x)/s; r++ {
		n := s
		if causal {
			n = r%t + 1
		}
		row := x[r*s : r*s+n]
		mx, sum := maxSumExp(row)
		for j, v := range row {
			y[r*s+j] = math.Exp(v-mx) / sum
		}
	}
	return y
}

// LayerNorm returns γ⊙(x − μ)/√(σ² + eps) + β over every vector of length
// d of x (μ, σ² the vector's mean and biased variance).
func LayerNorm(x, gamma, beta []float64, d int, eps float64) []float64 {
	y := make([]float64, len(x))
	for r := 0; r < len(x)/d; r++ {
		row := x[r*d : (r+1)*d]
		var mu, v2 float64
		for _, v := range row {
			mu += v
		}
		mu /= float64(d)
		for _, v := range row {
			v2 += (v - mu) * (v - mu)
		}
		is := 1 / math.Sqrt(v2/float64(d)+eps)
		for j, v := range row {
			y[r*d+j] = gamma[j]*(v-mu)*is + beta[j]
		}
	}
	return y
}

// GELU returns x·Φ(x) elementwise.
func GELU(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
	}
	return y
}

// Attention returns multi-head self-attention without projections: for q,
// k, v of shape (n, t, h·dh) (heads side by side in the last dimension, as
// PyTorch's reshapes give), head j of sample i at position a is
// Σ_b softmax_b(q_a·k_b/√dh) v_b over b ≤ a if causal, else over all b;
// the output has q's shape.
func Attention(q, k, v []float64, n, t, h, dh int, causal bool) []float64 {
	d := h * dh
	y := make([]float64, len(q))
	scale := 1 / math.Sqrt(float64(dh))
	for i := 0; i < n; i++ {
		for j := 0; j < h; j++ {
			for a := 0; a < t; a++ {
				m := t
				if causal {
					m = a + 1
				}
				s := make([]float64, m)
				for b := 0; b < m; b++ {
					var dot float64
					for c := 0; c < dh; c++ {
						dot += q[(i*t+a)*d+j*dh+c] * k[(i*t+b)*d+j*dh+c]
					}
					s[b] = dot * scale
				}
				p := Softmax(s, 1, m, false)
				for c := 0; c < dh; c++ {
					var acc float64
					for b := 0; b < m; b++ {
						acc += p[b] * v[(i*t+b)*d+j*dh+c]
					}
					y[(i*t+a)*d+j*dh+c] = acc
				}
			}
		}
	}
	return y
}
