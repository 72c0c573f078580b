// Package gradcheck holds the test-only numerical references of asym's
// compute core: naive float64 implementations of every layer's forward
// pass, central finite differences of them (through gonum's diff/fd), and
// comparisons of float32 results against float64 references under
// explicit, documented error bounds.
//
// # Error bounds
//
// The kernels under test compute in float32, whose unit roundoff is
// u = 2⁻²⁴ ([U]). A sum of n float32 products, accumulated in any order and
// with or without fused multiply-adds, differs from the exact value by at
// most γₙ·Σ|terms| with γₙ = n·u/(1−n·u) ([Gamma]; Higham, Accuracy and
// Stability of Numerical Algorithms, §3.1). For a bilinear operation
// y = f(x, w) (a convolution, a dense layer) the sum of the absolute terms
// of every output is f(|x|, |w|), and for the gradient of L = Σ r⊙y it is
// the gradient of Σ |r|⊙f(|x|, |w|): tests obtain these magnitudes by
// running the same reference on absolute values ([Abs]) and then require
// |got − want| ≤ γₙ·magnitude for every element ([Close]). Such a bound
// can only be met by a kernel that sums exactly the right terms, while a
// missing or misplaced term (of size comparable to the magnitude divided by
// n) exceeds it as long as n²·u ≪ 1.
//
// The package imports only the standard library, gonum and package tensor,
// so that tests of every compute package can use it.
package gradcheck
