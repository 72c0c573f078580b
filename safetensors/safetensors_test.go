package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/asymlab/asym/tensor"
)

// craft builds a file from a header string and a data buffer, with the
// header length as given (no padding).
func craft(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func mustWrite(t testing.TB, tensors []Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, tensors, meta); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func mustRead(t testing.TB, b []byte) *File {
	t.Helper()
	f, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return f
}

func f32s(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// TestReferenceVectors checks Write against the exact bytes that the
// reference implementation's own tests expect from its serializer.
func TestReferenceVectors(t *testing.T) {
	six := []float32{0, 1, 2, 3, 4, 5}
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		header  string // including padding
	}{
		{"no padding", []Tensor{{Name: "attn.0", DType: F32, Shape: []int{1, 2, 3}, F32: six}}, nil,
			`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`},
		{"padded", []Tensor{{Name: "attn0", DType: F32, Shape: []int{1, 1, 2, 3}, F32: six}}, nil,
			`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}` + "       "},
		{"empty", nil, nil, "{}      "},
		{"metadata only", nil, map[string]string{"framework": "pt"},
			`{"__metadata__":{"framework":"pt"}}` + "     "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustWrite(t, tc.tensors, tc.meta)
			var data []byte
			if len(tc.tensors) > 0 {
				data = f32s(six...)
			}
			want := craft(tc.header, data)
			if !bytes.Equal(got, want) {
				t.Fatalf("Write:\n got %q\nwant %q", got, want)
			}
			f := mustRead(t, got)
			if len(f.Names()) != len(tc.tensors) || len(f.Metadata) != len(tc.meta) {
				t.Fatalf("read back %v %v", f.Names(), f.Metadata)
			}
		})
	}
}

// randomTensors returns a mix of tensors of every writable kind, including
// scalars, empty tensors and special float values.
func randomTensors(rng *rand.Rand) []Tensor {
	w := tensor.New(3, 4)
	tensor.FillNormal(w, rng, 1)
	w.Data[0] = float32(math.Inf(-1))
	w.Data[1] = float32(math.Copysign(0, -1))
	w.Data[2] = math.Float32frombits(0x7fc00123) // NaN with a payload
	w.Data[3] = math.SmallestNonzeroFloat32
	b := tensor.New(4)
	tensor.FillUniform(b, rng, 1)
	scalar := tensor.FromData([]float32{42.5})
	u8 := make([]byte, 5)
	for i := range u8 {
		u8[i] = byte(rng.IntN(256))
	}
	bf := make([]byte, 6) // 3 BF16 values
	for i := range bf {
		bf[i] = byte(rng.IntN(256))
	}
	return []Tensor{
		FromTensor("layer.1.weight", w),
		FromTensor("layer.1.bias", b),
		FromTensor("scale", scalar),
		{Name: "empty", DType: F32, Shape: []int{0, 3}},
		Int64s("step", nil, []int64{-7}),
		Int64s("counts", []int{2}, []int64{math.MaxInt64, math.MinInt64}),
		Bytes("mask", U8, []int{5}, u8),
		Bytes("lowp", BF16, []int{3}, bf),
		Bytes("ünïcode \"name\"\n", U8, []int{1}, []byte{9}),
	}
}

func TestRoundTrip(t *testing.T) {
	rng := tensor.NewRand(1, 0)
	tensors := randomTensors(rng)
	meta := map[string]string{"b": "2", "a": "x\"y\\z\u0001\t", "ü": "☃", "": ""}
	b := mustWrite(t, tensors, meta)

	// Deterministic: same bytes again, and for the tensors in another order
	// and the metadata in a fresh map.
	perm := slices.Clone(tensors)
	slices.Reverse(perm)
	meta2 := make(map[string]string)
	for k, v := range meta {
		meta2[k] = v
	}
	if b2 := mustWrite(t, perm, meta2); !bytes.Equal(b, b2) {
		t.Fatal("Write is not deterministic")
	}
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}

	f := mustRead(t, b)
	if !maps(f.Metadata, meta) {
		t.Errorf("metadata = %q, want %q", f.Metadata, meta)
	}
	var names []string
	for _, tt := range tensors {
		names = append(names, tt.Name)
	}
	slices.Sort(names)
	if !slices.Equal(f.Names(), names) {
		t.Errorf("Names() = %q, want %q", f.Names(), names)
	}
	// Layout: decreasing alignment, each tensor aligned to its element size
	// in the file (the header is a multiple of 8 bytes).
	var prevRank = len(dtypeOrder)
	for _, in := range f.Infos() {
		r := dtypes[in.DType].rank
		if r > prevRank {
			t.Errorf("tensor %q (%s) laid out after a smaller dtype", in.Name, in.DType)
		}
		prevRank = r
		if size := int64(in.DType.Bits() / 8); in.Begin%size != 0 {
			t.Errorf("tensor %q at offset %d not aligned to %d", in.Name, in.Begin, size)
		}
	}

	for _, want := range tensors {
		in, ok := f.Info(want.Name)
		if !ok {
			t.Fatalf("Info(%q) missing", want.Name)
		}
		if !slices.Equal(in.Shape, want.Shape) && !(len(in.Shape) == 0 && len(want.Shape) == 0) {
			t.Errorf("%q: shape %v, want %v", want.Name, in.Shape, want.Shape)
		}
		switch want.DType {
		case F32:
			got, err := f.Float32(want.Name)
			if err != nil {
				t.Fatal(err)
			}
			wt := &tensor.Tensor{Shape: in.Shape, Data: want.F32}
			if want.F32 == nil {
				wt.Data = []float32{}
			}
			if !tensor.Equal(got, wt) {
				t.Errorf("%q: got %v, want %v", want.Name, got, wt)
			}
		case I64:
			got, shape, err := f.Int64(want.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want.I64) || !slices.Equal(shape, in.Shape) {
				t.Errorf("%q: got %v %v, want %v", want.Name, got, shape, want.I64)
			}
		default:
			got, err := f.Tensor(want.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Raw, want.Raw) || got.DType != want.DType {
				t.Errorf("%q: got %s %v, want %s %v", want.Name, got.DType, got.Raw, want.DType, want.Raw)
			}
		}
	}

	// Copying every tensor raw reproduces the file exactly.
	var raw []Tensor
	for _, name := range f.Names() {
		tt, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, tt)
	}
	if b3 := mustWrite(t, raw, f.Metadata); !bytes.Equal(b, b3) {
		t.Error("raw copy differs from the original file")
	}

	// WriteData writes exactly the data buffer.
	var data bytes.Buffer
	k, err := WriteData(&data, tensors)
	if err != nil || k != int64(data.Len()) || !bytes.Equal(data.Bytes(), b[8+n:]) || k != f.DataSize() {
		t.Errorf("WriteData: %d bytes, err %v; does not match the file's data", k, err)
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    error
	}{
		{"empty name", []Tensor{{DType: F32, Shape: []int{1}, F32: []float32{1}}}, nil, ErrName},
		{"duplicate", []Tensor{Int64s("a", nil, []int64{1}), Int64s("a", nil, []int64{2})}, nil, ErrName},
		{"reserved", []Tensor{Int64s("__metadata__", nil, []int64{1})}, nil, ErrName},
		{"bad utf8 name", []Tensor{Int64s("a\xff", nil, []int64{1})}, nil, ErrName},
		{"unknown dtype", []Tensor{Bytes("a", "F128", []int{1}, make([]byte, 16))}, nil, ErrDType},
		{"too few values", []Tensor{{Name: "a", DType: F32, Shape: []int{2, 2}, F32: []float32{1, 2, 3}}}, nil, ErrShape},
		{"scalar without value", []Tensor{{Name: "a", DType: F32}}, nil, ErrShape},
		{"raw length", []Tensor{Bytes("a", I32, []int{2}, make([]byte, 7))}, nil, ErrShape},
		{"two data fields", []Tensor{{Name: "a", DType: F32, Shape: []int{1}, F32: []float32{1}, I64: []int64{1}}}, nil, ErrShape},
		{"F32 data on U8", []Tensor{{Name: "a", DType: U8, Shape: []int{1}, F32: []float32{1}}}, nil, ErrShape},
		{"negative dim", []Tensor{{Name: "a", DType: F32, Shape: []int{-1}}}, nil, ErrShape},
		{"half byte", []Tensor{Bytes("a", F4, []int{3}, make([]byte, 1))}, nil, ErrShape},
		{"bad utf8 metadata", nil, map[string]string{"k": "\xff"}, ErrHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.tensors, tc.meta)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Write error = %v, want %v", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	one := `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	big := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1)
	lying := binary.LittleEndian.AppendUint64(nil, 1000)
	tests := []struct {
		name string
		file []byte
		want error // nil: the file is valid
	}{
		{"valid", craft(one, make([]byte, 4)), nil},
		{"leading whitespace", craft(" \n"+one, make([]byte, 4)), nil},
		{"unpadded, spaced JSON", craft(`{"a": {"shape": [1], "dtype": "F32", "data_offsets": [0, 4]}}`, make([]byte, 4)), nil},
		{"null metadata", craft(`{"__metadata__":null}`, nil), nil},
		{"unknown field ignored", craft(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2],"x":[1]}}`, []byte{1, 2}), nil},
		{"out of order", craft(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1, 2}), nil},
		{"empty tensors share offsets", craft(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[2,0],"data_offsets":[0,0]}}`, nil), nil},
		{"F4 whole bytes", craft(`{"a":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}`, []byte{1, 2}), nil},

		{"empty file", nil, ErrTruncated},
		{"short length", []byte{1, 0, 0}, ErrTruncated},
		{"header too large", big, ErrHeader},
		{"header past end", append(lying, "{}"...), ErrTruncated},
		{"max uint64 length", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), ErrHeader},
		{"data too short", craft(one, make([]byte, 3)), ErrTruncated},
		{"trailing bytes", craft(one, make([]byte, 5)), ErrOffsets},
		{"no tensors, trailing bytes", craft(`{}`, []byte{0}), ErrOffsets},
		{"empty header", craft(``, nil), ErrHeader},
		{"invalid utf8", craft("{\"\xff\":1}", nil), ErrHeader},
		{"not json", craft(`{"a":`, nil), ErrHeader},
		{"array", craft(`[]`, nil), ErrHeader},
		{"trailing garbage", craft(`{} x`, nil), ErrHeader},
		{"two objects", craft(`{}{}`, nil), ErrHeader},
		{"duplicate tensor", craft(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}), ErrHeader},
		{"duplicate metadata", craft(`{"__metadata__":{},"__metadata__":{}}`, nil), ErrHeader},
		{"duplicate metadata key", craft(`{"__metadata__":{"k":"1","k":"2"}}`, nil), ErrHeader},
		{"duplicate field", craft(`{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}), ErrHeader},
		{"metadata number", craft(`{"__metadata__":{"k":1}}`, nil), ErrHeader},
		{"metadata null value", craft(`{"__metadata__":{"k":null}}`, nil), ErrHeader},
		{"metadata array", craft(`{"__metadata__":[1]}`, nil), ErrHeader},
		{"tensor not object", craft(`{"a":5}`, nil), ErrHeader},
		{"missing dtype", craft(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"missing shape", craft(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"missing offsets", craft(`{"a":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), ErrHeader},
		{"case-mangled field", craft(`{"a":{"DTYPE":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"null shape", craft(`{"a":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"null dim", craft(`{"a":{"dtype":"F32","shape":[null],"data_offsets":[0,0]}}`, nil), ErrHeader},
		{"negative dim", craft(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"float dim", craft(`{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"dim over MaxInt", craft(`{"a":{"dtype":"F32","shape":[0,9223372036854775808],"data_offsets":[0,0]}}`, nil), ErrHeader},
		{"dim over uint64", craft(`{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"three offsets", craft(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, make([]byte, 4)), ErrHeader},
		{"dtype number", craft(`{"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"unknown dtype", craft(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, make([]byte, 16)), ErrDType},
		{"lowercase dtype", craft(`{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrDType},
		{"end before begin", craft(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 4)), ErrOffsets},
		{"length mismatch", craft(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrOffsets},
		{"gap", craft(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), ErrOffsets},
		{"overlap", craft(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, make([]byte, 3)), ErrOffsets},
		{"same offsets", craft(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, make([]byte, 2)), ErrOffsets},
		{"shape overflow", craft(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrOffsets},
		{"bits overflow", craft(`{"a":{"dtype":"F64","shape":[2305843009213693952,2],"data_offsets":[0,8]}}`, make([]byte, 8)), ErrOffsets},
		{"half byte", craft(`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}`, make([]byte, 1)), ErrOffsets},
		{"huge offsets", craft(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[9223372036854775808,9223372036854775808]}}`, nil), ErrOffsets},
		{"offsets past file", craft(`{"a":{"dtype":"U8","shape":[1000000000],"data_offsets":[0,1000000000]}}`, nil), ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tc.file), int64(len(tc.file)))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read error = %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// halfRef converts binary16 bits to float64 from the definition, as an
// independent check of HalfToFloat32.
func halfRef(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant, -24)
	case 0x1f:
		if mant == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+mant/1024, exp-15)
}

func TestHalfToFloat32AllValues(t *testing.T) {
	for h := range 1 << 16 {
		got := HalfToFloat32(uint16(h))
		want := halfRef(uint16(h))
		if math.IsNaN(want) {
			// NaN: sign and payload are kept in the top mantissa bits.
			bitsWant := uint32(h&0x8000)<<16 | 0x7f800000 | uint32(h&0x3ff)<<13
			if math.Float32bits(got) != bitsWant {
				t.Fatalf("HalfToFloat32(%#04x) = %#08x, want %#08x", h, math.Float32bits(got), bitsWant)
			}
			continue
		}
		// Exact: every binary16 value is a float32. Compare bits to tell ±0.
		if math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Fatalf("HalfToFloat32(%#04x) = %g, want %g", h, got, want)
		}
	}
}

func TestFloat32Conversions(t *testing.T) {
	le16 := func(v ...uint16) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint16(b, x)
		}
		return b
	}
	le64 := func(v ...float64) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
		return b
	}
	tests := []struct {
		dtype DType
		data  []byte
		want  []float32
	}{
		{F16, le16(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000), []float32{1, -2, 65504, 0x1p-24, float32(math.Inf(1)), float32(math.Copysign(0, -1))}},
		{BF16, le16(0x3f80, 0xc040, 0x7f80, 0x0001), []float32{1, -3, float32(math.Inf(1)), math.Float32frombits(0x00010000)}},
		{F64, le64(0.1, -1e300, 1e-50, 3), []float32{0.1, float32(math.Inf(-1)), 0, 3}},
		{F32, f32s(1.5, -0.25), []float32{1.5, -0.25}},
	}
	for _, tc := range tests {
		t.Run(string(tc.dtype), func(t *testing.T) {
			n := len(tc.want)
			hdr := `{"x":{"dtype":"` + string(tc.dtype) + `","shape":[` + strconv.Itoa(n) + `],"data_offsets":[0,` + strconv.Itoa(len(tc.data)) + `]}}`
			f := mustRead(t, craft(hdr, tc.data))
			got, err := f.Float32("x")
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.Equal(got, tensor.FromData(tc.want, n)) {
				t.Errorf("Float32 = %v, want %v", got.Data, tc.want)
			}
			dst := tensor.New(n)
			if err := f.Float32Into("x", dst); err != nil || !tensor.Equal(dst, got) {
				t.Errorf("Float32Into = %v, %v", dst.Data, err)
			}
			if err := f.Float32Into("x", tensor.New(n, 1)); !errors.Is(err, ErrShape) {
				t.Errorf("Float32Into wrong shape: err = %v, want ErrShape", err)
			}
			if _, _, err := f.Int64("x"); !errors.Is(err, ErrDType) {
				t.Errorf("Int64 of %s: err = %v, want ErrDType", tc.dtype, err)
			}
		})
	}
}

func TestInt64Conversions(t *testing.T) {
	tests := []struct {
		dtype DType
		data  []byte
		want  []int64
		err   error
	}{
		{U8, []byte{0, 255}, []int64{0, 255}, nil},
		{Bool, []byte{0, 1}, []int64{0, 1}, nil},
		{I8, []byte{0x80, 0x7f}, []int64{-128, 127}, nil},
		{I16, []byte{0x00, 0x80, 0xff, 0x7f}, []int64{-32768, 32767}, nil},
		{U16, []byte{0xff, 0xff, 1, 0}, []int64{65535, 1}, nil},
		{I32, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x80}, []int64{-1, math.MinInt32}, nil},
		{U32, []byte{0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0}, []int64{math.MaxUint32, 2}, nil},
		{I64, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1<<63), 5), []int64{math.MinInt64, 5}, nil},
		{U64, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.MaxInt64), 5), []int64{math.MaxInt64, 5}, nil},
		{U64, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1<<63), 5), nil, ErrDType},
	}
	for _, tc := range tests {
		t.Run(string(tc.dtype), func(t *testing.T) {
			hdr := `{"x":{"dtype":"` + string(tc.dtype) + `","shape":[2],"data_offsets":[0,` + strconv.Itoa(len(tc.data)) + `]}}`
			f := mustRead(t, craft(hdr, tc.data))
			got, shape, err := f.Int64("x")
			if !errors.Is(err, tc.err) {
				t.Fatalf("Int64 error = %v, want %v", err, tc.err)
			}
			if tc.err == nil && (!slices.Equal(got, tc.want) || !slices.Equal(shape, []int{2})) {
				t.Errorf("Int64 = %v %v, want %v", got, shape, tc.want)
			}
			if _, err := f.Float32("x"); !errors.Is(err, ErrDType) {
				t.Errorf("Float32 of %s: err = %v, want ErrDType", tc.dtype, err)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	f := mustRead(t, mustWrite(t, []Tensor{Int64s("a", nil, []int64{1})}, nil))
	if _, ok := f.Info("b"); ok {
		t.Error("Info(b) found")
	}
	if _, err := f.Float32("b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Float32: %v", err)
	}
	if _, _, err := f.Int64("b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Int64: %v", err)
	}
	if _, err := f.Tensor("b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Tensor: %v", err)
	}
}

// TestLargeTensorChunks reads tensors larger than the conversion buffer.
func TestLargeTensorChunks(t *testing.T) {
	rng := tensor.NewRand(2, 0)
	w := tensor.New(3*chunkSize/4 + 5) // spans several chunks
	tensor.FillNormal(w, rng, 1)
	ints := make([]int64, chunkSize/8+3)
	for i := range ints {
		ints[i] = rng.Int64()
	}
	b := mustWrite(t, []Tensor{FromTensor("w", w), Int64s("i", []int{len(ints)}, ints)}, nil)
	f := mustRead(t, b)
	got, err := f.Float32("w")
	if err != nil || !tensor.Equal(got, w) {
		t.Fatalf("Float32 mismatch (err %v)", err)
	}
	gi, _, err := f.Int64("i")
	if err != nil || !slices.Equal(gi, ints) {
		t.Fatalf("Int64 mismatch (err %v)", err)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	w := tensor.FromData([]float32{1, 2, 3, 4}, 2, 2)
	b := mustWrite(t, []Tensor{FromTensor("w", w)}, map[string]string{"k": "v"})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func(string) (*File, error){ReadFile, Open} {
		f, err := open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Float32("w")
		if err != nil || !tensor.Equal(got, w) || f.Metadata["k"] != "v" {
			t.Errorf("read back %v %v %v", got, f.Metadata, err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}

	// Errors name the file.
	cut := filepath.Join(dir, "cut.safetensors")
	if err := os.WriteFile(cut, b[:len(b)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func(string) (*File, error){ReadFile, Open} {
		_, err := open(cut)
		if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), cut) {
			t.Errorf("truncated file: error %v, want ErrTruncated naming %s", err, cut)
		}
		_, err = open(filepath.Join(dir, "missing"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("missing file: error %v", err)
		}
	}
}

// TestTruncations checks that every proper prefix of a valid file is
// rejected.
func TestTruncations(t *testing.T) {
	b := mustWrite(t, randomTensors(tensor.NewRand(3, 0)), map[string]string{"a": "b"})
	for n := range len(b) {
		if _, err := Read(bytes.NewReader(b[:n]), int64(n)); err == nil {
			t.Fatalf("prefix of %d/%d bytes accepted", n, len(b))
		}
	}
}

// TestAppendString checks the JSON string escaping against serde_json's
// rules: only quote, backslash and control characters are escaped, with the
// short forms where JSON has them and lowercase \u00xx otherwise; HTML
// characters, DEL and non-ASCII stay as they are.
func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f\""},
		{"<>&", `"<>&"`},
		{"ü☃\u2028", "\"ü☃\u2028\""},
	}
	for _, tc := range tests {
		if got := string(appendString(nil, tc.in)); got != tc.want {
			t.Errorf("appendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
