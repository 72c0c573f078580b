//go:build !amd64 || purego

package sgemm

// kernels returns the portable kernel only: the assembly kernels need
// amd64 and are left out by the purego build tag.
func kernels() []kernel { return []kernel{generic} }
