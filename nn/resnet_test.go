package nn_test

import (
	"math/rand/v2"
	"testing"

	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// A small ResNet: a conv-BN-ReLU stem on 3×6×6 inputs, a residual block
// with an identity shortcut, an optional tap, a residual block with stride
// 2 and a 1×1 projection shortcut, global average pooling, flatten and a
// dense layer to 3 classes.
const (
	rnN, rnC, rnH, rnW = 4, 3, 6, 6
	rnClasses          = 3
	rnSmooth           = 0.1 // label smoothing of the loss
)

func conv(name string, in, out, k, stride, pad int, rng *rand.Rand) *nn.Conv2d {
	return nn.NewConv2d(name, nn.ConvSpec{In: in, Out: out, KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}, nn.HeNormal, rng)
}

// buildResNet returns the model; tap, if non-nil, is placed between the
// two blocks.
func buildResNet(rng *rand.Rand, tap *nn.Tap) *nn.Sequential {
	root := nn.NewSequential("",
		conv("conv1", 3, 4, 3, 1, 1, rng), nn.NewBatchNorm("bn1", 4, false), nn.NewReLU("relu"),
		nn.NewResidual("layer1.0", nn.NewSequential("layer1.0.branch",
			conv("layer1.0.conv1", 4, 4, 3, 1, 1, rng), nn.NewBatchNorm("layer1.0.bn1", 4, false), nn.NewReLU("layer1.0.relu1"),
			conv("layer1.0.conv2", 4, 4, 3, 1, 1, rng), nn.NewBatchNorm("layer1.0.bn2", 4, false),
		), nil, nn.NewReLU("layer1.0.relu")),
	)
	if tap != nil {
		root.Add(tap)
	}
	root.Add(
		nn.NewResidual("layer2.0", nn.NewSequential("layer2.0.branch",
			conv("layer2.0.conv1", 4, 8, 3, 2, 1, rng), nn.NewBatchNorm("layer2.0.bn1", 8, false), nn.NewReLU("layer2.0.relu1"),
			conv("layer2.0.conv2", 8, 8, 3, 1, 1, rng), nn.NewBatchNorm("layer2.0.bn2", 8, false),
		), nn.NewSequential("layer2.0.downsample",
			conv("layer2.0.downsample.0", 4, 8, 1, 2, 0, rng), nn.NewBatchNorm("layer2.0.downsample.1", 8, false),
		), nn.NewReLU("layer2.0.relu")),
		nn.NewGlobalAvgPool("avgpool"), nn.NewFlatten("flatten"),
		nn.NewLinear("fc", 8, rnClasses, true, nn.HeNormal, rng),
	)
	// Random γ and β, so that no BN is at its symmetric initial state.
	nn.Walk(root, func(l nn.Layer) {
		if bn, ok := l.(*nn.BatchNorm); ok {
			copy(bn.Gamma().Value.Data, gc.Uniform(rng, bn.C, 0.5, 1.5))
			copy(bn.Params()[1].Value.Data, gc.Uniform(rng, bn.C, -0.3, 0.3))
		}
	})
	return root
}

// refResNet is the float64 reference of buildResNet's model: it returns the
// logits and appends the sign pattern of every ReLU input to pattern.
func refResNet(p map[string][]float64, x []float64, pattern *[]bool, eps float64) []float64 {
	n := rnN
	cv := func(name string, in []float64, g gc.Conv) []float64 {
		g.N = n
		return g.Forward(in, p[name+".weight"])
	}
	bn := func(name string, in []float64, c int) []float64 {
		y, _, _ := gc.BatchNorm(in, p[name+".weight"], p[name+".bias"], n, c, len(in)/(n*c), eps)
		return y
	}
	relu := func(in []float64) []float64 {
		for _, v := range in {
			*pattern = append(*pattern, v > 0)
		}
		y, _ := gc.ReLU(in)
		return y
	}
	g33 := func(in, out, hw int) gc.Conv {
		return gc.Conv{C: in, H: hw, W: hw, Out: out, KH: 3, KW: 3, PH: 1, PW: 1}
	}
	h := relu(bn("bn1", cv("conv1", x, g33(3, 4, 6)), 4))
	b := relu(bn("layer1.0.bn1", cv("layer1.0.conv1", h, g33(4, 4, 6)), 4))
	b = bn("layer1.0.bn2", cv("layer1.0.conv2", b, g33(4, 4, 6)), 4)
	h = relu(gc.Add(b, h))
	down := g33(4, 8, 6)
	down.SH, down.SW = 2, 2
	b = relu(bn("layer2.0.bn1", cv("layer2.0.conv1", h, down), 8))
	b = bn("layer2.0.bn2", cv("layer2.0.conv2", b, g33(8, 8, 3)), 8)
	s := bn("layer2.0.downsample.1", cv("layer2.0.downsample.0", h, gc.Conv{C: 4, H: 6, W: 6, Out: 8, KH: 1, KW: 1, SH: 2, SW: 2}), 8)
	h = relu(gc.Add(b, s))
	return gc.Linear(gc.GlobalAvg(h, n, 8, 9), p["fc.weight"], p["fc.bias"], n, 8, rnClasses)
}

// trainable returns the trainable parameters of l in forward order.
func trainable(l nn.Layer) []*nn.Param {
	var ps []*nn.Param
	nn.Walk(l, func(l nn.Layer) {
		for _, p := range l.Params() {
			if p.Trainable() {
				ps = append(ps, p)
			}
		}
	})
	return ps
}

// resnetProblem is one batch for the small ResNet.
type resnetProblem struct {
	x      *tensor.Tensor
	labels []int32
}

func newResnetProblem(rng *rand.Rand) resnetProblem {
	labels := make([]int32, rnN)
	for i := range labels {
		labels[i] = int32(rng.IntN(rnClasses))
	}
	return resnetProblem{x: randomTensor(rng, -1, 1, rnN, rnC, rnH, rnW), labels: labels}
}

// step runs a training forward and backward pass of root (with the input
// gradient) and returns the loss, the logits and δx.
func (pr resnetProblem) step(c *nn.Ctx, root nn.Layer) (loss float64, logits, dx *tensor.Tensor) {
	logits = root.Forward(c, pr.x)
	var dl tensor.Tensor
	loss, _ = c.E.SoftmaxCrossEntropy(&dl, logits, pr.labels, rnSmooth)
	return loss, logits, root.Backward(c, &dl, true)
}

// TestResNetGradients checks the whole network: its float32 logits and
// loss against the float64 reference network built from the reference
// operations, and the gradients of the loss with respect to the input and
// every parameter against central differences of the reference.
//
// The central differences use step 1e-6; the guard below fails the test
// if any of them moved a ReLU input across zero (a kink), so the
// reference is smooth around every evaluation point and the difference
// error is below 1e-9 (rounding 2⁻⁵³·|L|/h ≈ 1e-10; truncation
// h²/6·|L”'| negligible).
//
// Tolerance: no per-element bound is derived for a whole network; each
// gradient tensor must satisfy max|got − want| ≤ 2⁻¹⁴·max|want| (≈ 6e-5).
// The longest float32 sum is the stem's weight gradient over N·H·W = 144
// positions, within γ₁₄₄ ≈ 8.6e-6 of the sum of its absolute terms, which
// for these inputs is at most about 5 times the largest gradient; the
// errors that BN backward passes propagate are of the same order. The
// measured errors (logged) are about 1e-6, while a wrong term, index or
// missing path gives errors of order 1e-2 to 1.
func TestResNetGradients(t *testing.T) {
	const tol = 0x1p-14
	rng := newRand(7)
	root := buildResNet(rng, nil)
	pr := newResnetProblem(rng)
	ps := trainable(root)
	eps := float64(float32(1e-5))

	names := make([]string, len(ps))
	args := [][]float64{gc.F64(pr.x.Data)}
	for i, p := range ps {
		names[i] = p.Name
		args = append(args, gc.F64(p.Value.Data))
	}
	refLoss := func(a [][]float64, pattern *[]bool) float64 {
		pm := map[string][]float64{}
		for i, n := range names {
			pm[n] = a[i+1]
		}
		return gc.SoftmaxCE(refResNet(pm, a[0], pattern, eps), pr.labels, rnClasses, rnSmooth)
	}
	wantLoss, num := gc.KinkFreeGrads(t, refLoss, args, 1e-6)
	pm := map[string][]float64{}
	for i, n := range names {
		pm[n] = args[i+1]
	}
	var pat []bool
	wantLogits := refResNet(pm, args[0], &pat, eps)

	for _, th := range []int{1, 3} {
		c := trainCtx(th)
		loss, logits, dx := pr.step(c, root)
		if e := gc.RelErr(logits.Data, wantLogits); e > tol {
			t.Errorf("threads %d: logits relative error %.3g", th, e)
		}
		if d := loss - wantLoss; d > tol*wantLoss || d < -tol*wantLoss {
			t.Errorf("threads %d: loss %.9g, reference %.9g", th, loss, wantLoss)
		}
		worst := gc.RelErr(dx.Data, num[0])
		if worst > tol {
			t.Errorf("threads %d: input gradient relative error %.3g", th, worst)
		}
		for i, p := range ps {
			e := gc.RelErr(p.Grad.Data, num[i+1])
			worst = max(worst, e)
			if e > tol {
				t.Errorf("threads %d: %s: gradient relative error %.3g (max |grad| %.3g)", th, p.Name, e, maxAbs(num[i+1]))
			}
		}
		t.Logf("threads %d: %d parameter tensors, largest relative error %.3g (tolerance %.3g)", th, len(ps), worst, tol)
	}
}

func maxAbs(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, v, -v)
	}
	return m
}
