package models_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

// refResNet8V2 is a float64 reference of the pre-activation ResNet-8 at an
// eighth of the width (channels 2, 4, 8) on 3×6×6 inputs, written from He et
// al. (2016) and the official resnet_model_v2.py, not from the builder: a
// bare 3×3 stem; per block p = ReLU(BN0(h)), branch = conv2(ReLU(BN1(conv1
// p))), shortcut = 1×1 conv of p (projection) or h (identity), h = branch +
// shortcut; then ReLU(BN(h)), global average pooling and the classifier. It
// appends the sign pattern of every ReLU input to pattern.
func refResNet8V2(p map[string][]float64, x []float64, n int, projFirst bool, pattern *[]bool) []float64 {
	eps := float64(float32(1e-5))
	cv := func(name string, in []float64, g gc.Conv) []float64 {
		g.N = n
		return g.Forward(in, p[name+".weight"])
	}
	bnRelu := func(name string, in []float64, c int) []float64 {
		y, _, _ := gc.BatchNorm(in, p[name+".weight"], p[name+".bias"], n, c, len(in)/(n*c), eps)
		for _, v := range y {
			*pattern = append(*pattern, v > 0)
		}
		y, _ = gc.ReLU(y)
		return y
	}
	c3 := func(in, out, hw, s int) gc.Conv {
		return gc.Conv{C: in, H: hw, W: hw, Out: out, KH: 3, KW: 3, PH: 1, PW: 1, SH: s, SW: s}
	}
	c1 := func(in, out, hw, s int) gc.Conv {
		return gc.Conv{C: in, H: hw, W: hw, Out: out, KH: 1, KW: 1, SH: s, SW: s}
	}
	block := func(name string, h []float64, in, out, hw, s int, proj bool) []float64 {
		pre := bnRelu(name+".bn0", h, in)
		b := bnRelu(name+".bn1", cv(name+".conv1", pre, c3(in, out, hw, s)), out)
		b = cv(name+".conv2", b, c3(out, out, (hw-1)/s+1, 1))
		short := h
		if proj {
			short = cv(name+".downsample.0", pre, c1(in, out, hw, s))
		}
		return gc.Add(b, short)
	}
	h := cv("conv1", x, c3(3, 2, 6, 1))
	h = block("layer1.0", h, 2, 2, 6, 1, projFirst)
	h = block("layer2.0", h, 2, 4, 6, 2, true)
	h = block("layer3.0", h, 4, 8, 3, 2, true)
	h = bnRelu("bn_final", h, 8)
	return gc.Linear(gc.GlobalAvg(h, n, 8, 4), p["fc.weight"], p["fc.bias"], n, 8, 3)
}

// TestResNetV2Gradients checks the pre-activation ResNet the builder makes
// (with the default shortcuts and with a projection on every group's
// first block) against the float64 reference: logits, loss and the
// gradient of every trainable parameter against central differences.
func TestResNetV2Gradients(t *testing.T) {
	const n, classes, smooth = 4, 3, 0.1
	// The network runs in float32 through ~10 layers with batch
	// normalisation; the v1 check (nn.TestResNetGradients) uses the same
	// tolerance. A wrong connection is an O(1) error.
	const tol = 0x1p-14
	for _, shortcut := range []string{"auto", "first"} {
		t.Run(shortcut, func(t *testing.T) {
			net, err := models.Build(models.Spec{Arch: "resnet8v2", Width: 0.125, In: []int{3, 6, 6}, Classes: classes,
				Shortcut: shortcut}, tensor.NewRand(3, 0))
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, 7))
			var ps []*nn.Param
			for _, p := range net.Params() {
				if p.Trainable() {
					if p.Kind == nn.KindNorm || p.Kind == nn.KindBias {
						copy(p.Value.Data, gc.Uniform(rng, p.Value.Len(), 0.5, 1.5))
					}
					ps = append(ps, p)
				}
			}
			_, hasProj := map[bool]int{true: 1}[shortcut == "first"]
			names := map[string]bool{}
			for _, p := range ps {
				names[p.Name] = true
			}
			if names["layer1.0.downsample.0.weight"] != hasProj {
				t.Fatalf("layer1.0 projection: %v, want %v", names["layer1.0.downsample.0.weight"], hasProj)
			}
			x := tensor.FromData(gc.Uniform(rng, n*3*6*6, -1, 1), n, 3, 6, 6)
			labels := []int32{0, 2, 1, 2}
			args := [][]float64{gc.F64(x.Data)}
			for _, p := range ps {
				args = append(args, gc.F64(p.Value.Data))
			}
			ref := func(a [][]float64, pattern *[]bool) float64 {
				pm := map[string][]float64{}
				for i, p := range ps {
					pm[p.Name] = a[i+1]
				}
				return gc.SoftmaxCE(refResNet8V2(pm, a[0], n, hasProj, pattern), labels, classes, smooth)
			}
			wantLoss, num := gc.KinkFreeGrads(t, ref, args, 1e-6)
			e := engine.NewCPU(1)
			c := &nn.Ctx{E: e, Train: true}
			logits := net.Forward(c, x)
			var dl tensor.Tensor
			loss, _ := e.SoftmaxCrossEntropy(&dl, logits, labels, smooth)
			net.Backward(c, &dl)
			if d := loss - wantLoss; d > tol*wantLoss || d < -tol*wantLoss {
				t.Errorf("loss %.9g, reference %.9g", loss, wantLoss)
			}
			worst := 0.0
			for i, p := range ps {
				err := gc.RelErr(p.Grad.Data, num[i+1])
				worst = max(worst, err)
				if err > tol {
					t.Errorf("%s: gradient relative error %.3g", p.Name, err)
				}
			}
			t.Logf("%d parameter tensors, largest relative error %.3g", len(ps), worst)
		})
	}
}

// TestV1Options checks the v1 options of the official code: a projection
// on layer1.0 with shortcut "first", TensorFlow "SAME" max pooling and the
// official classifier initialisations.
func TestV1Options(t *testing.T) {
	for _, tc := range []struct {
		spec      models.Spec
		proj      bool
		fcStd     float64 // expected std of fc.weight (0: not checked)
		zeroBias  bool
		poolExtra bool
	}{
		{models.Spec{Arch: "resnet18", In: []int{3, 32, 32}, Classes: 1000}, false, 0, false, false},
		{models.Spec{Arch: "resnet18", In: []int{3, 32, 32}, Classes: 1000, Shortcut: "first", Pool: "same", FCInit: "normal"},
			true, 0.01, true, true},
		{models.Spec{Arch: "resnet18v2", In: []int{3, 32, 32}, Classes: 1000, FCInit: "glorot"},
			false, 1 / 27.386, true, false}, // √(2/(512+1000)) = 1/27.39: Glorot's variance 2/(fan_in+fan_out)
		{models.Spec{Arch: "resnet20", In: []int{3, 8, 8}, Classes: 1000, Shortcut: "first"}, true, 0, false, false},
	} {
		t.Run(fmt.Sprintf("%s/%s/%s/%s", tc.spec.Arch, tc.spec.Shortcut, tc.spec.Pool, tc.spec.FCInit), func(t *testing.T) {
			net, err := models.Build(tc.spec, tensor.NewRand(1, 0))
			if err != nil {
				t.Fatal(err)
			}
			ps := map[string]*nn.Param{}
			for _, p := range net.Params() {
				ps[p.Name] = p
			}
			if _, ok := ps["layer1.0.downsample.0.weight"]; ok != tc.proj {
				t.Errorf("layer1.0 projection %v, want %v", ok, tc.proj)
			}
			if tc.fcStd > 0 {
				// B is drawn from W's initializer (as in the official
				// Layers/layers.py): bind feedback alignment and check both.
				r, err := rules.New("fa", nil)
				if err != nil {
					t.Fatal(err)
				}
				b, err := rules.Apply(net, r, rules.Options{Layers: "fc"}, &rules.Env{Rand: tensor.NewRand(2, 0)})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range []*nn.Param{ps["fc.weight"], b.Layers[0].Feedback()} {
					w := gc.F64(p.Value.Data)
					v := gc.Dot(w, w) / float64(len(w))
					// 512 000 draws: the sample variance is within 1% of the
					// true one with overwhelming probability.
					if r := v / (tc.fcStd * tc.fcStd); r < 0.99 || r > 1.01 {
						t.Errorf("%s variance %.4g, want %.4g", p.Name, v, tc.fcStd*tc.fcStd)
					}
				}
			}
			if b := ps["fc.bias"].Value; tc.zeroBias != (gc.Dot(gc.F64(b.Data), gc.F64(b.Data)) == 0) {
				t.Errorf("fc.bias zero: %v, want %v", !tc.zeroBias, tc.zeroBias)
			}
			var pool *nn.Pool2d
			nn.Walk(net.Root, func(l nn.Layer) {
				if p, ok := l.(*nn.Pool2d); ok && p.Max {
					pool = p
				}
			})
			if pool != nil && pool.Same != tc.poolExtra {
				t.Errorf("max pool Same = %v, want %v", pool.Same, tc.poolExtra)
			}
		})
	}
}
