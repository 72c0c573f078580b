//go:build !(cgo && openblas)

package openblas

// Available reports whether this binary was built with OpenBLAS.
const Available = false
