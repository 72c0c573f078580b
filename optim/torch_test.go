package optim

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/asymlab/asym/internal/pytorch"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// TestAdamWMatchesTorch runs 25 steps of AdamW with warm-up + cosine and
// clipping here and in PyTorch (scripts/torch_adamw.py: torch.optim.AdamW
// with a decayed and an undecayed group, clip_grad_norm_, LambdaLR) from
// the same values and gradient noise (g = noise + 0.5·p, so the gradients
// follow the values as real ones do), and compares the final values. Both
// compute in float32 with the same operations, up to the order of the
// norm's sum: a relative 1e-5 (plus 1e-6 absolute).
func TestAdamWMatchesTorch(t *testing.T) {
	py := pytorch.Python(t, "torch")
	const steps = 25
	set := Settings{Method: MethodAdamW, LR: 0.02, WeightDecay: 0.1, Beta1: 0.85, Beta2: 0.98, Eps: 1e-7, ClipNorm: 1.5,
		Schedule: Schedule{Name: ScheduleCosine, Unit: UnitStep, Warmup: 4, Floor: 0.1}}
	ps := []*nn.Param{
		{Name: "w", Kind: nn.KindWeight, Value: tensor.New(12), Grad: tensor.New(12)},
		{Name: "b", Kind: nn.KindBias, Value: tensor.New(3), Grad: tensor.New(3)},
		{Name: "ln.weight", Kind: nn.KindNorm, Value: tensor.New(4), Grad: tensor.New(4)},
	}
	type jobParam struct {
		Name  string    `json:"name"`
		Kind  string    `json:"kind"`
		Value []float32 `json:"value"`
	}
	job := struct {
		Params []jobParam    `json:"params"`
		Noise  [][][]float32 `json:"noise"`
		LR     float64       `json:"lr"`
		WD     float64       `json:"wd"`
		Beta1  float64       `json:"beta1"`
		Beta2  float64       `json:"beta2"`
		Eps    float64       `json:"eps"`
		Warmup float64       `json:"warmup"`
		Total  float64       `json:"total"`
		Floor  float64       `json:"floor"`
		Clip   float64       `json:"clip"`
	}{LR: set.LR, WD: set.WeightDecay, Beta1: set.Beta1, Beta2: set.Beta2, Eps: set.Eps,
		Warmup: set.Schedule.Warmup, Total: steps, Floor: set.Schedule.Floor, Clip: set.ClipNorm}
	for i, p := range ps {
		tensor.FillNormal(p.Value, tensor.NewRand(3, uint64(i)), 1)
		job.Params = append(job.Params, jobParam{p.Name, p.Kind.String(), append([]float32(nil), p.Value.Data...)})
	}
	o, err := NewGroups([]Group{{Name: "main", Params: ps, Settings: set}}, Clock{TotalSteps: steps}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for s := range steps {
		var noise [][]float32
		for i, p := range ps {
			n := tensor.New(p.Value.Shape...)
			tensor.FillNormal(n, tensor.NewRand(4, tensor.Mix(uint64(s), uint64(i))), 1)
			noise = append(noise, n.Data)
			for j, v := range p.Value.Data {
				p.Grad.Data[j] = n.Data[j] + 0.5*v
			}
		}
		job.Noise = append(job.Noise, noise)
		o.Step()
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "job.json"), filepath.Join(dir, "out.json")
	b, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(py, filepath.Join("..", "scripts", "torch_adamw.py"), in, out).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	var want [][]float64
	if b, err = os.ReadFile(out); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	var maxDiff float64
	for i, p := range ps {
		for j, got := range p.Value.Data {
			d := math.Abs(float64(got) - want[i][j])
			maxDiff = math.Max(maxDiff, d)
			if d > 1e-6+1e-5*math.Abs(want[i][j]) {
				t.Errorf("%s[%d] = %v, torch %v", p.Name, j, got, want[i][j])
			}
		}
	}
	t.Logf("largest difference from torch.optim.AdamW after %d steps: %.3g", steps, maxDiff)
}
