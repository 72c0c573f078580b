package checkpoint

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/asymlab/asym/safetensors"
	"github.com/asymlab/asym/tensor"
)

// benchModel returns about 50 MB of F32 tensors: 48 weight matrices of
// 1 MiB and their biases.
func benchModel() ([]safetensors.Tensor, []*tensor.Tensor) {
	rng := tensor.NewRand(7, 0)
	var ts []safetensors.Tensor
	var ws []*tensor.Tensor
	for i := range 48 {
		w := tensor.New(256, 1024)
		tensor.FillNormal(w, rng, 1)
		b := tensor.New(256)
		ts = append(ts, safetensors.FromTensor(fmt.Sprintf("layer%d.weight", i), w),
			safetensors.FromTensor(fmt.Sprintf("layer%d.bias", i), b))
		ws = append(ws, w, b)
	}
	return ts, ws
}

// BenchmarkSave50MB measures a full atomic save: checksum pass, write,
// fsync, rename, directory fsync.
func BenchmarkSave50MB(b *testing.B) {
	ts, _ := benchModel()
	path := filepath.Join(b.TempDir(), "ck.safetensors")
	for b.Loop() {
		if err := Save(path, ts, nil); err != nil {
			b.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
}

// BenchmarkLoad50MB measures Load (read, validate, checksum) plus decoding
// every tensor into existing parameters.
func BenchmarkLoad50MB(b *testing.B) {
	ts, ws := benchModel()
	path := filepath.Join(b.TempDir(), "ck.safetensors")
	if err := Save(path, ts, nil); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		f, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		for i, t := range ts {
			if err := f.Float32Into(t.Name, ws[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkChecksum50MB measures the SHA-256 pass that Save and Load add.
func BenchmarkChecksum50MB(b *testing.B) {
	ts, _ := benchModel()
	n, _ := safetensors.WriteData(io.Discard, ts)
	b.SetBytes(n)
	for b.Loop() {
		if _, err := Checksum(ts, map[string]string{"asym.step": "100"}); err != nil {
			b.Fatal(err)
		}
	}
}
