package safetensors_test

import (
	"bytes"
	"fmt"

	"github.com/asymlab/asym/safetensors"
	"github.com/asymlab/asym/tensor"
)

// Write a weight matrix and a step counter, then read them back.
func Example() {
	w := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	var buf bytes.Buffer
	err := safetensors.Write(&buf, []safetensors.Tensor{
		safetensors.FromTensor("fc.weight", w),
		safetensors.Int64s("step", nil, []int64{100}),
	}, map[string]string{"note": "example"})
	if err != nil {
		panic(err)
	}

	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Names(), f.Metadata["note"])
	got, err := f.Float32("fc.weight")
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Shape, got.Data)
	step, _, err := f.Int64("step")
	if err != nil {
		panic(err)
	}
	fmt.Println(step[0])
	// Output:
	// [fc.weight step] example
	// [2 3] [1 2 3 4 5 6]
	// 100
}

// The file layout: an 8-byte header length, the JSON header padded to a
// multiple of 8 bytes, then the data.
func ExampleWrite() {
	var buf bytes.Buffer
	t := tensor.FromData([]float32{0.5, -1}, 2)
	if err := safetensors.Write(&buf, []safetensors.Tensor{safetensors.FromTensor("b", t)}, nil); err != nil {
		panic(err)
	}
	b := buf.Bytes()
	fmt.Printf("header length %d\n%q\ndata % x\n", b[0], b[8:8+b[0]], b[8+b[0]:])
	// Output:
	// header length 56
	// "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  "
	// data 00 00 00 3f 00 00 80 bf
}

// Checking a file before using it: Read rejects a file whose data is cut
// short, naming the problem.
func ExampleRead_truncated() {
	var buf bytes.Buffer
	t := tensor.FromData([]float32{1, 2}, 2)
	if err := safetensors.Write(&buf, []safetensors.Tensor{safetensors.FromTensor("b", t)}, nil); err != nil {
		panic(err)
	}
	b := buf.Bytes()[:buf.Len()-1]
	_, err := safetensors.Read(bytes.NewReader(b), int64(len(b)))
	fmt.Println(err)
	// Output:
	// safetensors: tensors need 8 data bytes but the file holds 7: truncated safetensors file
}
