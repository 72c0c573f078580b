package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// TestGPTLearnsSequence trains a one-block GPT with plain SGD on
// sequences that repeat the period 4 1 4 3 from a random phase. After a 4
// the next token is 1 or 3 depending on the token before the 4, so a
// model that sees only the current token (a bigram model) cannot do better
// than ln 2 at half the positions, a mean loss of ln 2 / 2 = 0.347; with
// attention to the previous token only the first target of a sequence that
// starts with 4 stays uncertain (ln 2 / 16 = 0.043). The loss must fall
// from about ln 5 = 1.61 to below 0.2. Measured: 1.46 → 0.065 on the last
// batch of 150 steps (2 threads; `go test ./models -run GPTLearns -v`).
func TestGPTLearnsSequence(t *testing.T) {
	const V, T, N = 5, 8, 16
	net, err := Build(Spec{Arch: "gpt", In: []int{T}, Classes: V, Dim: 16, Heads: 2, Depth: 1, MLP: 32}, tensor.NewRand(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	period := []int{4, 1, 4, 3}
	rng := rand.New(rand.NewPCG(3, 3))
	c := &nn.Ctx{E: engine.NewCPU(2), Train: true}
	x := tensor.New(N, T)
	y := make([]int32, N*T)
	var dl tensor.Tensor
	var first, loss float64
	for step := 0; step < 150; step++ {
		for n := 0; n < N; n++ {
			ph := rng.IntN(4)
			for i := 0; i < T; i++ {
				x.Data[n*T+i] = float32(period[(ph+i)%4])
				y[n*T+i] = int32(period[(ph+i+1)%4])
			}
		}
		loss, _, _ = net.Head.Loss(c.E, &dl, net.Forward(c, x), y, 0)
		if step == 0 {
			first = loss
		}
		net.Backward(c, &dl)
		for _, p := range net.Params() {
			if p.Grad != nil {
				c.E.Axpy(-0.3, p.Grad.Data, p.Value.Data)
			}
		}
	}
	t.Logf("loss %.3f → %.3f", first, loss)
	if math.IsNaN(loss) || loss > 0.2 || first < 1.2 {
		t.Errorf("loss %.3f → %.3f, want from above 1.2 to below 0.2", first, loss)
	}
}
