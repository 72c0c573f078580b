// Package gemmargs checks the arguments of a row-major Sgemm for the
// BLAS implementations that hand them to code outside Go's bounds checks
// (asym's assembly kernels, OpenBLAS through cgo): anything it rejects goes
// to gonum's Sgemm, which panics with the standard message or handles the
// legal corner case.
package gemmargs

import gblas "gonum.org/v1/gonum/blas"

// ValidTrans reports whether t is a transpose value BLAS accepts.
func ValidTrans(t gblas.Transpose) bool {
	return t == gblas.NoTrans || t == gblas.Trans || t == gblas.ConjTrans
}

// Fits reports whether the transposes are valid, m and n are positive, k
// is not negative, and the leading dimensions and lengths of A (m×k, or
// k×m transposed), B (k×n, or n×k) and C (m×n) hold every element the
// product reads or writes.
func Fits(tA, tB gblas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) bool {
	if !ValidTrans(tA) || !ValidTrans(tB) || m <= 0 || n <= 0 || k < 0 {
		return false
	}
	ar, ac := m, k
	if tA != gblas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != gblas.NoTrans {
		br, bc = n, k
	}
	return lda >= max(1, ac) && ldb >= max(1, bc) && ldc >= max(1, n) &&
		len(a) >= (ar-1)*lda+ac && len(b) >= (br-1)*ldb+bc && len(c) >= (m-1)*ldc+n
}
