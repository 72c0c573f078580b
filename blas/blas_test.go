package blas_test

import (
	"strings"
	"testing"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/internal/blastest"
)

func goImpl(t testing.TB) blas.Impl {
	impl, ok := blas.Lookup("go")
	if !ok {
		t.Fatal(`"go" is not registered`)
	}
	return impl
}

// TestGoConformance runs the BLAS conformance suite on the pure-Go
// implementation.
func TestGoConformance(t *testing.T) {
	impl := goImpl(t).Float32
	t.Run("Sgemm", func(t *testing.T) { blastest.Sgemm(t, impl) })
	t.Run("Level12", func(t *testing.T) { blastest.Level12(t, impl) })
	t.Run("Panics", func(t *testing.T) { blastest.Panics(t, impl) })
}

func TestUse(t *testing.T) {
	defer func() {
		if err := blas.Use("go"); err != nil {
			t.Fatal(err)
		}
	}()
	if err := blas.Use("go"); err != nil || blas.CurrentName() != "go" || blas.Current() == nil {
		t.Fatalf("Use(go): %v, current %q", err, blas.CurrentName())
	}
	// Without the openblas package linked in, auto means go.
	for _, name := range []string{"", "auto"} {
		if err := blas.Use(name); err != nil || blas.CurrentName() != "go" {
			t.Errorf("Use(%q): %v, current %q", name, err, blas.CurrentName())
		}
	}
	err := blas.Use("mkl")
	if err == nil || !strings.Contains(err.Error(), `unknown implementation "mkl"`) || !strings.Contains(err.Error(), "valid: auto, go") {
		t.Errorf("Use(mkl): %v", err)
	}
	if err := blas.Use("openblas"); err == nil || !strings.Contains(err.Error(), "-tags openblas") {
		t.Errorf("Use(openblas) without the package: %v", err)
	}
	if blas.CurrentName() != "go" {
		t.Errorf("a failed Use changed the implementation to %q", blas.CurrentName())
	}
	t.Setenv("ASYM_BLAS", "go")
	if err := blas.UseFromEnv(); err != nil {
		t.Errorf("UseFromEnv(go): %v", err)
	}
	t.Setenv("ASYM_BLAS", "nope")
	if err := blas.UseFromEnv(); err == nil {
		t.Errorf("UseFromEnv(nope) succeeded")
	}
	if got := strings.Join(blas.Names(), ","); got != "go" {
		t.Errorf("Names() = %s", got)
	}
	if _, ok := blas.Lookup("nope"); ok {
		t.Errorf("Lookup(nope) found something")
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "blas: ") {
			t.Errorf("Register of a duplicate name: panic %v", r)
		}
	}()
	blas.Register(goImpl(t))
}
