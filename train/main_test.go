package train

import (
	"fmt"
	"os"
	"testing"

	"github.com/asymlab/asym/blas"
	_ "github.com/asymlab/asym/blas/openblas" // registers "openblas" with -tags openblas
)

func TestMain(m *testing.M) {
	// The best registered BLAS (OpenBLAS with -tags openblas), or ASYM_BLAS:
	// the long convergence tests run on what `asym train` would use.
	if err := blas.UseFromEnv(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
