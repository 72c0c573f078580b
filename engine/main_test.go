package engine_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/internal/testmain"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

func TestMain(m *testing.M) { testmain.Run(m) }

// forEachBLAS runs fn once per registered BLAS implementation, selected
// process-wide (tests of this package do not run in parallel).
func forEachBLAS(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	prev := blas.CurrentName()
	defer func() {
		if err := blas.Use(prev); err != nil {
			t.Fatal(err)
		}
	}()
	for _, name := range blas.Names() {
		if err := blas.Use(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, fn)
	}
}

// forEachKernelSet runs fn once per kernel configuration of
// engine.KernelSets (AVX-512 direct convolution and vector loops where the
// CPU has them, the portable direct convolution, im2col + BLAS), selected
// process-wide.
func forEachKernelSet(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	for _, name := range engine.KernelSets() {
		restore := engine.UseKernels(name)
		t.Run(name, fn)
		restore()
	}
}

// threadCounts are the worker counts kernels are checked with: the serial
// path and an odd split that leaves workers with unequal shares.
var threadCounts = []int{1, 3}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// nanTensor returns a tensor of the given shape filled with NaN, to check
// that a kernel overwrites (rather than accumulates into) its output.
func nanTensor(shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	t.Fill(float32(math.NaN()))
	return t
}

// mustPanic checks that fn panics with a message starting with prefix.
func mustPanic(t *testing.T, prefix string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("no panic, want one starting with %q", prefix)
			return
		}
		msg := fmt.Sprint(r)
		if len(msg) < len(prefix) || msg[:len(prefix)] != prefix {
			t.Errorf("panic %q, want prefix %q", msg, prefix)
		}
	}()
	fn()
}

var _ engine.Backend = engine.NewCPU(1)
