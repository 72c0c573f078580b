package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/asymlab/asym/tensor"
)

// MaxHeaderSize is the largest header, in bytes, that Read accepts and Write
// produces: 100 MB, the limit of the reference implementation.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key that holds the free-form
// string-to-string metadata.
const metadataKey = "__metadata__"

// chunkSize is the size of the buffer used to convert tensor data to and
// from bytes.
const chunkSize = 256 << 10

// Tensor is a named tensor as stored in a file: its dtype, shape and data.
//
// The data of an F32 tensor is F32, that of an I64 tensor I64; any tensor may
// instead give its little-endian bytes in Raw (then F32 and I64 must be nil).
// Tensors of other dtypes always use Raw. Write checks that the data holds
// exactly the product of Shape elements. A nil Shape is a scalar (one
// element); a shape with a zero dimension holds no data.
type Tensor struct {
	// Name is the key of the tensor in the header, e.g. "layer1.0.weight".
	Name string
	// DType is the element type.
	DType DType
	// Shape holds the dimensions, outermost first.
	Shape []int
	// F32 holds the elements of an F32 tensor.
	F32 []float32
	// I64 holds the elements of an I64 tensor.
	I64 []int64
	// Raw holds the little-endian bytes of the tensor, for any dtype.
	Raw []byte
}

// FromTensor returns an F32 Tensor named name that shares t's shape and data
// (no copy): t must not change until the Tensor has been written.
func FromTensor(name string, t *tensor.Tensor) Tensor {
	return Tensor{Name: name, DType: F32, Shape: t.Shape, F32: t.Data}
}

// Int64s returns an I64 Tensor named name of the given shape that uses v as
// its data (no copy). Use it for integer state: step counters, RNG seeds,
// label maps.
func Int64s(name string, shape []int, v []int64) Tensor {
	return Tensor{Name: name, DType: I64, Shape: shape, I64: v}
}

// Bytes returns a Tensor of any dtype from its little-endian bytes (no
// copy). Bytes(name, U8, shape, b) stores a byte tensor.
func Bytes(name string, dtype DType, shape []int, raw []byte) Tensor {
	return Tensor{Name: name, DType: dtype, Shape: shape, Raw: raw}
}

// placed is a tensor with its position in the data buffer.
type placed struct {
	t          *Tensor
	begin, end int64
}

// layout validates tensors and returns them in file order (decreasing dtype
// alignment, then name, as the reference implementation orders them) with
// their offsets, and the size of the data buffer.
func layout(tensors []Tensor) ([]placed, int64, error) {
	order := make([]int, len(tensors))
	seen := make(map[string]bool, len(tensors))
	for i := range tensors {
		t := &tensors[i]
		order[i] = i
		switch {
		case t.Name == "":
			return nil, 0, errorf("", ErrName, "tensor %d has an empty name", i)
		case t.Name == metadataKey:
			return nil, 0, errorf("", ErrName, "%q is reserved for the metadata", t.Name)
		case !utf8.ValidString(t.Name):
			return nil, 0, errorf("", ErrName, "tensor name %q is not valid UTF-8", t.Name)
		case seen[t.Name]:
			return nil, 0, errorf("", ErrName, "tensor %q appears twice", t.Name)
		}
		seen[t.Name] = true
		if !t.DType.Known() {
			return nil, 0, errorf("", ErrDType, "tensor %q: unknown dtype %q", t.Name, t.DType)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		ta, tb := &tensors[order[a]], &tensors[order[b]]
		ra, rb := dtypes[ta.DType].rank, dtypes[tb.DType].rank
		if ra != rb {
			return ra > rb
		}
		return ta.Name < tb.Name
	})
	out := make([]placed, len(tensors))
	var off int64
	for i, k := range order {
		t := &tensors[k]
		n, err := checkData(t)
		if err != nil {
			return nil, 0, err
		}
		if off > math.MaxInt64-n {
			return nil, 0, errorf("", ErrShape, "tensor %q: data buffer larger than 2^63 bytes", t.Name)
		}
		out[i] = placed{t: t, begin: off, end: off + n}
		off += n
	}
	return out, off, nil
}

// checkData checks that t's data matches its shape and returns its size in
// bytes.
func checkData(t *Tensor) (int64, error) {
	for _, d := range t.Shape {
		if d < 0 {
			return 0, errorf("", ErrShape, "tensor %q: negative dimension in shape %v", t.Name, t.Shape)
		}
	}
	dims := make([]uint64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = uint64(d)
	}
	numel, nbytes, ok := sizeOf(dims, t.DType)
	if !ok {
		return 0, errorf("", ErrShape, "tensor %q: shape %v of %s overflows or does not fill whole bytes", t.Name, t.Shape, t.DType)
	}
	var have uint64
	var what string
	switch {
	case t.Raw != nil || (t.DType != F32 && t.DType != I64):
		if t.F32 != nil || t.I64 != nil {
			return 0, errorf("", ErrShape, "tensor %q: %s data must be given in Raw only", t.Name, t.DType)
		}
		have, what = uint64(len(t.Raw)), "bytes"
		numel = nbytes
	case t.DType == F32:
		if t.I64 != nil {
			return 0, errorf("", ErrShape, "tensor %q: F32 tensor with I64 data", t.Name)
		}
		have, what = uint64(len(t.F32)), "F32 values"
	default: // I64
		if t.F32 != nil {
			return 0, errorf("", ErrShape, "tensor %q: I64 tensor with F32 data", t.Name)
		}
		have, what = uint64(len(t.I64)), "I64 values"
	}
	if have != numel {
		return 0, errorf("", ErrShape, "tensor %q: %d %s for shape %v (want %d)", t.Name, have, what, t.Shape, numel)
	}
	return int64(nbytes), nil
}

// sizeOf returns the number of elements and bytes of a tensor of the given
// shape and dtype; ok is false on overflow (past 2^63) or when the elements
// do not fill a whole number of bytes.
func sizeOf(dims []uint64, d DType) (numel, nbytes uint64, ok bool) {
	numel = 1
	for _, v := range dims {
		hi, lo := bits.Mul64(numel, v)
		if hi != 0 {
			return 0, 0, false
		}
		numel = lo
	}
	hi, nbits := bits.Mul64(numel, uint64(d.Bits()))
	if hi != 0 || nbits%8 != 0 || nbits/8 > math.MaxInt64 {
		return 0, 0, false
	}
	return numel, nbits / 8, true
}

// header returns the padded JSON header for the laid-out tensors.
func header(ps []placed, meta map[string]string) ([]byte, error) {
	var b []byte
	b = append(b, '{')
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k, v := range meta {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, errorf("", ErrHeader, "metadata %q=%q is not valid UTF-8", k, v)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = appendString(b, metadataKey)
		b = append(b, ":{"...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, meta[k])
		}
		b = append(b, '}')
	}
	for i, p := range ps {
		if i > 0 || len(meta) > 0 {
			b = append(b, ',')
		}
		b = appendString(b, p.t.Name)
		b = append(b, `:{"dtype":`...)
		b = appendString(b, string(p.t.DType))
		b = append(b, `,"shape":[`...)
		for j, d := range p.t.Shape {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(d), 10)
		}
		b = append(b, `],"data_offsets":[`...)
		b = strconv.AppendInt(b, p.begin, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, p.end, 10)
		b = append(b, "]}"...)
	}
	b = append(b, '}')
	for len(b)%8 != 0 {
		b = append(b, ' ')
	}
	if len(b) > MaxHeaderSize {
		return nil, errorf("", ErrHeader, "header of %d bytes exceeds the %d-byte limit", len(b), MaxHeaderSize)
	}
	return b, nil
}

// appendString appends s as a JSON string, escaped as serde_json (the
// reference implementation's serializer) escapes it: quote, backslash and
// control characters only, with lowercase hex.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// Write writes tensors and the metadata meta (which may be nil) to w in the
// safetensors format. Tensors are laid out by decreasing dtype alignment and
// then by name, metadata keys are sorted and the header is padded with
// spaces to a multiple of 8 bytes, so the same tensors and metadata always
// give the same bytes, and the same bytes as the reference implementation.
//
// Write returns an error wrapping ErrName, ErrDType or ErrShape for invalid
// tensors (before writing anything), ErrHeader for a header over
// [MaxHeaderSize], or the first error of w.
func Write(w io.Writer, tensors []Tensor, meta map[string]string) error {
	ps, _, err := layout(tensors)
	if err != nil {
		return err
	}
	h, err := header(ps, meta)
	if err != nil {
		return err
	}
	buf := make([]byte, 8, 8+len(h))
	binary.LittleEndian.PutUint64(buf, uint64(len(h)))
	if _, err := w.Write(append(buf, h...)); err != nil {
		return fmt.Errorf("safetensors: writing header: %w", err)
	}
	_, err = writeData(w, ps)
	return err
}

// WriteData writes only the data buffer of the file Write would write for
// tensors: the bytes after the header. It returns the number of bytes
// written. Hash its output to checksum a file's content before writing it.
func WriteData(w io.Writer, tensors []Tensor) (int64, error) {
	ps, _, err := layout(tensors)
	if err != nil {
		return 0, err
	}
	return writeData(w, ps)
}

func writeData(w io.Writer, ps []placed) (int64, error) {
	var n int64
	var buf []byte
	put := func(b []byte) error {
		m, err := w.Write(b)
		n += int64(m)
		if err != nil {
			return fmt.Errorf("safetensors: writing data: %w", err)
		}
		return nil
	}
	for _, p := range ps {
		t := p.t
		switch {
		case t.Raw != nil || (t.DType != F32 && t.DType != I64):
			if err := put(t.Raw); err != nil {
				return n, err
			}
		case t.DType == F32:
			if buf == nil {
				buf = make([]byte, chunkSize)
			}
			for x := t.F32; len(x) > 0; {
				k := min(len(x), chunkSize/4)
				for i, v := range x[:k] {
					binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
				}
				if err := put(buf[:4*k]); err != nil {
					return n, err
				}
				x = x[k:]
			}
		default: // I64
			if buf == nil {
				buf = make([]byte, chunkSize)
			}
			for x := t.I64; len(x) > 0; {
				k := min(len(x), chunkSize/8)
				for i, v := range x[:k] {
					binary.LittleEndian.PutUint64(buf[8*i:], uint64(v))
				}
				if err := put(buf[:8*k]); err != nil {
					return n, err
				}
				x = x[k:]
			}
		}
	}
	return n, nil
}
