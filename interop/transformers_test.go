package interop

import (
	"bytes"
	"encoding/json"
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
	"github.com/asymlab/asym/safetensors"
	"github.com/asymlab/asym/tensor"
)

var transformerScript = filepath.Join("..", "scripts", "torch_transformers.py")

// TestTorchLoadsTransformers exports asym's GPT and ViT, loads them with
// strict=True into the torch.nn modules of docs/transformers-interop.md
// (scripts/torch_transformers.py), and compares the logits and the
// gradient of the mean cross-entropy with respect to every parameter,
// computed by asym under backprop. float32 in another summation order:
// the script's tolerance is 1e-4 of the largest value of each tensor.
func TestTorchLoadsTransformers(t *testing.T) {
	py := pytorch.Python(t, "torch", "numpy")
	tests := []struct {
		name   string
		spec   models.Spec
		config map[string]any // the torch module's arguments
	}{
		{"gpt", models.Spec{Arch: "gpt", In: []int{12}, Classes: 17, Dim: 16, Depth: 2, Heads: 4, Context: 16},
			map[string]any{"vocab": 17, "context": 16, "dim": 16, "depth": 2, "heads": 4}},
		{"vit", models.Spec{Arch: "vit", In: []int{2, 8, 12}, Classes: 5, Dim: 16, Depth: 2, Heads: 2, Patch: 4},
			map[string]any{"channels": 2, "height": 8, "width": 12, "classes": 5, "patch": 4, "dim": 16, "depth": 2, "heads": 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			net, err := models.Build(tc.spec, tensor.NewRand(5, 1))
			if err != nil {
				t.Fatal(err)
			}
			bp, err := rules.New("bp", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rules.Apply(net, bp, rules.Options{}, &rules.Env{Rand: tensor.NewRand(5, 2)}); err != nil {
				t.Fatal(err)
			}
			const n = 3
			x := tensor.New(append([]int{n}, tc.spec.In...)...)
			rng := tensor.NewRand(5, 3)
			if tc.name == "gpt" {
				for i := range x.Data {
					x.Data[i] = float32(rng.IntN(tc.spec.Classes))
				}
			} else {
				tensor.FillNormal(x, rng, 1)
			}
			targets := make([]int32, n*net.Head.Targets(net.Out))
			for i := range targets {
				targets[i] = int32(rng.IntN(tc.spec.Classes))
			}
			e := engine.NewCPU(1)
			c := &nn.Ctx{E: e, Train: true}
			for _, p := range net.Params() {
				if p.Grad != nil {
					p.Grad.Zero()
				}
			}
			logits := net.Forward(c, x).Clone()
			var dl tensor.Tensor
			net.Head.Loss(e, &dl, logits, targets, 0)
			net.Backward(c, &dl)

			dir := t.TempDir()
			w, in, tg, out, gr := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "x.bin"), filepath.Join(dir, "t.bin"),
				filepath.Join(dir, "y.bin"), filepath.Join(dir, "g.safetensors")
			if err := Export(w, net, false, nil); err != nil {
				t.Fatal(err)
			}
			writeRaw(t, in, x.Data)
			tb := make([]float32, len(targets)) // raw int32, written through the float32 writer's bytes
			for i, v := range targets {
				tb[i] = math.Float32frombits(uint32(v))
			}
			writeRaw(t, tg, tb)
			writeRaw(t, out, logits.Data)
			var gs []safetensors.Tensor
			for _, p := range net.Params() {
				if p.Grad != nil && p.Kind != nn.KindFeedback {
					gs = append(gs, safetensors.FromTensor(p.Name, p.Grad))
				}
			}
			var buf bytes.Buffer
			if err := safetensors.Write(&buf, gs, nil); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(gr, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := map[string]any{"input": append([]int{n}, tc.spec.In...)}
			for k, v := range tc.config {
				cfg[k] = v
			}
			js, _ := json.Marshal(cfg)
			b, err := exec.Command(py, transformerScript, "check", tc.name, w, in, tg, out, gr, "--config", string(js)).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			t.Logf("%s", strings.TrimSpace(string(b)))
		})
	}
}

// TestInteropDocHoldsModules: docs/transformers-interop.md shows the
// modules the check uses, verbatim.
func TestInteropDocHoldsModules(t *testing.T) {
	script, err := os.ReadFile(transformerScript)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "transformers-interop.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(script)
	begin, end := strings.Index(s, "# --- modules begin\n"), strings.Index(s, "# --- modules end")
	if begin < 0 || end < begin {
		t.Fatal("no module markers in the script")
	}
	mods := s[begin+len("# --- modules begin\n") : end]
	if !strings.Contains(string(doc), mods) {
		t.Error("docs/transformers-interop.md does not hold the modules of scripts/torch_transformers.py verbatim")
	}
}
