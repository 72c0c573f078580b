// Package tensor holds asym's float32 tensor: a shape and a contiguous,
// row-major slice of data.
//
// # Storage
//
// A Tensor is dense and contiguous: the element at index (i0, i1, ..., ik)
// lives at Data[((i0*S1+i1)*S2+...)+ik]. Image batches are NCHW (batch,
// channels, height, width); matrices are (rows, columns). There are no
// strides: views that share Data are made with [Tensor.View], which only
// reinterprets the shape.
//
// # Buffers
//
// Training reuses its buffers from step to step. [Tensor.Resize] changes the
// shape and grows Data only when its capacity is too small, so a layer that
// keeps its output tensor allocates once and then never again for the same
// batch size. Functions never retain their arguments unless their
// documentation says so.
//
// # Errors
//
// Shape mismatches are programmer errors and panic with a message that
// begins with "tensor: ". Nothing in this package returns an error.
package tensor
