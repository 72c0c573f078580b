//go:build !(cgo && openblas)

package openblas_test

import (
	"strings"
	"testing"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/blas/openblas"
)

// TestUnavailable checks that without the build tag the package is empty
// and selecting OpenBLAS fails with a hint instead.
func TestUnavailable(t *testing.T) {
	if openblas.Available {
		t.Fatal("Available without -tags openblas")
	}
	if _, ok := blas.Lookup("openblas"); ok {
		t.Fatal(`"openblas" registered without -tags openblas`)
	}
	if err := blas.Use("openblas"); err == nil || !strings.Contains(err.Error(), "-tags openblas") {
		t.Errorf("Use(openblas): %v", err)
	}
}
