package sgemm

import (
	"fmt"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"

	"github.com/asymlab/asym/internal/blastest"
)

// forEachKernel runs fn with every micro-kernel the machine supports made
// the active one, each with its own cache blocking and with blocks so small
// that every loop of the blocked product runs several times (several blocks
// of k, so beta is applied once and later blocks accumulate).
func forEachKernel(t *testing.T, fn func(t *testing.T)) {
	prev := active
	defer func() { active = prev }()
	for _, k := range kernels() {
		small := k
		small.kc, small.mc, small.nc = 13, 2*k.mr, 2*k.nr
		variants := []kernel{k, small}
		if k.micros == nil { // gonum's Sgemm: no blocking of ours
			variants = variants[:1]
		}
		for _, kr := range variants {
			active = &kr
			t.Run(fmt.Sprintf("%s/kc=%d,mc=%d,nc=%d", kr.name, kr.kc, kr.mc, kr.nc), fn)
		}
	}
}

// TestConformance runs the BLAS conformance suite (every transpose case,
// odd sizes, padded leading dimensions, alpha and beta, against a float64
// reference) on every kernel.
func TestConformance(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		impl := Implementation{}
		blastest.Sgemm(t, impl)
		blastest.Panics(t, impl)
		blastest.Agree(t, impl, gonum.Implementation{})
	})
}

// TestKernels checks that the machine's best kernel is the active one and
// that the generic kernel is always available.
func TestKernels(t *testing.T) {
	ks := kernels()
	if Kernel() != ks[0].name {
		t.Errorf("Kernel() = %q, want the first supported, %q", Kernel(), ks[0].name)
	}
	if ks[len(ks)-1].name != "generic" {
		t.Errorf("the last kernel is %q, want generic", ks[len(ks)-1].name)
	}
	prev := active
	defer func() { active = prev }()
	for _, name := range Kernels() {
		if err := UseKernel(name); err != nil || Kernel() != name {
			t.Errorf("UseKernel(%q): %v, Kernel() = %q", name, err, Kernel())
		}
	}
	if err := UseKernel("sse9"); err == nil || !strings.Contains(err.Error(), "supported: ") {
		t.Errorf("UseKernel(sse9): %v", err)
	}
	t.Logf("kernels: %v", Kernels())
}

func TestBlocks(t *testing.T) {
	for _, c := range []struct{ n, max, unit, want int }{
		{784, 256, 1, 196}, {256, 256, 1, 256}, {257, 256, 1, 129}, {1, 256, 8, 8}, {130, 144, 8, 136}, {300, 144, 8, 104},
	} {
		if got := blocks(c.n, c.max, c.unit); got != c.want {
			t.Errorf("blocks(%d, %d, %d) = %d, want %d", c.n, c.max, c.unit, got, c.want)
		}
	}
}
