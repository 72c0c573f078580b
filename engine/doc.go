// Package engine is asym's compute core: the numerical kernels that layers
// and learning rules call, behind the small [Backend] interface.
//
// # Overview
//
// [CPU] is the only backend today. Dense products go to the BLAS selected in
// package blas (asym's own SGEMM in Go assembly by default, OpenBLAS with
// -tags openblas). On CPUs
// with AVX-512 (amd64, detected at start-up), convolutions with a kernel
// larger than 1×1 run as direct convolutions: the input of a group of
// samples is laid out so that every kernel tap is a constant shift
// (strided convolutions are split into phases), and register-tiled
// assembly micro-kernels compute the outputs and the weight gradient
// without an im2col matrix; batch normalisation,
// activations and the row copies run vectorised too, as do the Transformer
// kernels (softmax rows, LayerNorm, the exact GELU through a float32 erfc
// fit: see mathf.go), which take any length through masked tails.
// Elsewhere, and for 1×1 convolutions, convolutions are im2col + GEMM over
// groups of samples and the other kernels plain Go loops. [CPU.BatchedMatMul]
// reads its operands through strided layouts ([MatLayout]: attention heads
// in place) and can skip the zero blocks of causal attention ([Tri]). Work
// is split over a fixed number of goroutines (the --threads setting) by
// contiguous, deterministic partitions, and reductions across workers are
// summed in worker order.
// The same inputs on the same thread count (and the same machine) therefore
// give bit-identical outputs, whatever the scheduling.
//
// Besides the [Backend] methods, CPU has fused kernels that layers use
// when the backend provides them, bit-identical to the unfused sequences:
// [CPU.AddReLU], [CPU.BatchNormReLUTrain] and [CPU.BatchNormReLUGrad].
//
// Layers and rules never touch a kernel directly: they call a [Backend], so
// another backend (a GPU one, say) can be added without changing them.
//
// # Buffers
//
// Outputs are written into tensors the caller owns (resized by the kernel
// when needed). Scratch space (im2col columns, the extended layouts of the
// direct convolution, per-worker partial gradients) lives in the backend
// and is reused from call to call, so a training step allocates nothing
// once its buffers have grown. A Backend is not safe for concurrent use by
// several goroutines.
//
// # Errors
//
// Shape mismatches are programmer errors and panic with a message that
// begins with "engine: ".
package engine
