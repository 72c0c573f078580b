package safetensors

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/asymlab/asym/tensor"
)

// findPython returns a Python 3 interpreter that has numpy: $ASYM_PYTHON if
// set, else python3 on PATH, else Debian's /usr/bin/python3.
func findPython(t *testing.T) string {
	t.Helper()
	candidates := []string{"python3", "/usr/bin/python3"}
	if p := os.Getenv("ASYM_PYTHON"); p != "" {
		candidates = []string{p}
	}
	for _, c := range candidates {
		if err := exec.Command(c, "-c", "import numpy").Run(); err == nil {
			return c
		}
	}
	t.Skipf("skipping Python interop test: no Python 3 with numpy among %q (set ASYM_PYTHON)", candidates)
	return ""
}

func runPython(t *testing.T, py string, args ...string) {
	t.Helper()
	out, err := exec.Command(py, append([]string{filepath.Join("testdata", "interop.py")}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", py, args, err, out)
	}
	t.Logf("%s", out)
}

// TestPythonReadsGo writes a file from Go and checks it with the numpy
// reader in testdata/interop.py.
func TestPythonReadsGo(t *testing.T) {
	py := findPython(t)
	dir := t.TempDir()
	rng := tensor.NewRand(5, 0)
	w := tensor.New(4, 3)
	tensor.FillNormal(w, rng, 1)
	w.Data[0] = float32(math.Inf(1))
	w.Data[1] = math.Float32frombits(0x7fc00001) // NaN payload must survive
	w.Data[2] = float32(math.Copysign(0, -1))
	tensors := []Tensor{
		FromTensor("enc.weight", w),
		FromTensor("scalar", tensor.FromData([]float32{3.5})),
		{Name: "empty", DType: F32, Shape: []int{2, 0}},
		Int64s("step", []int{3}, []int64{math.MinInt64, math.MaxInt64, 42}),
		Bytes("mask", U8, []int{2, 2}, []byte{0, 1, 254, 255}),
		Bytes("ünï \"q\"", I32, []int{1}, []byte{0xff, 0xff, 0xff, 0xff}),
	}
	meta := map[string]string{"asym.format": "1", "note": "é\n\"x\""}
	expect := map[string]any{"metadata": meta}
	et := map[string]any{}
	for _, tt := range tensors {
		var vals []any
		switch tt.DType {
		case F32:
			for _, v := range tt.F32 {
				vals = append(vals, math.Float32bits(v))
			}
		case I64:
			for _, v := range tt.I64 {
				vals = append(vals, v)
			}
		case U8:
			for _, v := range tt.Raw {
				vals = append(vals, v)
			}
		case I32:
			vals = append(vals, -1)
		}
		if vals == nil {
			vals = []any{}
		}
		shape := tt.Shape
		if shape == nil {
			shape = []int{}
		}
		et[tt.Name] = map[string]any{"dtype": tt.DType, "shape": shape, "values": vals}
	}
	expect["tensors"] = et
	eb, err := json.Marshal(expect)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "go.safetensors")
	epath := filepath.Join(dir, "expect.json")
	if err := os.WriteFile(epath, eb, 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(fd, tensors, meta); err != nil {
		t.Fatal(err)
	}
	if err := fd.Close(); err != nil {
		t.Fatal(err)
	}
	runPython(t, py, "read", path, epath)
}

// TestGoReadsPython reads a file written by testdata/interop.py (F32, F16,
// BF16 — converted by torch when it is installed —, F64, I64, I32, U8, a
// scalar and an empty tensor, an unpadded header in name order) and checks
// every value bit for bit against numpy's (or torch's) conversion to
// float32.
func TestGoReadsPython(t *testing.T) {
	py := findPython(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "py.safetensors")
	epath := filepath.Join(dir, "expect.json")
	runPython(t, py, "write", path, epath)

	var expect struct {
		Metadata map[string]string `json:"metadata"`
		Tensors  map[string]struct {
			DType  DType   `json:"dtype"`
			Shape  []int   `json:"shape"`
			Values []int64 `json:"values"`
		} `json:"tensors"`
	}
	eb, err := os.ReadFile(epath)
	if err != nil {
		t.Fatal(err)
	}
	// float32 bits (< 2^32) and int64 values both fit in int64.
	if err := json.Unmarshal(eb, &expect); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !maps(f.Metadata, expect.Metadata) {
		t.Errorf("metadata %q, want %q", f.Metadata, expect.Metadata)
	}
	var names []string
	for name := range expect.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Equal(f.Names(), names) {
		t.Fatalf("names %q, want %q", f.Names(), names)
	}
	for name, want := range expect.Tensors {
		in, _ := f.Info(name)
		if in.DType != want.DType || !slices.Equal(in.Shape, want.Shape) {
			t.Errorf("%q: %s %v, want %s %v", name, in.DType, in.Shape, want.DType, want.Shape)
			continue
		}
		var got []int64
		if in.DType.IsFloat() {
			x, err := f.Float32(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range x.Data {
				got = append(got, int64(math.Float32bits(v)))
			}
		} else {
			got, _, err = f.Int64(name)
			if err != nil {
				t.Fatal(err)
			}
		}
		if got == nil {
			got = []int64{}
		}
		if !slices.Equal(got, want.Values) {
			t.Errorf("%q (%s): got %v, want %v", name, in.DType, got, want.Values)
		}
	}
	t.Logf("checked %d tensors from Python (torch for BF16: %s)", len(names), f.Metadata["torch"])
}
