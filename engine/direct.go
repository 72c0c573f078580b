package engine

import "math"

// Direct (implicit-GEMM) convolution.
//
// The input of a group of samples is copied once into an "extended"
// layout in which every kernel tap is a constant shift of the flattened
// index, so that no im2col matrix is materialised:
//
//   - Stride 1: per channel, the samples' planes follow each other, each
//     plane preceded by PadH zero rows and each row by PadW zero columns
//     (the zero columns of the next row, and the zero rows of the next
//     sample, serve as the right and bottom padding). Output (s, oh, ow) is
//     computed at extended index j = (s·Hq + oh)·Wq + ow (Wq = W + PadW,
//     Hq = H + PadH) from the inputs at j + ci·ld + kh·DilH·Wq + kw·DilW.
//   - Stride S > 1: the zero-padded planes are split into S×S phases
//     (padded row ≡ rh, column ≡ rw mod S), each Hq × Wq = ⌈(H+2·PadH)/S⌉ ×
//     ⌈(W+2·PadW)/S⌉ per sample; tap (kh, kw) reads phase ((kh·DilH) mod S,
//     (kw·DilW) mod S) shifted by ⌊kh·DilH/S⌋ rows and ⌊kw·DilW/S⌋ columns.
//     Only the phases some tap reads are built.
//
// The positions with ow ≥ OW or oh ≥ OH are computed too and dropped when
// the result is copied out.
//
//   - The forward pass runs a register-tiled micro-kernel (mr output
//     channels × nr extended positions, the weights broadcast, the inputs
//     loaded straight from the shifted rows) and copies the valid positions
//     into y.
//   - The input gradient of a stride-1 convolution is the stride-1
//     convolution of δy, padded by span−1−pad, with the weights transposed
//     and flipped: the same kernel. With stride S, each phase of δx (in
//     padded coordinates) is a stride-1 correlation of δy with the taps of
//     that phase (see inputGradStrided).
//   - The weight gradient is, for every (output channel, tap) pair, the dot
//     product of a row of δy (in the extended layout, zero at the dropped
//     positions) with a shifted row of the extended input: a second
//     micro-kernel tiles 4 output channels × 6 taps over 16-wide vectors.
//
// Every output element is summed in a fixed order (over taps for y and δx;
// over the worker's samples, vector lane by lane, for δW), so results are
// reproducible for a given thread count.

// tileKernel computes c[i·ldc + j] = Σ_t a[t·mr+i]·b[offs[t]+j] for i < mr,
// j < nr. b must hold every b[offs[t]+j].
type tileKernel struct {
	mr, nr int
	fn     func(a, b []float32, offs []int32, c []float32, ldc int)
}

// dotKernel computes out[o·6+t] = Σ_{i<16n} dy[o·ldd + i]·x[offs[t] + i]
// for o < 4, t < 6.
type dotKernel func(dy []float32, ldd int, x []float32, offs []int32, n int, out *[24]float32)

// directKernels is the set of micro-kernels of the direct path; nil
// members disable it.
type directKernels struct {
	tiles []tileKernel // by increasing mr; the smallest one that covers m is used, else the largest
	dot   dotKernel
}

// direct holds the kernels in use: the AVX-512 ones where the CPU has
// them, none otherwise (the im2col path is used then). Tests swap in the
// portable Go kernels to check the driver everywhere.
var direct = nativeDirectKernels()

// goDirectKernels returns the portable (slow) reference kernels.
func goDirectKernels() directKernels {
	return directKernels{
		tiles: []tileKernel{{4, 48, goTile(4, 48)}, {8, 48, goTile(8, 48)}},
		dot:   goDot,
	}
}

func goTile(mr, nr int) func(a, b []float32, offs []int32, c []float32, ldc int) {
	return func(a, b []float32, offs []int32, c []float32, ldc int) {
		var sum [16 * 48]float32
		s := sum[:mr*nr]
		for t, off := range offs {
			bt := b[int(off) : int(off)+nr]
			at := a[t*mr : t*mr+mr]
			for i, av := range at {
				row := s[i*nr : i*nr+nr]
				for j, bv := range bt {
					row[j] += av * bv
				}
			}
		}
		for i := 0; i < mr; i++ {
			copy(c[i*ldc:i*ldc+nr], s[i*nr:i*nr+nr])
		}
	}
}

func goDot(dy []float32, ldd int, x []float32, offs []int32, n int, out *[24]float32) {
	for o := 0; o < 4; o++ {
		d := dy[o*ldd : o*ldd+16*n]
		for t := 0; t < 6; t++ {
			xs := x[int(offs[t]) : int(offs[t])+16*n]
			var s float32
			for i, v := range d {
				s += v * xs[i]
			}
			out[o*6+t] = s
		}
	}
}

// directScratch is the reusable memory of one worker on the direct path.
type directScratch struct {
	xp  []float32 // extended input (or δy, for a strided input gradient)
	ext []float32 // extended output, or δy for the weight gradient
	dot [24]float32
}

// extPlan is the extended layout of the input of one convolution (the
// forward pass, or the input gradient of a stride-1 convolution seen as a
// forward pass of δy), per convolution group.
type extPlan struct {
	c, m           int // input and output channels per group
	h, w, oh, ow   int
	kh, kw, dh, dw int
	sh, sw, ph, pw int
	wq, hq, per    int // extended row width, rows per sample, their product
	nrh, nrw       int // distinct row and column phases read by the taps
	taps           int // c·kh·kw
	tail           int // zeros every phase region needs past its last sample
}

func newExtPlan(c, m, h, w, kh, kw, sh, sw, dh, dw, ph, pw int) extPlan {
	p := extPlan{c: c, m: m, h: h, w: w, kh: kh, kw: kw, sh: sh, sw: sw, dh: dh, dw: dw, ph: ph, pw: pw}
	p.oh = (h+2*ph-dh*(kh-1)-1)/sh + 1
	p.ow = (w+2*pw-dw*(kw-1)-1)/sw + 1
	if sh == 1 && sw == 1 {
		p.wq, p.hq = w+pw, h+ph
		p.tail = (kh-1)*dh*p.wq + (kw-1)*dw
	} else {
		p.wq, p.hq = (w+2*pw+sw-1)/sw, (h+2*ph+sh-1)/sh
	}
	p.per = p.wq * p.hq
	p.nrh, p.nrw = phaseCount(kh, dh, sh), phaseCount(kw, dw, sw)
	p.taps = c * kh * kw
	return p
}

// phaseCount returns the number of distinct residues k·d mod s, k < n.
func phaseCount(n, d, s int) int {
	c := 0
	for r := 0; r < s; r++ {
		if phaseIndex(r, n, d, s) >= 0 {
			c++
		}
	}
	return c
}

// phaseIndex returns the rank of residue r among the distinct residues
// k·d mod s (k < n), or −1 if no k gives r.
func phaseIndex(r, n, d, s int) int {
	idx := 0
	for q := 0; q < s; q++ {
		hit := false
		for k := 0; k < n; k++ {
			if k*d%s == q {
				hit = true
				break
			}
		}
		if q == r {
			if !hit {
				return -1
			}
			return idx
		}
		if hit {
			idx++
		}
	}
	return -1
}

// directOK reports whether the direct path handles g: any stride with a
// kernel larger than 1×1, and stride 1 with padding smaller than the
// kernel's span. (A 1×1 stride-1 unpadded convolution needs no im2col and
// runs as a plain product.)
func (g *ConvGeom) directOK() bool {
	if direct.dot == nil || g.pointwise || g.KH*g.KW == 1 {
		return false
	}
	if g.StrideH == 1 && g.StrideW == 1 {
		return g.PadH <= g.DilH*(g.KH-1) && g.PadW <= g.DilW*(g.KW-1)
	}
	return true
}

// forwardPlan is the layout of the forward pass.
func (g *ConvGeom) forwardPlan() extPlan {
	return newExtPlan(g.inPerGroup, g.outPerGroup, g.H, g.W, g.KH, g.KW, g.StrideH, g.StrideW, g.DilH, g.DilW, g.PadH, g.PadW)
}

// inputGradPlan is the layout of the input gradient of a stride-1
// convolution, a forward pass of δy with the transposed, flipped kernel.
func (g *ConvGeom) inputGradPlan() extPlan {
	return newExtPlan(g.outPerGroup, g.inPerGroup, g.OH, g.OW, g.KH, g.KW, 1, 1, g.DilH, g.DilW,
		g.DilH*(g.KH-1)-g.PadH, g.DilW*(g.KW-1)-g.PadW)
}

// directBytes is the extended data (input and output channels) a worker
// keeps per group of samples: small enough to stay in its L2 cache.
var directBytes = 768 << 10

// groupSize returns the number of samples per extended group for workers
// handling up to perWorker samples.
func (p *extPlan) groupSize(perWorker int) int {
	per := (p.c*p.nrh*p.nrw + p.m) * p.per * 4
	return max(1, min(perWorker, directBytes/max(per, 1)))
}

// layout returns, for groups of up to gs samples, the length of a phase
// region, the channel stride and the length of the whole extended input
// (with zeroed slack for the reads of the last tiles).
func (p *extPlan) layout(gs int) (ldp, ld, n int) {
	ldp = roundUp(gs*p.per+p.tail, 16)
	ld = p.nrh * p.nrw * ldp
	return ldp, ld, p.c*ld + ldp + p.kh*p.dh*p.wq + p.kw*p.dw + 64
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// offsets fills offs with the shifts of the taps (ci, kh, kw), then pads it
// to a multiple of 6 with copies of the last one.
func (p *extPlan) offsets(offs []int32, ldp, ld int) []int32 {
	if p.c*ld >= math.MaxInt32 {
		panic("engine: direct convolution: extended input too large for 32-bit shifts")
	}
	offs = offs[:0]
	for ci := 0; ci < p.c; ci++ {
		for kh := 0; kh < p.kh; kh++ {
			for kw := 0; kw < p.kw; kw++ {
				a, b := kh*p.dh, kw*p.dw
				slot := phaseIndex(a%p.sh, p.kh, p.dh, p.sh)*p.nrw + phaseIndex(b%p.sw, p.kw, p.dw, p.sw)
				offs = append(offs, int32(ci*ld+slot*ldp+a/p.sh*p.wq+b/p.sw))
			}
		}
	}
	for len(offs)%6 != 0 {
		offs = append(offs, offs[len(offs)-1])
	}
	return offs
}

// pad writes channels [c0, c0+p.c) of samples n0..n0+gs−1 of src (N×C×H×W)
// into dst (of the length given by layout) in the extended layout.
func (p *extPlan) pad(dst []float32, ldp, ld int, src []float32, C, n0, gs, c0 int) {
	hw := p.h * p.w
	for i := 0; i < p.c; i++ {
		if p.sh == 1 && p.sw == 1 {
			d := dst[i*ld : i*ld+ldp]
			for s := 0; s < gs; s++ {
				base := s * p.per
				clear(d[base : base+p.ph*p.wq])
				copyRows(d[base+p.ph*p.wq:], p.wq, src[((n0+s)*C+c0+i)*hw:], p.w, p.h, p.w, p.pw, 0)
			}
			clear(d[gs*p.per:])
			continue
		}
		for rh := 0; rh < p.sh; rh++ {
			ih := phaseIndex(rh, p.kh, p.dh, p.sh)
			if ih < 0 {
				continue
			}
			for rw := 0; rw < p.sw; rw++ {
				iw := phaseIndex(rw, p.kw, p.dw, p.sw)
				if iw < 0 {
					continue
				}
				d := dst[i*ld+(ih*p.nrw+iw)*ldp : i*ld+(ih*p.nrw+iw+1)*ldp]
				for s := 0; s < gs; s++ {
					p.gatherPhase(d[s*p.per:(s+1)*p.per], src[((n0+s)*C+c0+i)*hw:][:hw], rh, rw)
				}
				clear(d[gs*p.per:])
			}
		}
	}
	clear(dst[p.c*ld:])
}

// gatherPhase writes phase (rh, rw) of the zero-padded plane x into d
// (hq × wq).
func (p *extPlan) gatherPhase(d, x []float32, rh, rw int) {
	// Rows q with 0 ≤ q·sh + rh − ph < h, and columns c with
	// 0 ≤ c·sw + rw − pw < w, are contiguous ranges.
	q0, q1 := phaseRange(rh, p.ph, p.sh, p.h, p.hq)
	c0, c1 := phaseRange(rw, p.pw, p.sw, p.w, p.wq)
	clear(d[:q0*p.wq])
	clear(d[q1*p.wq:])
	if q0 == q1 {
		return
	}
	src := x[(q0*p.sh+rh-p.ph)*p.w+c0*p.sw+rw-p.pw:]
	dst := d[q0*p.wq:]
	if p.sw == 2 {
		gatherRows2(dst, p.wq, src, p.sh*p.w, q1-q0, c1-c0, c0, p.wq-c1)
		return
	}
	for q := 0; q < q1-q0; q++ {
		row := dst[q*p.wq : (q+1)*p.wq]
		clear(row[:c0])
		for c := c0; c < c1; c++ {
			row[c] = src[q*p.sh*p.w+(c-c0)*p.sw]
		}
		clear(row[c1:])
	}
}

// phaseRange returns the range [a, b) of phase positions q < n with
// 0 ≤ q·s + r − pad < size.
func phaseRange(r, pad, s, size, n int) (a, b int) {
	a = min(max(0, (pad-r+s-1)/s), n)
	if pad-r < 0 {
		a = 0
	}
	b = min(n, max(0, (size-1+pad-r)/s+1))
	if size-1+pad-r < 0 {
		b = 0
	}
	return a, max(a, b)
}

// tileFor returns the tile kernel for m output channels.
func tileFor(m int) tileKernel {
	for _, k := range direct.tiles {
		if k.mr >= m {
			return k
		}
	}
	return direct.tiles[len(direct.tiles)-1]
}

// packTiles packs the weights of one group for the tile kernel: for row
// block b of mr rows, a[(b·taps + t)·mr + i] = w(b·mr + i, t), zero past m
// rows. w(o, t) is given by at.
func packTiles(a []float32, m, taps, mr int, at func(o, t int) float32) {
	for b := 0; b*mr < m; b++ {
		blk := a[b*taps*mr : (b+1)*taps*mr]
		for t := 0; t < taps; t++ {
			for i := 0; i < mr; i++ {
				o := b*mr + i
				v := float32(0)
				if o < m {
					v = at(o, t)
				}
				blk[t*mr+i] = v
			}
		}
	}
}

// runTiles computes the extended output ext (⌈m/mr⌉·mr rows of lt) of the
// packed weights a (taps = len(offs)) applied to the extended input xp.
func runTiles(k tileKernel, ext []float32, lt int, a, xp []float32, offs []int32, m int) {
	// The kernels read xp[j+off : j+off+nr] for every tile j < lt and
	// shift off: check the extremes once.
	maxOff := int32(0)
	for _, o := range offs {
		if o < 0 {
			panic("engine: direct convolution: negative shift")
		}
		maxOff = max(maxOff, o)
	}
	if lt+int(maxOff) > len(xp) || len(offs) == 0 || lt%k.nr != 0 {
		panic("engine: direct convolution: extended input too short")
	}
	taps := len(offs)
	for b := 0; b*k.mr < m; b++ {
		ab := a[b*taps*k.mr : (b+1)*taps*k.mr]
		cb := ext[b*k.mr*lt:]
		for j := 0; j < lt; j += k.nr {
			k.fn(ab, xp[j:], offs, cb[j:], lt)
		}
	}
}

// directForward computes out = A ⋆ in over the extended plan p for every
// group: in is N×(G·p.c)×p.h×p.w, out N×(G·p.m)×p.oh×p.ow, and packed holds
// the packed weights of each group (packedLen floats apart).
func (c *CPU) directForward(out, in []float32, n int, groups int, p *extPlan, k tileKernel, packed []float32, packedLen int) {
	perWorker := (n + c.threads - 1) / c.threads
	G := p.groupSize(perWorker)
	ldp, ld, xlen := p.layout(G)
	c.offs = p.offsets(c.offs, ldp, ld)
	offs := c.offs[:p.taps]
	mb := (p.m + k.mr - 1) / k.mr
	inC, outC := groups*p.c, groups*p.m
	ohw := p.oh * p.ow
	c.parallel(n, 1, func(wk, lo, hi int) {
		s := &c.scratch[wk].direct
		s.xp = grow(s.xp, xlen)
		for n0 := lo; n0 < hi; n0 += G {
			gs := min(G, hi-n0)
			lt := roundUp(gs*p.per, k.nr)
			s.ext = grow(s.ext, mb*k.mr*lt)
			for grp := 0; grp < groups; grp++ {
				p.pad(s.xp, ldp, ld, in, inC, n0, gs, grp*p.c)
				runTiles(k, s.ext, lt, packed[grp*packedLen:], s.xp, offs, p.m)
				for sm := 0; sm < gs; sm++ {
					for o := 0; o < p.m; o++ {
						copyRows(out[((n0+sm)*outC+grp*p.m+o)*ohw:], p.ow, s.ext[o*lt+sm*p.per:], p.wq, p.oh, p.ow, 0, 0)
					}
				}
			}
		}
	})
}

// directWeightGrad adds, into every worker's partial (Out × taps), the
// weight gradient of its samples: partial[o][t] += Σ dy(o)·x(shifted by
// tap t). It returns the number of workers used.
func (c *CPU) directWeightGrad(x, dy []float32, g *ConvGeom, nwt int) int {
	c.plan = g.forwardPlan()
	p := &c.plan
	perWorker := (g.N + c.threads - 1) / c.threads
	G := p.groupSize(perWorker)
	ldp, ld, xlen := p.layout(G)
	c.offs = p.offsets(c.offs, ldp, ld)
	offs := c.offs
	ntb := len(offs) / 6
	mpad := roundUp(p.m, 4)
	inC, outC := g.In, g.Out
	ohw := p.oh * p.ow
	return c.parallel(g.N, 1, func(wk, lo, hi int) {
		ws := &c.scratch[wk]
		ws.partial = grow(ws.partial, nwt)
		clear(ws.partial)
		s := &ws.direct
		s.xp = grow(s.xp, xlen)
		sums := &s.dot
		for n0 := lo; n0 < hi; n0 += G {
			gs := min(G, hi-n0)
			ldd := roundUp(gs*p.per, 16)
			nv := ldd / 16
			s.ext = grow(s.ext, mpad*ldd)
			for grp := 0; grp < g.Groups; grp++ {
				p.pad(s.xp, ldp, ld, x, inC, n0, gs, grp*p.c)
				// δy in the extended layout, zero at the dropped positions
				// and in the rows past m.
				for o := 0; o < p.m; o++ {
					row := s.ext[o*ldd : (o+1)*ldd]
					for sm := 0; sm < gs; sm++ {
						blk := row[sm*p.per : (sm+1)*p.per]
						copyRows(blk, p.wq, dy[((n0+sm)*outC+grp*p.m+o)*ohw:], p.ow, p.oh, p.ow, 0, p.wq-p.ow)
						clear(blk[p.oh*p.wq:])
					}
					clear(row[gs*p.per:])
				}
				clear(s.ext[p.m*ldd : mpad*ldd])
				part := ws.partial[grp*p.m*p.taps:]
				for ob := 0; ob < mpad; ob += 4 {
					for tb := 0; tb < ntb; tb++ {
						direct.dot(s.ext[ob*ldd:], ldd, s.xp, offs[tb*6:tb*6+6], nv, sums)
						for o := 0; o < 4 && ob+o < p.m; o++ {
							for t := 0; t < 6 && tb*6+t < p.taps; t++ {
								part[(ob+o)*p.taps+tb*6+t] += sums[o*6+t]
							}
						}
					}
				}
			}
		}
	})
}

// conv2dDirect is Conv2d on the direct path.
func (c *CPU) conv2dDirect(y, x, w []float32, g *ConvGeom) {
	c.plan = g.forwardPlan()
	K := g.colRows
	c.directWithKernel(y, x, g, func(grp, o, t int) float32 { return w[(grp*c.plan.m+o)*K+t] })
}

// directWithKernel packs, group by group, the kernel whose entry (row o,
// tap t) of group grp is at(grp, o, t) for c.plan, and runs the direct
// forward pass of c.plan with it from x into y.
func (c *CPU) directWithKernel(y, x []float32, g *ConvGeom, at func(grp, o, t int) float32) {
	p := &c.plan
	k := tileFor(p.m)
	mb := (p.m + k.mr - 1) / k.mr
	plen := mb * k.mr * p.taps
	c.packed = grow(c.packed, g.Groups*plen)
	for grp := 0; grp < g.Groups; grp++ {
		packTiles(c.packed[grp*plen:], p.m, p.taps, k.mr, func(o, t int) float32 { return at(grp, o, t) })
	}
	c.directForward(y, x, g.N, g.Groups, p, k, c.packed, plen)
}

// conv2dInputGradDirect is Conv2dInputGrad on the direct path.
func (c *CPU) conv2dInputGradDirect(dx, dy, w []float32, g *ConvGeom) {
	if g.StrideH != 1 || g.StrideW != 1 {
		c.inputGradStrided(dx, dy, w, g)
		return
	}
	// δx = (flipped Wᵀ) ⋆ δy padded by span−1−pad. Row ci, tap (o, kh, kw)
	// of the transposed kernel is w[o][ci][KH−1−kh][KW−1−kw].
	c.plan = g.inputGradPlan()
	K, kk := g.colRows, g.KH*g.KW
	c.directWithKernel(dx, dy, g, func(grp, ci, t int) float32 {
		o, r := t/kk, t%kk
		return w[grp*g.outPerGroup*K+o*K+ci*kk+kk-1-r]
	})
}

// inputGradStrided is the input gradient of a strided convolution. In
// padded coordinates (ih + PadH = S·qi + rh, likewise for columns), phase
// (rh, rw) of δx receives the taps with kh·DilH ≡ rh and kw·DilW ≡ rw
// (mod S): δx(qi, qj) = Σ w(o, ·, kh, kw)·δy(o, qi − ⌊kh·DilH/S⌋,
// qj − ⌊kw·DilW/S⌋), a stride-1 correlation. δy is laid out with
// Ah = ⌊(KH−1)·DilH/S⌋ zero rows and Aw zero columns before each sample's
// Hq × Wq block, so that every tap is a non-negative shift; each phase runs
// the tile kernel over it with its own taps, and its valid positions are
// scattered into δx.
func (c *CPU) inputGradStrided(dx, dy, w []float32, g *ConvGeom) {
	M, Ci, K, kk := g.outPerGroup, g.inPerGroup, g.colRows, g.KH*g.KW
	sh, sw := g.StrideH, g.StrideW
	hq, wq := (g.H+2*g.PadH+sh-1)/sh, (g.W+2*g.PadW+sw-1)/sw
	ah, aw := (g.KH-1)*g.DilH/sh, (g.KW-1)*g.DilW/sw
	wb := aw + wq
	per := (ah + hq) * wb
	k := tileFor(Ci)
	mb := (Ci + k.mr - 1) / k.mr
	perWorker := (g.N + c.threads - 1) / c.threads
	nph := sh * sw
	G := max(1, min(perWorker, directBytes/max((M+nph*Ci)*per*4, 1)))
	ldd := roundUp(G*per, 16)
	xlen := M*ldd + ah*wb + aw + roundUp(G*per, k.nr) + 64
	if xlen >= math.MaxInt32 {
		panic("engine: direct convolution: extended input too large for 32-bit shifts")
	}

	// Per phase: its taps' offsets (o major) in c.offs and its packed
	// weights, group by group, in c.packed.
	c.phase = c.phase[:0]
	c.offs = c.offs[:0]
	plen := 0
	for r := 0; r < nph; r++ {
		rh, rw := r/sw, r%sw
		ph := phaseTaps{off: len(c.offs), packed: plen}
		for o := 0; o < M; o++ {
			for kh := 0; kh < g.KH; kh++ {
				for kw := 0; kw < g.KW; kw++ {
					a, b := kh*g.DilH, kw*g.DilW
					if a%sh == rh && b%sw == rw {
						c.offs = append(c.offs, int32(o*ldd+(ah-a/sh)*wb+aw-b/sw))
					}
				}
			}
		}
		ph.taps = len(c.offs) - ph.off
		plen += mb * k.mr * ph.taps
		c.phase = append(c.phase, ph)
	}
	c.packed = grow(c.packed, g.Groups*plen)
	for grp := 0; grp < g.Groups; grp++ {
		wg := w[grp*M*K:]
		for r, ph := range c.phase {
			if ph.taps == 0 {
				continue
			}
			rh, rw := r/sw, r%sw
			tapsPer := ph.taps / M
			// The phase's taps in (kh, kw) order, as indices kh·KW + kw.
			var idx [64]int
			list := idx[:0]
			if tapsPer > len(idx) {
				list = make([]int, 0, tapsPer)
			}
			for kh := 0; kh < g.KH; kh++ {
				for kw := 0; kw < g.KW; kw++ {
					if kh*g.DilH%sh == rh && kw*g.DilW%sw == rw {
						list = append(list, kh*g.KW+kw)
					}
				}
			}
			packTiles(c.packed[grp*plen+ph.packed:], Ci, ph.taps, k.mr, func(ci, t int) float32 {
				return wg[t/tapsPer*K+ci*kk+list[t%tapsPer]]
			})
		}
	}
	phases := c.phase
	inC := g.In
	ohw, hw := g.OH*g.OW, g.H*g.W
	c.parallel(g.N, 1, func(wk, lo, hi int) {
		s := &c.scratch[wk].direct
		s.xp = grow(s.xp, xlen)
		for n0 := lo; n0 < hi; n0 += G {
			gs := min(G, hi-n0)
			lt := roundUp(gs*per, k.nr)
			blk := mb * k.mr * lt // one phase's extended output
			s.ext = grow(s.ext, len(phases)*blk)
			for grp := 0; grp < g.Groups; grp++ {
				clear(s.xp)
				for o := 0; o < M; o++ {
					for sm := 0; sm < gs; sm++ {
						copyRows(s.xp[o*ldd+sm*per+ah*wb+aw:], wb, dy[((n0+sm)*g.Out+grp*M+o)*ohw:], g.OW, g.OH, g.OW, 0, 0)
					}
				}
				for r, ph := range phases {
					if ph.taps > 0 {
						runTiles(k, s.ext[r*blk:], lt, c.packed[grp*plen+ph.packed:], s.xp, c.offs[ph.off:ph.off+ph.taps], Ci)
					}
				}
				// δx row ih is padded row ih + PadH = qi·S + rh; its padded
				// column p comes from phase (rh, p mod S), position p / S.
				for sm := 0; sm < gs; sm++ {
					for ci := 0; ci < Ci; ci++ {
						dst := dx[((n0+sm)*inC+grp*Ci+ci)*hw:][:hw]
						base := ci*lt + sm*per
						for rh := 0; rh < sh; rh++ {
							ih0 := ((rh-g.PadH)%sh + sh) % sh // first row of this phase
							if ih0 >= g.H {
								continue
							}
							rows := (g.H - ih0 + sh - 1) / sh
							qi0 := (ih0 + g.PadH) / sh
							src := func(rw int) []float32 { return s.ext[(rh*sw+rw)*blk+base+qi0*wb:] }
							if sw == 2 && phases[rh*2].taps > 0 && phases[rh*2+1].taps > 0 {
								if pw := g.PadW; pw%2 == 0 {
									interleaveRows2(dst[ih0*g.W:], sh*g.W, src(0)[pw/2:], src(1)[pw/2:], wb, rows, g.W)
								} else {
									interleaveRows2(dst[ih0*g.W:], sh*g.W, src(1)[(pw-1)/2:], src(0)[(pw+1)/2:], wb, rows, g.W)
								}
								continue
							}
							for r := 0; r < rows; r++ {
								drow := dst[(ih0+r*sh)*g.W : (ih0+r*sh+1)*g.W]
								for iw := range drow {
									pc := iw + g.PadW
									if phases[rh*sw+pc%sw].taps == 0 {
										drow[iw] = 0
									} else {
										drow[iw] = src(pc % sw)[r*wb+pc/sw]
									}
								}
							}
						}
					}
				}
			}
		}
	})
}

// phaseTaps locates the taps of one phase of a strided input gradient:
// their offsets at c.offs[off:off+taps], their packed weights at
// c.packed[packed:] (within each group's block).
type phaseTaps struct {
	off, taps, packed int
}
