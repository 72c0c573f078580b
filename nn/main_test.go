package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/internal/testmain"

	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

func TestMain(m *testing.M) { testmain.Run(m) }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xa5)) }

// trainCtx returns a training context on a CPU backend with th threads.
func trainCtx(th int) *nn.Ctx {
	return &nn.Ctx{E: engine.NewCPU(th), Train: true, Seed: 1, Step: 1}
}

// randomTensor returns a tensor of the given shape with values in
// U(lo, hi).
func randomTensor(rng *rand.Rand, lo, hi float64, shape ...int) *tensor.Tensor {
	return tensor.FromData(gc.Uniform(rng, tensor.Numel(shape), lo, hi), shape...)
}

// fill gives every trainable parameter of l (recursively) values drawn
// from U(lo, hi), so that biases and BN parameters are not at their
// symmetric initial values.
func fillParams(l nn.Layer, rng *rand.Rand, lo, hi float64) {
	nn.Walk(l, func(l nn.Layer) {
		for _, p := range l.Params() {
			if p.Trainable() && p.Kind != nn.KindNorm {
				copy(p.Value.Data, gc.Uniform(rng, p.Value.Len(), lo, hi))
			}
		}
	})
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
		if msg := fmt.Sprint(r); len(msg) < len(prefix) || msg[:len(prefix)] != prefix {
			t.Errorf("panic %q, want prefix %q", msg, prefix)
		}
	}()
	fn()
}
