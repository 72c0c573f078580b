package interop

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/internal/pytorch"
	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

func resnet18(t *testing.T, seed uint64, classes int) *nn.Network {
	t.Helper()
	net, err := models.Build(models.Spec{Arch: "resnet18", In: []int{3, 32, 32}, Classes: classes}, tensor.NewRand(seed, 1))
	if err != nil {
		t.Fatal(err)
	}
	// Non-trivial batch-norm statistics, so that evaluation uses them.
	rng := tensor.NewRand(seed, 2)
	for _, p := range net.Params() {
		switch {
		case strings.HasSuffix(p.Name, ".running_mean"):
			tensor.FillUniform(p.Value, rng, 0.5)
		case strings.HasSuffix(p.Name, ".running_var"):
			for i := range p.Value.Data {
				p.Value.Data[i] = 0.5 + float32(rng.Float64())*1.5
			}
		}
	}
	return net
}

func logits(net *nn.Network, x *tensor.Tensor) *tensor.Tensor {
	c := &nn.Ctx{E: engine.NewCPU(1), Train: false}
	return net.Forward(c, x).Clone()
}

func TestExportImportRoundTrip(t *testing.T) {
	a := resnet18(t, 1, 10)
	if _, err := rules.Apply(a, rules.FeedbackAlignment{}, rules.Options{}, &rules.Env{Rand: tensor.NewRand(1, 3)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Export(path, a, true, map[string]string{"asym.arch": "resnet18"}); err != nil {
		t.Fatal(err)
	}
	b := resnet18(t, 2, 10)
	rep, err := Import(path, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	// b has no backward weights bound: they are unused (with its W, the
	// forward parameters all load).
	if len(rep.Unused) != len(a.WeightLayers()) || !strings.HasSuffix(rep.Unused[0], ".backward_weight") {
		t.Errorf("unused: %v", rep.Unused)
	}
	pa, pb := a.Params(), b.Params()
	byName := map[string]*nn.Param{}
	for _, p := range pb {
		byName[p.Name] = p
	}
	n := 0
	for _, p := range pa {
		if q, ok := byName[p.Name]; ok {
			if !tensor.Equal(p.Value, q.Value) {
				t.Errorf("%s differs after the round trip", p.Name)
			}
			n++
		}
	}
	if n != len(pb) || len(rep.Loaded) != len(pb) {
		t.Errorf("compared %d, loaded %d of %d parameters", n, len(rep.Loaded), len(pb))
	}
	x := tensor.New(2, 3, 32, 32)
	tensor.FillNormal(x, tensor.NewRand(5, 5), 1)
	if !tensor.Equal(logits(a, x), logits(b, x)) {
		t.Error("imported model gives other logits")
	}
}

func TestImportErrors(t *testing.T) {
	a := resnet18(t, 1, 10)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Export(path, a, false, nil); err != nil {
		t.Fatal(err)
	}
	// Another number of classes: the classifier does not fit...
	b := resnet18(t, 2, 7)
	_, err := Import(path, b, nil)
	if !errors.Is(err, ErrImport) || !strings.Contains(err.Error(), "fc.weight: shape [10 512] in the file, [7 512] in the model") ||
		!strings.Contains(err.Error(), "--init-skip") {
		t.Errorf("got %v", err)
	}
	// ...unless it is skipped.
	rep, err := Import(path, b, []string{"fc.*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 2 || len(rep.Unused) != 2 {
		t.Errorf("skipped %v, unused %v", rep.Skipped, rep.Unused)
	}
	// Another architecture: parameters are missing.
	c, err := models.Build(models.Spec{Arch: "resnet34", In: []int{3, 32, 32}, Classes: 10}, tensor.NewRand(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Import(path, c, nil); !errors.Is(err, ErrImport) || !strings.Contains(err.Error(), "layer1.2.conv1.weight: missing") {
		t.Errorf("resnet34 from resnet18: %v", err)
	}
	if _, err := Import(path, b, []string{"["}); err == nil {
		t.Error("bad pattern accepted")
	}
	if _, err := Import(filepath.Join(t.TempDir(), "none"), b, nil); err == nil {
		t.Error("missing file accepted")
	}
}

func writeRaw(t *testing.T, path string, x []float32) {
	t.Helper()
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readRaw(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

var script = filepath.Join("..", "scripts", "torch_interop.py")

// TestTorchvisionLoadsExport exports asym's ResNet-18 and checks that
// torchvision's resnet18 loads it strictly and gives the same logits.
func TestTorchvisionLoadsExport(t *testing.T) {
	py := pytorch.Python(t, "torch", "torchvision", "numpy")
	net := resnet18(t, 3, 10)
	dir := t.TempDir()
	w, in, out := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "x.bin"), filepath.Join(dir, "y.bin")
	if err := Export(w, net, false, nil); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(4, 3, 32, 32)
	tensor.FillNormal(x, tensor.NewRand(7, 7), 1)
	writeRaw(t, in, x.Data)
	writeRaw(t, out, logits(net, x).Data)
	cmd := exec.Command(py, script, "check-export", w, in, out, "--arch", "resnet18", "--classes", "10", "--input-shape", "3,32,32")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	t.Logf("%s", strings.TrimSpace(string(b)))
}

// TestImportTorchvisionWeights imports a torchvision resnet18 written by
// PyTorch and checks asym's logits against PyTorch's.
func TestImportTorchvisionWeights(t *testing.T) {
	py := pytorch.Python(t, "torch", "torchvision", "numpy")
	dir := t.TempDir()
	w, in, out := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "x.bin"), filepath.Join(dir, "y.bin")
	cmd := exec.Command(py, script, "make-weights", w, in, out, "--arch", "resnet18", "--classes", "10", "--input-shape", "3,32,32")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	net := resnet18(t, 9, 10)
	rep, err := Import(w, net, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unused) != 0 {
		t.Errorf("unused tensors: %v", rep.Unused)
	}
	x := tensor.FromData(readRaw(t, in), 4, 3, 32, 32)
	got, want := logits(net, x), readRaw(t, out)
	scale, diff := 0.0, 0.0
	for i, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
		diff = math.Max(diff, math.Abs(float64(v)-float64(got.Data[i])))
	}
	// float32 rounding through 18 layers in another summation order.
	if diff > 1e-3*math.Max(1, scale) {
		t.Errorf("max |asym − torch| = %g (scale %g)", diff, scale)
	}
	t.Logf("max |asym − torch| = %.3g (logit scale %.3g)", diff, scale)
}
