package tensor

import (
	"fmt"
	"math"
	"strings"
)

// Tensor is a dense, contiguous, row-major float32 array.
// The zero value is an empty tensor of rank 0 and length 0; use [New] or
// [Tensor.Resize] to give it a shape.
type Tensor struct {
	// Shape holds the size of each dimension, outermost first.
	Shape []int
	// Data holds the elements in row-major order; len(Data) is the product
	// of Shape.
	Data []float32
}

// New returns a zeroed tensor of the given shape.
// It panics if a dimension is negative.
func New(shape ...int) *Tensor {
	n := Numel(shape)
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// FromData returns a tensor of the given shape that uses data as its
// storage (no copy). It panics if len(data) differs from the product of
// shape.
func FromData(data []float32, shape ...int) *Tensor {
	if len(data) != Numel(shape) {
		panic(fmt.Sprintf("tensor: FromData: %d values for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Numel returns the number of elements of a tensor of the given shape.
// It panics if a dimension is negative.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		n *= d
	}
	return n
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// Resize gives t the shape and returns t. Data keeps its storage when its
// capacity suffices, so the contents are unspecified afterwards (they are
// whatever was there; new storage is zero). Call [Tensor.Zero] if zeros are
// needed.
func (t *Tensor) Resize(shape ...int) *Tensor {
	n := Numel(shape)
	if cap(t.Data) >= n {
		t.Data = t.Data[:n]
	} else {
		t.Data = make([]float32, n)
	}
	if len(t.Shape) == len(shape) {
		copy(t.Shape, shape)
	} else {
		t.Shape = append(t.Shape[:0], shape...)
	}
	return t
}

// ResizeLike gives t the shape of o and returns t (see [Tensor.Resize]).
func (t *Tensor) ResizeLike(o *Tensor) *Tensor { return t.Resize(o.Shape...) }

// View returns a tensor of a new shape that shares t's data. It panics if
// the number of elements differs.
func (t *Tensor) View(shape ...int) *Tensor {
	if Numel(shape) != len(t.Data) {
		panic(fmt.Sprintf("tensor: View: cannot view %v as %v", t.Shape, shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: t.Data}
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	for i := range t.Data {
		t.Data[i] = v
	}
}

// CopyFrom resizes t to src's shape and copies src's elements into it.
func (t *Tensor) CopyFrom(src *Tensor) *Tensor {
	t.ResizeLike(src)
	copy(t.Data, src.Data)
	return t
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// SameShape reports whether t and o have identical shapes.
func (t *Tensor) SameShape(o *Tensor) bool { return SameShape(t.Shape, o.Shape) }

// SameShape reports whether two shapes are identical.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// MustSameShape panics with a message naming op if a and b differ in shape.
func MustSameShape(op string, a, b *Tensor) {
	if !a.SameShape(b) {
		panic(fmt.Sprintf("tensor: %s: shape mismatch %v vs %v", op, a.Shape, b.Shape))
	}
}

// Row returns the i-th slice along the first dimension (for a batch, the
// i-th sample) as a sub-slice of Data.
func (t *Tensor) Row(i int) []float32 {
	if len(t.Shape) == 0 {
		panic("tensor: Row of a rank-0 tensor")
	}
	n := len(t.Data) / t.Shape[0]
	return t.Data[i*n : (i+1)*n]
}

// RowLen returns the number of elements in one slice along the first
// dimension.
func (t *Tensor) RowLen() int {
	if len(t.Shape) == 0 || t.Shape[0] == 0 {
		return 0
	}
	return len(t.Data) / t.Shape[0]
}

// HasNaNOrInf reports whether any element is NaN or ±Inf.
func (t *Tensor) HasNaNOrInf() bool { return !AllFinite(t.Data) }

// AllFinite reports whether every value is finite.
func AllFinite(x []float32) bool {
	for _, v := range x {
		// v-v is NaN for ±Inf and NaN, 0 otherwise.
		if v-v != 0 {
			return false
		}
	}
	return true
}

// String returns a short description: the shape and the first values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v[", t.Shape)
	for i, v := range t.Data {
		if i == 8 {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.4g", v)
	}
	b.WriteByte(']')
	return b.String()
}

// Equal reports whether a and b have the same shape and bitwise-identical
// elements (NaNs compare by bits).
func Equal(a, b *Tensor) bool {
	if !a.SameShape(b) {
		return false
	}
	for i := range a.Data {
		if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
			return false
		}
	}
	return true
}

// MaxAbsDiff returns max |a_i - b_i| in float64. It panics if the shapes
// differ.
func MaxAbsDiff(a, b *Tensor) float64 {
	MustSameShape("MaxAbsDiff", a, b)
	m := 0.0
	for i := range a.Data {
		d := math.Abs(float64(a.Data[i]) - float64(b.Data[i]))
		if d > m || d != d {
			m = d
		}
	}
	return m
}
