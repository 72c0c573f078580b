package safetensors

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/asymlab/asym/tensor"
)

// FuzzRead checks that Read never panics, that its errors wrap one of the
// package's sentinels, and that whatever it accepts is consistent: the
// tensors tile the data buffer, every tensor can be read and converted, and
// writing them back gives a file that reads the same.
func FuzzRead(f *testing.F) {
	valid := mustWrite(f, randomTensors(tensor.NewRand(4, 0)), map[string]string{"format": "pt", "k": "v"})
	f.Add(valid)
	for _, n := range []int{0, 7, 8, 9, 16, 40, len(valid) / 2, len(valid) - 1} {
		f.Add(valid[:n])
	}
	f.Add(mustWrite(f, nil, nil))
	f.Add(mustWrite(f, []Tensor{Bytes("h", F16, []int{2, 2}, []byte{0, 0x3c, 0, 0xc0, 0xff, 0x7b, 1, 0})}, nil))
	f.Add(craft(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[],"data_offsets":[8,10]}}`, make([]byte, 10)))
	f.Add(craft(`{"a":{"dtype":"F4","shape":[2,0],"data_offsets":[0,0]},"__metadata__":null}`, nil))
	f.Add(craft(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, make([]byte, 3)))

	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			for _, s := range []error{ErrHeader, ErrTruncated, ErrOffsets, ErrDType} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
		}
		var total int64
		var raw []Tensor
		canWrite := true
		for _, in := range file.Infos() {
			total += in.End - in.Begin
			rt, err := file.Tensor(in.Name)
			if err != nil {
				t.Fatalf("Tensor(%q): %v", in.Name, err)
			}
			raw = append(raw, rt)
			canWrite = canWrite && in.Name != ""
			if in.DType.IsFloat() {
				x, err := file.Float32(in.Name)
				if err != nil || x.Len() != in.Numel() {
					t.Fatalf("Float32(%q): %v", in.Name, err)
				}
			}
			if in.DType.IsInt() {
				x, _, err := file.Int64(in.Name)
				if err != nil && !errors.Is(err, ErrDType) || err == nil && len(x) != in.Numel() {
					t.Fatalf("Int64(%q): %v", in.Name, err)
				}
			}
		}
		if total != file.DataSize() {
			t.Fatalf("tensors cover %d of %d data bytes", total, file.DataSize())
		}
		if !canWrite {
			return // Write rejects empty names, which the format allows
		}
		var out bytes.Buffer
		if err := Write(&out, raw, file.Metadata); err != nil {
			t.Fatalf("rewriting an accepted file: %v", err)
		}
		again := mustRead(t, out.Bytes())
		if !slices.Equal(again.Names(), file.Names()) || !maps(again.Metadata, file.Metadata) {
			t.Fatalf("rewritten file differs: %q vs %q", again.Names(), file.Names())
		}
		for _, rt := range raw {
			rt2, err := again.Tensor(rt.Name)
			if err != nil || !bytes.Equal(rt.Raw, rt2.Raw) || rt.DType != rt2.DType || !slices.Equal(rt.Shape, rt2.Shape) {
				t.Fatalf("tensor %q differs after rewrite (%v)", rt.Name, err)
			}
		}
	})
}
