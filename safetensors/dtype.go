package safetensors

import "math"

// DType is a safetensors element type, spelled as in the header ("F32").
type DType string

// The element types of the safetensors format. Every one of them can be
// parsed and copied as raw bytes; [File.Float32] converts F32, F16, BF16 and
// F64, and [File.Int64] converts the integer types and BOOL.
const (
	Bool   DType = "BOOL"
	F4     DType = "F4"      // 4-bit MX float; tensors must fill whole bytes
	F6E2M3 DType = "F6_E2M3" // 6-bit MX float; tensors must fill whole bytes
	F6E3M2 DType = "F6_E3M2" // 6-bit MX float; tensors must fill whole bytes
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	F8E8M0 DType = "F8_E8M0"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	C64    DType = "C64"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// dtypeOrder lists the dtypes in the reference implementation's enum order,
// which is increasing alignment. Writers lay tensors out in decreasing order
// of this rank (then by name), so that every tensor starts aligned.
var dtypeOrder = []DType{Bool, F4, F6E2M3, F6E3M2, U8, I8, F8E5M2, F8E4M3, F8E8M0,
	I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64}

type dtypeInfo struct {
	bits int // bits per element
	rank int // position in dtypeOrder
}

var dtypes = func() map[DType]dtypeInfo {
	bits := map[DType]int{Bool: 8, F4: 4, F6E2M3: 6, F6E3M2: 6, U8: 8, I8: 8,
		F8E5M2: 8, F8E4M3: 8, F8E8M0: 8, I16: 16, U16: 16, F16: 16, BF16: 16,
		I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64}
	m := make(map[DType]dtypeInfo, len(dtypeOrder))
	for i, d := range dtypeOrder {
		m[d] = dtypeInfo{bits: bits[d], rank: i}
	}
	return m
}()

// Known reports whether d is one of the format's element types.
func (d DType) Known() bool { _, ok := dtypes[d]; return ok }

// Bits returns the size of one element in bits (4 for F4, 32 for F32), or 0
// if d is not a known dtype.
func (d DType) Bits() int { return dtypes[d].bits }

// IsFloat reports whether [File.Float32] can convert tensors of type d.
func (d DType) IsFloat() bool { return d == F32 || d == F16 || d == BF16 || d == F64 }

// IsInt reports whether [File.Int64] can convert tensors of type d.
func (d DType) IsInt() bool {
	switch d {
	case Bool, U8, I8, I16, U16, I32, U32, I64, U64:
		return true
	}
	return false
}

// HalfToFloat32 converts an IEEE 754 binary16 value, given by its bits, to
// float32. The conversion is exact: every half value, subnormals, infinities
// and NaN payloads included, is representable as a float32.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // Inf or NaN: keep the payload in the top mantissa bits.
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero or subnormal: mant · 2^-24, exact in float32.
		f := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(f))
	}
	// Normal: rebias the exponent from 15 to 127.
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// BFloat16ToFloat32 converts a bfloat16 value, given by its bits, to
// float32. bfloat16 is the top half of a float32, so this is exact.
func BFloat16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }
