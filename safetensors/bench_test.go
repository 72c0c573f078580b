package safetensors

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/asymlab/asym/tensor"
)

// benchTensors returns about 50 MB of F32 tensors shaped like a ResNet's:
// 48 tensors of 1 MiB-ish plus a few small ones.
func benchTensors() []Tensor {
	rng := tensor.NewRand(6, 0)
	var ts []Tensor
	for i := range 48 {
		w := tensor.New(256, 256, 4) // 1 MiB of float32
		tensor.FillNormal(w, rng, 1)
		ts = append(ts, FromTensor(fmt.Sprintf("layer%d.weight", i), w))
		ts = append(ts, FromTensor(fmt.Sprintf("layer%d.bias", i), tensor.New(256)))
	}
	return ts
}

func BenchmarkWrite50MB(b *testing.B) {
	ts := benchTensors()
	n, _ := WriteData(io.Discard, ts)
	b.SetBytes(n)
	for b.Loop() {
		if err := Write(io.Discard, ts, map[string]string{"k": "v"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead50MB(b *testing.B) {
	var buf bytes.Buffer
	if err := Write(&buf, benchTensors(), nil); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		f, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		for _, in := range f.Infos() {
			if _, err := f.Float32(in.Name); err != nil {
				b.Fatal(err)
			}
		}
	}
}
