//go:build !(cgo && openblas)

package blastest

// RawAvailable reports whether [RawSgemm] calls OpenBLAS (built with
// -tags openblas and cgo).
const RawAvailable = false

// RawSgemm would call OpenBLAS directly; without it, it panics.
func RawSgemm(m, n, k int, a, b, c []float32) { panic("blastest: RawSgemm needs -tags openblas") }

// RawSetThreads does nothing without OpenBLAS.
func RawSetThreads(n int) {}
