// Package engine is asym's compute core: the numerical kernels that layers
// and learning rules call, behind the small [Backend] interface.
//
// # Overview
//
// [CPU] is the only backend today. Dense products go to the BLAS selected in
// package blas (pure Go by default, OpenBLAS with -tags openblas);
// convolutions are im2col + GEMM over groups of samples; pooling, batch
// normalisation, activations and the loss are plain Go loops. Work is split
// over a fixed number of goroutines (the --threads setting) by contiguous,
// deterministic partitions, and reductions across workers are summed in
// worker order. The same inputs on the same thread count therefore give
// bit-identical outputs, whatever the scheduling.
//
// Layers and rules never touch a kernel directly: they call a [Backend], so
// another backend (a GPU one, say) can be added without changing them.
//
// # Buffers
//
// Outputs are written into tensors the caller owns (resized by the kernel
// when needed). Scratch space (im2col columns, per-worker partial
// gradients) lives in the backend and is reused from call to call, so a
// training step allocates nothing once its buffers have grown. A Backend
// is not safe for concurrent use by several goroutines.
//
// # Errors
//
// Shape mismatches are programmer errors and panic with a message that
// begins with "engine: ".
package engine
