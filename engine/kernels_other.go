//go:build !amd64 || purego

package engine

// nativeDirectKernels returns no kernels: the direct convolution needs
// the AVX-512 micro-kernels of kernels_amd64.s.
func nativeDirectKernels() directKernels { return directKernels{} }

// nativeSIMD returns no kernels: the plain Go loops are used.
func nativeSIMD() simdKernels { return simdKernels{} }
