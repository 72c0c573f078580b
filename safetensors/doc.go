// Package safetensors reads and writes tensors in the safetensors format,
// the format of Hugging Face's safetensors library, used by asym for
// checkpoints and for importing PyTorch weights.
//
// # Format
//
// A file is an 8-byte little-endian unsigned length N, then N bytes of JSON
// header, then the data buffer. The header maps each tensor name to its
// dtype, shape and data_offsets [begin, end) relative to the start of the
// data buffer; the optional key "__metadata__" holds a string-to-string map:
//
//	{"__metadata__":{"step":"100"},"fc.weight":{"dtype":"F32","shape":[10,784],"data_offsets":[0,31360]}}
//
// Data is little-endian and row-major, with no strides. The tensors tile
// the buffer: sorted by offset, each begins where the previous one ends,
// the last ends at the end of the file, and each holds exactly
// prod(shape)·size(dtype) bytes. A shape of [] is a scalar; a shape with a
// zero dimension holds no bytes.
//
// # Writing
//
// [Write] stores F32 tensors ([FromTensor]), I64 tensors ([Int64s]) and the
// raw bytes of any dtype ([Bytes]). It lays the file out as the reference
// implementation does: tensors by decreasing dtype alignment and then by
// name, the header as compact JSON padded with spaces to a multiple of 8
// bytes (so every tensor starts 8-byte aligned), metadata keys sorted. The
// same tensors and metadata therefore always give byte-identical files.
//
// # Reading
//
// [Read], [ReadFile] and [Open] parse and validate the header, and then read
// tensors on demand: [File.Float32] converts F32, F16, BF16 and F64 to
// float32; [File.Int64] converts integer and BOOL tensors; [File.Tensor]
// returns any tensor's raw bytes. A file from an untrusted source cannot
// make the reader allocate out of proportion to the file's size (at most
// the widening of a conversion, ×8 for U8 to int64): the header length is
// checked against the file size and [MaxHeaderSize] (100 MB, the reference
// limit) before it is read, and every tensor's offsets against its shape,
// its neighbours and the file size before any data is read.
//
// # Errors
//
// Problems with a file return errors that name it and wrap one of
// [ErrHeader], [ErrTruncated], [ErrOffsets], [ErrDType] or [ErrNotFound];
// invalid arguments to Write wrap [ErrName], [ErrDType] or [ErrShape].
//
// # Compatibility
//
// The package is tested against the format's specification (the
// safetensors README and the reference Rust implementation's serializer and
// validation rules, including byte-for-byte test vectors from its test
// suite) and against a small Python reader and writer written from the
// specification with numpy. It has not been tested against the Rust-backed
// safetensors Python package itself, which could not be installed where it
// was developed.
package safetensors
