package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/asymlab/asym/tensor"
)

// Info describes one tensor of a file.
type Info struct {
	// Name is the tensor's key in the header.
	Name string
	// DType is the element type.
	DType DType
	// Shape holds the dimensions, outermost first; empty for a scalar.
	Shape []int
	// Begin and End are the tensor's byte offsets in the data buffer
	// (End is one past the last byte).
	Begin, End int64
}

// Numel returns the number of elements.
func (i Info) Numel() int { return tensor.Numel(i.Shape) }

// File is a parsed and validated safetensors file. Its tensors are read
// from the underlying reader on demand; methods are safe for concurrent use
// when the reader is (files, [bytes.Reader]).
type File struct {
	// Metadata holds the header's "__metadata__" map; nil if it has none.
	Metadata map[string]string

	name      string // for error messages; may be empty
	r         io.ReaderAt
	closer    io.Closer
	dataStart int64
	dataSize  int64
	infos     []Info // in data order
	index     map[string]int
}

// Read parses and validates the safetensors file of size bytes in r. It
// reads only the header; tensor data is read from r by the File's methods,
// so r must stay readable while the File is used.
//
// Everything is checked before the header is allocated or parsed: the
// header length against the file size and [MaxHeaderSize], the header's
// JSON, every tensor's dtype and shape against its data_offsets, and the
// offsets themselves, which must tile the data buffer exactly (no gap, no
// overlap, no trailing bytes). Errors wrap ErrTruncated, ErrHeader,
// ErrOffsets or ErrDType, or the reader's error.
func Read(r io.ReaderAt, size int64) (*File, error) { return read(r, size, "") }

// ReadFile reads the whole file at path into memory and parses it (see
// [Read]). Errors name the path.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return read(bytes.NewReader(b), int64(len(b)), path)
}

// Open opens the file at path and parses its header (see [Read]), reading
// tensors from the file on demand; call [File.Close] when done. Errors name
// the path.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := read(fd, st.Size(), path)
	if err != nil {
		fd.Close()
		return nil, err
	}
	f.closer = fd
	return f, nil
}

// Close closes the file opened by [Open]; it does nothing for a File from
// [Read] or [ReadFile].
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	return c.Close()
}

func read(r io.ReaderAt, size int64, name string) (*File, error) {
	if size < 8 {
		return nil, errorf(name, ErrTruncated, "file is %d bytes, shorter than the 8-byte header length", size)
	}
	var nb [8]byte
	if err := readAt(r, nb[:], 0, name); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeaderSize {
		return nil, errorf(name, ErrHeader, "header length %d exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, errorf(name, ErrTruncated, "header length %d but only %d bytes follow", n, size-8)
	}
	hb := make([]byte, n)
	if err := readAt(r, hb, 8, name); err != nil {
		return nil, err
	}
	f := &File{name: name, r: r, dataStart: 8 + int64(n), dataSize: size - 8 - int64(n)}
	if err := f.parseHeader(hb); err != nil {
		return nil, err
	}
	return f, nil
}

// readAt fills b from r at off, reporting a short read as truncation.
func readAt(r io.ReaderAt, b []byte, off int64, name string) error {
	if len(b) == 0 {
		return nil
	}
	k, err := r.ReadAt(b, off)
	if k == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return errorf(name, ErrTruncated, "file ends at byte %d, reading %d bytes at %d", off+int64(k), len(b), off)
	}
	if name != "" {
		return fmt.Errorf("safetensors: %s: %w", name, err)
	}
	return fmt.Errorf("safetensors: %w", err)
}

// parseHeader parses and validates the JSON header hb.
func (f *File) parseHeader(hb []byte) error {
	if !utf8.Valid(hb) {
		return errorf(f.name, ErrHeader, "header is not valid UTF-8")
	}
	err := walkObject(hb, func(key string, val json.RawMessage) error {
		if key == metadataKey {
			m, err := parseMetadata(val)
			if err != nil {
				return fmt.Errorf("%s: %w", metadataKey, err)
			}
			f.Metadata = m
			return nil
		}
		info, err := parseInfo(key, val)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", key, err)
		}
		f.infos = append(f.infos, info)
		return nil
	})
	if err != nil {
		var de *dtypeError
		if errors.As(err, &de) {
			return errorf(f.name, ErrDType, "%v", err)
		}
		var oe *offsetsError
		if errors.As(err, &oe) {
			return errorf(f.name, ErrOffsets, "%v", err)
		}
		return errorf(f.name, ErrHeader, "%v", err)
	}
	// Like the reference, order by offsets and require each tensor to start
	// where the previous one ended.
	slices.SortStableFunc(f.infos, func(a, b Info) int {
		if a.Begin != b.Begin {
			return cmpInt64(a.Begin, b.Begin)
		}
		return cmpInt64(a.End, b.End)
	})
	f.index = make(map[string]int, len(f.infos))
	var end int64
	for i, in := range f.infos {
		if in.Begin != end {
			if in.Begin < end {
				return errorf(f.name, ErrOffsets, "tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", in.Name, in.Begin, in.End, end)
			}
			return errorf(f.name, ErrOffsets, "tensor %q: data_offsets [%d, %d] leave a gap after the previous tensor, which ends at %d", in.Name, in.Begin, in.End, end)
		}
		end = in.End
		f.index[in.Name] = i
	}
	switch {
	case end > f.dataSize:
		return errorf(f.name, ErrTruncated, "tensors need %d data bytes but the file holds %d", end, f.dataSize)
	case end < f.dataSize:
		return errorf(f.name, ErrOffsets, "%d bytes after the last tensor are not covered by any tensor", f.dataSize-end)
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dtypeError marks an unknown dtype, reported as ErrDType.
type dtypeError struct{ dtype string }

func (e *dtypeError) Error() string { return fmt.Sprintf("unknown dtype %q", e.dtype) }

// offsetsError marks a tensor whose offsets disagree with its shape,
// reported as ErrOffsets.
type offsetsError struct{ msg string }

func (e *offsetsError) Error() string { return e.msg }

// walkObject calls fn for each member of the JSON object in b, in order. It
// rejects anything but a single object (surrounding whitespace allowed) and
// duplicate keys.
func walkObject(b []byte, fn func(key string, val json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want a JSON object, found %v", tok)
	}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("invalid JSON: %v", err)
		}
		key := tok.(string) // object keys are always strings
		if seen[key] {
			return fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return fmt.Errorf("invalid JSON: %v", err)
		}
		if err := fn(key, val); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return fmt.Errorf("invalid JSON after the object: %v", err)
		}
		return fmt.Errorf("unexpected %v after the object", tok)
	}
	return nil
}

// parseMetadata parses the "__metadata__" value: null or an object of
// strings.
func parseMetadata(val json.RawMessage) (map[string]string, error) {
	if string(val) == "null" {
		return nil, nil
	}
	m := make(map[string]string)
	err := walkObject(val, func(key string, v json.RawMessage) error {
		s, err := parseString(v)
		if err != nil {
			return fmt.Errorf("key %q: %w", key, err)
		}
		m[key] = s
		return nil
	})
	return m, err
}

func parseString(v json.RawMessage) (string, error) {
	if len(v) == 0 || v[0] != '"' {
		return "", fmt.Errorf("want a string, found %s", clip(v))
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", err
	}
	return s, nil
}

// parseUints parses a JSON array of non-negative integers.
func parseUints(v json.RawMessage) ([]uint64, error) {
	if len(v) == 0 || v[0] != '[' {
		return nil, fmt.Errorf("want an array, found %s", clip(v))
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		return nil, err
	}
	out := make([]uint64, len(elems))
	for i, e := range elems {
		u, err := strconv.ParseUint(string(e), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("want a non-negative integer, found %s", clip(e))
		}
		out[i] = u
	}
	return out, nil
}

// clip shortens a JSON value for an error message.
func clip(v []byte) string {
	if len(v) > 40 {
		return string(v[:40]) + "..."
	}
	return string(v)
}

// parseInfo parses and checks one tensor entry.
func parseInfo(name string, val json.RawMessage) (Info, error) {
	var (
		dtype            string
		dims, offs       []uint64
		hasD, hasS, hasO bool
	)
	if len(val) == 0 || val[0] != '{' {
		return Info{}, fmt.Errorf("want an object, found %s", clip(val))
	}
	err := walkObject(val, func(key string, v json.RawMessage) error {
		var err error
		switch key {
		case "dtype":
			hasD = true
			dtype, err = parseString(v)
		case "shape":
			hasS = true
			dims, err = parseUints(v)
		case "data_offsets":
			hasO = true
			offs, err = parseUints(v)
			if err == nil && len(offs) != 2 {
				err = fmt.Errorf("want 2 offsets, found %d", len(offs))
			}
		default:
			return nil // unknown fields are ignored, as by the reference
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return Info{}, err
	}
	switch {
	case !hasD:
		return Info{}, errors.New(`missing field "dtype"`)
	case !hasS:
		return Info{}, errors.New(`missing field "shape"`)
	case !hasO:
		return Info{}, errors.New(`missing field "data_offsets"`)
	}
	d := DType(dtype)
	if !d.Known() {
		return Info{}, &dtypeError{dtype}
	}
	if offs[0] > math.MaxInt64 || offs[1] > math.MaxInt64 || offs[1] < offs[0] {
		return Info{}, &offsetsError{fmt.Sprintf("invalid data_offsets [%d, %d]", offs[0], offs[1])}
	}
	shape := make([]int, len(dims))
	for i, v := range dims {
		if v > math.MaxInt {
			return Info{}, fmt.Errorf("dimension %d too large", v)
		}
		shape[i] = int(v)
	}
	_, nbytes, ok := sizeOf(dims, d)
	if !ok {
		return Info{}, &offsetsError{fmt.Sprintf("shape %v of %s overflows or does not fill whole bytes", shape, d)}
	}
	if nbytes != offs[1]-offs[0] {
		return Info{}, &offsetsError{fmt.Sprintf("shape %v of %s needs %d bytes but data_offsets [%d, %d] hold %d", shape, d, nbytes, offs[0], offs[1], offs[1]-offs[0])}
	}
	return Info{Name: name, DType: d, Shape: shape, Begin: int64(offs[0]), End: int64(offs[1])}, nil
}

// Names returns the tensor names, sorted.
func (f *File) Names() []string {
	names := make([]string, len(f.infos))
	for i, in := range f.infos {
		names[i] = in.Name
	}
	slices.Sort(names)
	return names
}

// Infos returns a description of every tensor, in the order of their data.
func (f *File) Infos() []Info {
	out := slices.Clone(f.infos)
	for i := range out {
		out[i].Shape = slices.Clone(out[i].Shape)
	}
	return out
}

// Info returns the description of the tensor called name.
func (f *File) Info(name string) (Info, bool) {
	i, ok := f.index[name]
	if !ok {
		return Info{}, false
	}
	in := f.infos[i]
	in.Shape = slices.Clone(in.Shape)
	return in, true
}

// Name returns the path the File was read from by [ReadFile] or [Open], or
// "" for a File from [Read].
func (f *File) Name() string { return f.name }

// DataSize returns the size of the data buffer in bytes.
func (f *File) DataSize() int64 { return f.dataSize }

// Data returns a reader of the data buffer, the bytes after the header.
func (f *File) Data() *io.SectionReader { return io.NewSectionReader(f.r, f.dataStart, f.dataSize) }

func (f *File) lookup(name string) (Info, error) {
	i, ok := f.index[name]
	if !ok {
		return Info{}, errorf(f.name, ErrNotFound, "no tensor %q", name)
	}
	return f.infos[i], nil
}

// Tensor returns the tensor called name with its raw little-endian bytes in
// Raw, whatever its dtype; Write can store it again unchanged.
func (f *File) Tensor(name string) (Tensor, error) {
	in, err := f.lookup(name)
	if err != nil {
		return Tensor{}, err
	}
	raw := make([]byte, in.End-in.Begin)
	if err := readAt(f.r, raw, f.dataStart+in.Begin, f.name); err != nil {
		return Tensor{}, err
	}
	return Tensor{Name: in.Name, DType: in.DType, Shape: slices.Clone(in.Shape), Raw: raw}, nil
}

// Float32 returns the tensor called name converted to float32. F32, F16 and
// BF16 convert exactly; F64 rounds to nearest (values beyond the float32
// range become ±Inf). Other dtypes give ErrDType.
func (f *File) Float32(name string) (*tensor.Tensor, error) {
	in, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	if !in.DType.IsFloat() {
		return nil, errorf(f.name, ErrDType, "tensor %q is %s; Float32 converts F32, F16, BF16 and F64", name, in.DType)
	}
	t := tensor.New(in.Shape...)
	if err := f.decodeFloat32(in, t.Data); err != nil {
		return nil, err
	}
	return t, nil
}

// Float32Into converts the tensor called name to float32 (see
// [File.Float32]) into dst, which must have the stored shape (ErrShape
// otherwise). It lets a checkpoint be loaded into existing parameters.
func (f *File) Float32Into(name string, dst *tensor.Tensor) error {
	in, err := f.lookup(name)
	if err != nil {
		return err
	}
	if !in.DType.IsFloat() {
		return errorf(f.name, ErrDType, "tensor %q is %s; Float32 converts F32, F16, BF16 and F64", name, in.DType)
	}
	if !tensor.SameShape(in.Shape, dst.Shape) || len(dst.Data) != in.Numel() {
		return errorf(f.name, ErrShape, "tensor %q has shape %v, destination %v", name, in.Shape, dst.Shape)
	}
	return f.decodeFloat32(in, dst.Data)
}

func (f *File) decodeFloat32(in Info, dst []float32) error {
	size := int64(in.DType.Bits() / 8)
	return f.chunks(in, size, func(b []byte) {
		switch in.DType {
		case F32:
			for i := range len(b) / 4 {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		case F16:
			for i := range len(b) / 2 {
				dst[i] = HalfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
			}
		case BF16:
			for i := range len(b) / 2 {
				dst[i] = BFloat16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
			}
		case F64:
			for i := range len(b) / 8 {
				dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
			}
		}
		dst = dst[len(b)/int(size):]
	})
}

// Int64 returns the elements of the integer (or BOOL) tensor called name as
// int64, and its shape. U64 values above 2^63-1 and other dtypes give
// ErrDType.
func (f *File) Int64(name string) ([]int64, []int, error) {
	in, err := f.lookup(name)
	if err != nil {
		return nil, nil, err
	}
	if !in.DType.IsInt() {
		return nil, nil, errorf(f.name, ErrDType, "tensor %q is %s; Int64 converts integer and BOOL tensors", name, in.DType)
	}
	out := make([]int64, in.Numel())
	size := int64(in.DType.Bits() / 8)
	dst := out
	overflow := false
	err = f.chunks(in, size, func(b []byte) {
		n := len(b) / int(size)
		for i := range n {
			e := b[i*int(size):]
			var v int64
			switch in.DType {
			case Bool, U8:
				v = int64(e[0])
			case I8:
				v = int64(int8(e[0]))
			case I16:
				v = int64(int16(binary.LittleEndian.Uint16(e)))
			case U16:
				v = int64(binary.LittleEndian.Uint16(e))
			case I32:
				v = int64(int32(binary.LittleEndian.Uint32(e)))
			case U32:
				v = int64(binary.LittleEndian.Uint32(e))
			case I64:
				v = int64(binary.LittleEndian.Uint64(e))
			case U64:
				u := binary.LittleEndian.Uint64(e)
				overflow = overflow || u > math.MaxInt64
				v = int64(u)
			}
			dst[i] = v
		}
		dst = dst[n:]
	})
	if err != nil {
		return nil, nil, err
	}
	if overflow {
		return nil, nil, errorf(f.name, ErrDType, "tensor %q: U64 value does not fit in int64", name)
	}
	return out, slices.Clone(in.Shape), nil
}

// chunks reads the tensor's bytes in pieces of whole elements and passes
// each to fn.
func (f *File) chunks(in Info, elem int64, fn func([]byte)) error {
	n := in.End - in.Begin
	if n == 0 {
		return nil
	}
	step := max(chunkSize/elem*elem, elem)
	buf := make([]byte, min(n, step))
	for off := int64(0); off < n; {
		k := min(n-off, step)
		if err := readAt(f.r, buf[:k], f.dataStart+in.Begin+off, f.name); err != nil {
			return err
		}
		fn(buf[:k])
		off += k
	}
	return nil
}
