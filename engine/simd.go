package engine

import "math"

// simdKernels are vectorised versions of the hottest elementwise loops and
// of the row copies of the direct convolution. The elementwise ones handle
// slices whose length is a positive multiple of 16; the wrappers below run
// the rest in Go. A nil member means none is available.
type simdKernels struct {
	relu              func(y, x []float32)
	reluGrad          func(dx, dy, y []float32)
	add               func(d, a, b []float32)
	addReLU           func(d, a, b []float32)
	affine            func(y, x []float32, a, b float32)                         // y = a·x + b
	affineReLU        func(y, x []float32, a, b float32)                         // y = max(a·x + b, 0)
	bnGrad            func(out, x, d []float32, k, mdy, mdyx, mu, is float32)    // see bnGradSlice
	bnGradMasked      func(out, x, d, y []float32, k, mdy, mdyx, mu, is float32) // d taken as 0 where y ≤ 0
	sums              func(x []float32) (s, sq float64)
	centeredDot       func(d, x []float32, mu float64) (sd, sdx float64)
	centeredDotMasked func(d, y, x []float32, mu float64) (sd, sdx float64)                          // d taken as 0 where y ≤ 0
	copyRows          func(dst []float32, dld int, src []float32, sld, rows, width, zpre, zpost int) // see copyRows
	gatherRows2       func(dst []float32, dld int, src []float32, sld, rows, n, zpre, zpost int)     // see gatherRows2
	interleaveRows2   func(dst []float32, dld int, a, b []float32, sld, rows, n int)                 // see interleaveRows2

	// Row kernels of the Transformer layers (mathf.go): any length ≥ 1.
	gelu       func(y, x []float32)
	geluGrad   func(dx, dy, x []float32)
	max        func(x []float32) float32
	expShift   func(y, x []float32, shift float32) float32
	scale      func(y, x []float32, a float32)
	dot        func(a, b []float32) float32
	mulSub     func(dx, y, dy []float32, s float32)
	normAffine func(y, x, g, b []float32, mu, is float32)
	lnDots     func(x, dy, g []float32, mu, is float32) (sg, sgx float32)
	lnGrad     func(dx, x, dy, g []float32, mu, is, sg, sgx float32)
	accF64     func(acc []float64, x []float32)
	lnAcc      func(accg, accb []float64, x, dy []float32, mu, is float32)
}

// vec holds the kernels in use: AVX-512 ones where the CPU has them.
var vec = nativeSIMD()

// vecPart returns the length of the prefix of n elements that a vector
// kernel handles (0 when there is none).
func vecPart(n int, ok bool) int {
	if !ok {
		return 0
	}
	return n &^ 15
}

// reluSlice computes y = max(x, 0) (branch-free: the sign bit masks the
// value, so random signs cost no mispredictions; a positive NaN passes
// through).
func reluSlice(y, x []float32) {
	y = y[:len(x)]
	n := vecPart(len(x), vec.relu != nil)
	if n > 0 {
		vec.relu(y[:n], x[:n])
	}
	for i := n; i < len(x); i++ {
		b := math.Float32bits(x[i])
		y[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// reluGradSlice computes dx = dy·[y > 0] (branch-free).
func reluGradSlice(dx, dy, y []float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	n := vecPart(len(y), vec.reluGrad != nil)
	if n > 0 {
		vec.reluGrad(dx[:n], dy[:n], y[:n])
	}
	for i := n; i < len(y); i++ {
		s := int32(math.Float32bits(y[i]))
		mask := uint32(((-s) & ^s) >> 31) // all ones iff y > 0
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & mask)
	}
}

// addSlice computes d = a + b.
func addSlice(d, a, b []float32) {
	a, b = a[:len(d)], b[:len(d)]
	n := vecPart(len(d), vec.add != nil)
	if n > 0 {
		vec.add(d[:n], a[:n], b[:n])
	}
	for i := n; i < len(d); i++ {
		d[i] = a[i] + b[i]
	}
}

// addReLUSlice computes d = max(a + b, 0), rounding and rectifying as
// addSlice followed by reluSlice.
func addReLUSlice(d, a, b []float32) {
	a, b = a[:len(d)], b[:len(d)]
	n := vecPart(len(d), vec.addReLU != nil)
	if n > 0 {
		vec.addReLU(d[:n], a[:n], b[:n])
	}
	for i := n; i < len(d); i++ {
		v := math.Float32bits(a[i] + b[i])
		d[i] = math.Float32frombits(v &^ uint32(int32(v)>>31))
	}
}

// affineSlice computes y = a·x + b (the vector kernel rounds once, with a
// fused multiply-add).
func affineSlice(y, x []float32, a, b float32) {
	y = y[:len(x)]
	n := vecPart(len(x), vec.affine != nil)
	if n > 0 {
		vec.affine(y[:n], x[:n], a, b)
	}
	for i := n; i < len(x); i++ {
		y[i] = float32(a*x[i]) + b // the conversion forbids fusing into an FMA, as in affineReLUSlice
	}
}

// affineReLUSlice computes y = max(a·x + b, 0), bit for bit as
// affineSlice followed by reluSlice.
func affineReLUSlice(y, x []float32, a, b float32) {
	y = y[:len(x)]
	n := vecPart(len(x), vec.affineReLU != nil && vec.affine != nil)
	if n > 0 {
		vec.affineReLU(y[:n], x[:n], a, b)
	}
	for i := n; i < len(x); i++ {
		v := math.Float32bits(float32(a*x[i]) + b)
		y[i] = math.Float32frombits(v &^ uint32(int32(v)>>31))
	}
}

// bnGradSlice computes out = k·((d − mdy) − (x − mu)·is·mdyx).
func bnGradSlice(out, x, d []float32, k, mdy, mdyx, mu, is float32) {
	x, d = x[:len(out)], d[:len(out)]
	n := vecPart(len(out), vec.bnGrad != nil)
	if n > 0 {
		vec.bnGrad(out[:n], x[:n], d[:n], k, mdy, mdyx, mu, is)
	}
	for i := n; i < len(out); i++ {
		xh := (x[i] - mu) * is
		out[i] = k * (d[i] - mdy - xh*mdyx)
	}
}

// copyRows sets every row r < rows of dst (rows dld floats apart) to zpre
// zeros, the width floats of row r of src (rows sld apart) and zpost
// zeros: the row copies of the direct convolution's layouts.
func copyRows(dst []float32, dld int, src []float32, sld, rows, width, zpre, zpost int) {
	if rows <= 0 {
		return
	}
	n := zpre + width + zpost
	dst = dst[:(rows-1)*dld+n]
	src = src[:(rows-1)*sld+width]
	if vec.copyRows != nil && width > 0 && zpre <= 16 && zpost <= 16 {
		vec.copyRows(dst, dld, src, sld, rows, width, zpre, zpost)
		return
	}
	for r := 0; r < rows; r++ {
		d := dst[r*dld : r*dld+n]
		clear(d[:zpre])
		copy(d[zpre:zpre+width], src[r*sld:r*sld+width])
		clear(d[zpre+width:])
	}
}

// gatherRows2 sets every row r < rows of dst (rows dld floats apart) to
// zpre zeros, src[r·sld + 2i] for i < n, and zpost zeros: the stride-2
// phase split of the direct convolution.
func gatherRows2(dst []float32, dld int, src []float32, sld, rows, n, zpre, zpost int) {
	if rows <= 0 {
		return
	}
	w := zpre + n + zpost
	dst = dst[:(rows-1)*dld+w]
	if n > 0 {
		src = src[:(rows-1)*sld+2*n-1]
	}
	if vec.gatherRows2 != nil && n > 0 && zpre <= 16 && zpost <= 16 {
		vec.gatherRows2(dst, dld, src, sld, rows, n, zpre, zpost)
		return
	}
	for r := 0; r < rows; r++ {
		d := dst[r*dld : r*dld+w]
		clear(d[:zpre])
		for i := 0; i < n; i++ {
			d[zpre+i] = src[r*sld+2*i]
		}
		clear(d[zpre+n:])
	}
}

// interleaveRows2 sets, for every row r < rows, dst[r·dld + 2i] =
// a[r·sld + i] and dst[r·dld + 2i + 1] = b[r·sld + i], writing n floats
// per row: the stride-2 phase merge of the direct convolution.
func interleaveRows2(dst []float32, dld int, a, b []float32, sld, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	dst = dst[:(rows-1)*dld+n]
	a = a[:(rows-1)*sld+(n+1)/2]
	if n > 1 {
		b = b[:(rows-1)*sld+n/2]
	}
	if vec.interleaveRows2 != nil && n > 1 {
		vec.interleaveRows2(dst, dld, a, b, sld, rows, n)
		return
	}
	for r := 0; r < rows; r++ {
		for i := 0; i < n; i++ {
			if i%2 == 0 {
				dst[r*dld+i] = a[r*sld+i/2]
			} else {
				dst[r*dld+i] = b[r*sld+i/2]
			}
		}
	}
}

// reluMask returns d where y > 0 and +0 elsewhere, as reluGradSlice does.
func reluMask(d, y float32) float32 {
	s := int32(math.Float32bits(y))
	return math.Float32frombits(math.Float32bits(d) & uint32(((-s) & ^s)>>31))
}

// bnGradMaskedSlice is bnGradSlice of d·[y > 0], bit for bit as
// reluGradSlice followed by bnGradSlice.
func bnGradMaskedSlice(out, x, d, y []float32, k, mdy, mdyx, mu, is float32) {
	x, d, y = x[:len(out)], d[:len(out)], y[:len(out)]
	n := vecPart(len(out), vec.bnGradMasked != nil && vec.bnGrad != nil)
	if n > 0 {
		vec.bnGradMasked(out[:n], x[:n], d[:n], y[:n], k, mdy, mdyx, mu, is)
	}
	for i := n; i < len(out); i++ {
		xh := (x[i] - mu) * is
		out[i] = k * (reluMask(d[i], y[i]) - mdy - xh*mdyx)
	}
}
