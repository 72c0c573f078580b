//go:build cgo && openblas

package openblas_test

import (
	"testing"

	"gonum.org/v1/gonum/blas/gonum"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/blas/openblas"
	"github.com/asymlab/asym/internal/blastest"
)

// TestConformance runs the BLAS conformance suite on OpenBLAS: Sgemm
// against the float64 reference, the overridden level-1/2 routines against
// gonum, and the argument checks (gonum's panics, before any pointer
// reaches C, even for short slices with spare capacity).
func TestConformance(t *testing.T) {
	openblas.SetThreads(1)
	impl := openblas.Implementation{}
	t.Run("Sgemm", func(t *testing.T) { blastest.Sgemm(t, impl) })
	t.Run("Level12", func(t *testing.T) { blastest.Level12(t, impl) })
	t.Run("Panics", func(t *testing.T) { blastest.Panics(t, impl) })
}

// TestAgreesWithGo compares OpenBLAS's Sgemm with gonum's on the product
// sizes of asym's networks, single- and multi-threaded.
func TestAgreesWithGo(t *testing.T) {
	for _, th := range []int{1, 2} {
		openblas.SetThreads(th)
		blastest.Agree(t, openblas.Implementation{}, gonum.Implementation{})
	}
	openblas.SetThreads(1)
}

func TestRegistered(t *testing.T) {
	if !openblas.Available {
		t.Fatal("Available is false in an openblas build")
	}
	if _, ok := blas.Lookup("openblas"); !ok {
		t.Fatal(`"openblas" is not registered`)
	}
	defer blas.Use("go")
	if err := blas.Use(""); err != nil || blas.CurrentName() != "openblas" {
		t.Errorf("Use(\"\") = %v, current %q; want openblas", err, blas.CurrentName())
	}
}
