// Command stepbound measures, layer by layer, the largest eigenvalue λ of
// the input second moment Σ = E[Σ_positions p pᵀ] that scales the
// regularizers' updates of B (p: an input patch of a convolution, or the
// input of a dense layer), after a few training steps of a model. Activation
// alignment's update is 2α(B − W)Σ, so with learning rate η and Nesterov
// momentum 0.9 B stays stable only while η·2α·λ < 2(1+μ)/(1+2μ) ≈ 1.36.
//
// It prints λ with the data terms summed over positions (the official
// code), with the inputs centred over the batch
// (batch_center_backward_input), and averaged over positions (asym's
// default), plus the Null term's E[y yᵀ] for information alignment:
//
//	go run ./scripts/stepbound -model resnet20 -data fashion-mnist
//
// See docs/paper-findings.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
	"github.com/asymlab/asym/train"
)

func main() {
	model := flag.String("model", "resnet20", "architecture")
	dataName := flag.String("data", "fashion-mnist", "data set")
	steps := flag.Int64("steps", 1, "training steps (feedback alignment) before measuring")
	batch := flag.Int("batch", 32, "batch size")
	zeroGamma := flag.Bool("zero-init-residual", false, "start the last batch norm of every residual block at γ = 0")
	flag.Parse()

	c := train.Default()
	c.Model.Arch, c.Model.ZeroInitResidual = *model, *zeroGamma
	c.Data.Name, c.Data.Batch, c.Data.TestLimit = *dataName, *batch, 100
	c.Rule.Name = "fa"
	c.Run.Threads, c.Run.MaxSteps = 1, *steps
	tr, err := train.New(c)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "stepbound")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if _, err := tr.Run(context.Background(), dir); err != nil {
		log.Fatal(err)
	}
	e := tr.E
	fmt.Printf("%-22s %6s %12s %12s %12s %12s\n", "layer", "P", "λ sum", "λ centred", "λ mean", "λ Null sum")
	for _, l := range tr.Net.WeightLayers() {
		x := l.Input() // the last training batch
		var y tensor.Tensor
		l.Apply(e, &y, l.Weight().Value, x)
		n := x.Shape[0]
		p := len(y.Data) / n / l.Weight().Value.Shape[0]
		// Σ: V ↦ E[(V⋆x) ⊗ x]; Null: V ↦ E[y ⊗ (Vᵀ⋆y)].
		moment := func(x *tensor.Tensor) func(dst, v *tensor.Tensor) {
			var u tensor.Tensor
			return func(dst, v *tensor.Tensor) {
				l.Apply(e, &u, v, x)
				l.Outer(e, dst, &u, x, 1/float32(n), 0)
			}
		}
		var z tensor.Tensor
		null := func(dst, v *tensor.Tensor) {
			l.ApplyT(e, &z, v, &y)
			l.Outer(e, dst, &y, &z, 1/float32(n), 0)
		}
		w := l.Weight().Value
		lsum := largest(e, w, moment(x))
		fmt.Printf("%-22s %6d %12.1f %12.1f %12.2f %12.1f\n", l.Name(), p, lsum,
			largest(e, w, moment(centred(e, x))), lsum/float64(p), largest(e, w, null))
	}
}

// largest returns the largest eigenvalue of the symmetric positive
// semi-definite operator op on tensors shaped like w, by power iteration.
func largest(e engine.Backend, w *tensor.Tensor, op func(dst, v *tensor.Tensor)) float64 {
	v := tensor.New(w.Shape...)
	tensor.FillNormal(v, tensor.NewRand(1, 7), 1)
	g := tensor.New(w.Shape...)
	lam := 0.0
	for it := 0; it < 60; it++ {
		op(g, v)
		ng, nv := math.Sqrt(e.Dot(g.Data, g.Data)), math.Sqrt(e.Dot(v.Data, v.Data))
		if ng == 0 {
			return 0
		}
		lam = ng / nv
		copy(v.Data, g.Data)
		e.Scale(float32(1/ng), v.Data)
	}
	return lam
}

// centred returns x minus its batch mean, entry by entry.
func centred(e engine.Backend, x *tensor.Tensor) *tensor.Tensor {
	per, n := x.RowLen(), x.Shape[0]
	m := tensor.New(per)
	for i := 0; i < n; i++ {
		e.Axpy(1/float32(n), x.Data[i*per:(i+1)*per], m.Data)
	}
	out := x.Clone()
	for i := 0; i < n; i++ {
		e.Axpy(-1, m.Data, out.Data[i*per:(i+1)*per])
	}
	return out
}
