// Package testmain is the TestMain of asym's test packages: it selects the
// best registered BLAS (OpenBLAS when built with -tags openblas) or the one
// ASYM_BLAS names, so that tests and benchmarks run on what `asym` would
// use.
package testmain

import (
	"fmt"
	"os"
	"testing"

	"github.com/asymlab/asym/blas"
	_ "github.com/asymlab/asym/blas/openblas" // registers "openblas" with -tags openblas
)

// Run selects the BLAS, runs the tests and exits with their status; a
// BLAS that cannot be selected exits with status 2.
func Run(m *testing.M) {
	if err := blas.UseFromEnv(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
