package engine

// Hooks for the tests of package engine_test.

// KernelSets returns the kernel configurations the tests exercise:
//   - "native": the AVX-512 direct convolution and vector loops (only where
//     the CPU has them);
//   - "native-1": the same with one sample per extended group;
//   - "go", "go-1": the direct convolution with the portable Go
//     micro-kernels (default groups, one sample per group) and the plain Go
//     elementwise loops;
//   - "im2col": no direct convolution, plain Go loops.
func KernelSets() []string {
	if nativeDirectKernels().dot == nil {
		return []string{"go", "go-1", "im2col"}
	}
	return []string{"native", "native-1", "go", "go-1", "im2col"}
}

// UseKernels selects a kernel configuration of KernelSets and returns a
// function that restores the previous one.
func UseKernels(name string) (restore func()) {
	d, v, b := direct, vec, directBytes
	switch name {
	case "native":
		direct, vec = nativeDirectKernels(), nativeSIMD()
	case "native-1":
		direct, vec, directBytes = nativeDirectKernels(), nativeSIMD(), 1
	case "go":
		direct, vec = goDirectKernels(), simdKernels{}
	case "go-1":
		direct, vec, directBytes = goDirectKernels(), simdKernels{}, 1
	case "im2col":
		direct, vec = directKernels{}, simdKernels{}
	default:
		panic("engine: unknown kernel set " + name)
	}
	return func() { direct, vec, directBytes = d, v, b }
}

// CopyRows, GatherRows2 and InterleaveRows2 expose the row kernels of the
// direct convolution's layouts.
var (
	CopyRows        = copyRows
	GatherRows2     = gatherRows2
	InterleaveRows2 = interleaveRows2
)

// TileKernel runs tile kernel i of the current kernel set: c[r·ldc + j] =
// Σ_t a[t·mr + r]·b[offs[t] + j] for r < mr, j < nr. It returns false when
// there is no such kernel.
func TileKernel(i int, a, b []float32, offs []int32, c []float32, ldc int) (mr, nr int, ok bool) {
	if i >= len(direct.tiles) {
		return 0, 0, false
	}
	k := direct.tiles[i]
	for _, o := range offs {
		if o < 0 || int(o)+k.nr > len(b) {
			panic("engine: TileKernel: shift outside b")
		}
	}
	k.fn(a, b, offs, c, ldc)
	return k.mr, k.nr, true
}

// DotKernel runs the weight-gradient kernel of the current kernel set:
// out[o·6 + t] = Σ_{i<16n} dy[o·ldd + i]·x[offs[t] + i], o < 4, t < 6.
func DotKernel(dy []float32, ldd int, x []float32, offs []int32, n int, out *[24]float32) bool {
	if direct.dot == nil {
		return false
	}
	direct.dot(dy, ldd, x, offs, n, out)
	return true
}
