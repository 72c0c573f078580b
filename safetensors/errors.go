package safetensors

import (
	"errors"
	"fmt"
)

// Errors returned by this package, wrapped with the file name and a
// description of the problem; test for them with [errors.Is].
var (
	// ErrHeader reports a malformed header: a header length over
	// [MaxHeaderSize], invalid UTF-8, invalid JSON, a value of the wrong
	// type, a missing field or a duplicate key.
	ErrHeader = errors.New("invalid safetensors header")
	// ErrTruncated reports a file that ends before the header or the data
	// it declares. The file was probably cut short while being written or
	// copied.
	ErrTruncated = errors.New("truncated safetensors file")
	// ErrOffsets reports tensor data_offsets that are inconsistent: a gap
	// or an overlap between tensors, a byte length that differs from the
	// shape times the dtype size, or bytes after the last tensor.
	ErrOffsets = errors.New("invalid safetensors tensor offsets")
	// ErrDType reports a dtype this package does not know, or a conversion
	// it cannot make (Float32 of an I64 tensor, for example).
	ErrDType = errors.New("unsupported safetensors dtype")
	// ErrNotFound reports a tensor name that is not in the file.
	ErrNotFound = errors.New("tensor not found")
	// ErrName reports a tensor name Write cannot store: empty, duplicate,
	// reserved ("__metadata__") or not valid UTF-8.
	ErrName = errors.New("invalid tensor name")
	// ErrShape reports a tensor whose data does not match its shape, or a
	// destination tensor whose shape differs from the stored one.
	ErrShape = errors.New("tensor shape mismatch")
)

// errorf returns an error that reads "safetensors: FILE: MSG: SENTINEL" (or
// "safetensors: MSG: SENTINEL" when file is empty) and wraps sentinel.
func errorf(file string, sentinel error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if file != "" {
		return fmt.Errorf("safetensors: %s: %s: %w", file, msg, sentinel)
	}
	return fmt.Errorf("safetensors: %s: %w", msg, sentinel)
}
