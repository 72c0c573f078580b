package engine

import (
	"fmt"

	"github.com/asymlab/asym/tensor"
)

// targetCols is the number of GEMM columns (output positions) a worker
// gathers from several samples before one product: small feature maps are
// batched so that the BLAS sees wide matrices.
const targetCols = 1024

func (g *ConvGeom) groupSize(perWorker int) int {
	if g.positions >= targetCols {
		return 1
	}
	return max(1, min(perWorker, (targetCols+g.positions-1)/g.positions))
}

func (g *ConvGeom) check(op string, x, w *tensor.Tensor) {
	if x != nil && (x.Rank() != 4 || x.Shape[0] != g.N || x.Shape[1] != g.In || x.Shape[2] != g.H || x.Shape[3] != g.W) {
		panic(fmt.Sprintf("engine: %s: input shape %v, geometry wants [%d %d %d %d]", op, x.Shape, g.N, g.In, g.H, g.W))
	}
	if w != nil && !tensor.SameShape(w.Shape, g.WeightShape()) {
		panic(fmt.Sprintf("engine: %s: weight shape %v, geometry wants %v", op, w.Shape, g.WeightShape()))
	}
	if g.positions == 0 {
		panic("engine: " + op + ": geometry not initialised (call ConvGeom.Init)")
	}
}

// im2col writes the patches of one sample's channel group x (inPerGroup×H×W)
// into cols, a colRows × positions matrix with row stride ld.
func im2col(cols []float32, ld int, x []float32, g *ConvGeom) {
	if g.StrideH == 1 && g.StrideW == 1 && g.OW == g.W {
		im2colBand(cols, ld, x, g)
		return
	}
	hw := g.H * g.W
	for ci := 0; ci < g.inPerGroup; ci++ {
		xc := x[ci*hw : (ci+1)*hw]
		for kh := 0; kh < g.KH; kh++ {
			for kw := 0; kw < g.KW; kw++ {
				row := cols[((ci*g.KH+kh)*g.KW+kw)*ld:]
				iw0 := kw*g.DilW - g.PadW
				for oh := 0; oh < g.OH; oh++ {
					dst := row[oh*g.OW : oh*g.OW+g.OW]
					ih := oh*g.StrideH - g.PadH + kh*g.DilH
					if ih < 0 || ih >= g.H {
						clear(dst)
						continue
					}
					xr := xc[ih*g.W : ih*g.W+g.W]
					if g.StrideW == 1 {
						lo := min(max(0, -iw0), g.OW)
						hi := max(min(g.OW, g.W-iw0), lo)
						clear(dst[:lo])
						if lo < hi { // else xr[lo+iw0:] may be out of range (padding wider than the output)
							copy(dst[lo:hi], xr[lo+iw0:hi+iw0])
						}
						clear(dst[hi:])
						continue
					}
					for ow := range dst {
						iw := ow*g.StrideW + iw0
						if iw >= 0 && iw < g.W {
							dst[ow] = xr[iw]
						} else {
							dst[ow] = 0
						}
					}
				}
			}
		}
	}
}

// col2im adds the patches in cols (colRows × positions, row stride ld)
// back into one sample's channel group dx (inPerGroup×H×W).
func col2im(dx []float32, cols []float32, ld int, g *ConvGeom) {
	if g.StrideH == 1 && g.StrideW == 1 && g.OW == g.W {
		col2imBand(dx, cols, ld, g)
		return
	}
	hw := g.H * g.W
	for ci := 0; ci < g.inPerGroup; ci++ {
		xc := dx[ci*hw : (ci+1)*hw]
		for kh := 0; kh < g.KH; kh++ {
			for kw := 0; kw < g.KW; kw++ {
				row := cols[((ci*g.KH+kh)*g.KW+kw)*ld:]
				iw0 := kw*g.DilW - g.PadW
				for oh := 0; oh < g.OH; oh++ {
					ih := oh*g.StrideH - g.PadH + kh*g.DilH
					if ih < 0 || ih >= g.H {
						continue
					}
					src := row[oh*g.OW : oh*g.OW+g.OW]
					xr := xc[ih*g.W : ih*g.W+g.W]
					if g.StrideW == 1 {
						lo := min(max(0, -iw0), g.OW)
						hi := max(min(g.OW, g.W-iw0), lo)
						if lo < hi { // see im2col
							d := xr[lo+iw0 : hi+iw0]
							for i, v := range src[lo:hi] {
								d[i] += v
							}
						}
						continue
					}
					for ow, v := range src {
						iw := ow*g.StrideW + iw0
						if iw >= 0 && iw < g.W {
							xr[iw] += v
						}
					}
				}
			}
		}
	}
}

// gatherCols fills cols (colRows × gs·P, row stride ncol) with the patches of
// samples n0..n0+gs-1, channel group grp.
func gatherCols(cols []float32, x *tensor.Tensor, n0, gs, grp int, g *ConvGeom) {
	ncol := gs * g.positions
	chw := g.In * g.H * g.W
	for j := 0; j < gs; j++ {
		xs := x.Data[(n0+j)*chw+grp*g.inPerGroup*g.H*g.W:]
		if g.pointwise {
			for r := 0; r < g.colRows; r++ {
				copy(cols[r*ncol+j*g.positions:r*ncol+(j+1)*g.positions], xs[r*g.positions:(r+1)*g.positions])
			}
			continue
		}
		im2col(cols[j*g.positions:], ncol, xs, g)
	}
}

// gatherOut copies channels grp·outPerGroup.. of samples n0..n0+gs-1 of t
// (N×Out×P) into dst (outPerGroup × gs·P).
func gatherOut(dst []float32, t *tensor.Tensor, n0, gs, grp int, g *ConvGeom) {
	P := g.positions
	ncol := gs * P
	for j := 0; j < gs; j++ {
		base := ((n0+j)*g.Out + grp*g.outPerGroup) * P
		for o := 0; o < g.outPerGroup; o++ {
			copy(dst[o*ncol+j*P:o*ncol+(j+1)*P], t.Data[base+o*P:base+(o+1)*P])
		}
	}
}

// Conv2d computes y = W ⋆ x.
func (c *CPU) Conv2d(y, x, w *tensor.Tensor, g *ConvGeom) {
	g.check("Conv2d", x, w)
	y.Resize(g.OutShape()...)
	if g.directOK() {
		c.conv2dDirect(y.Data, x.Data, w.Data, g)
		return
	}
	P, K, M := g.positions, g.colRows, g.outPerGroup
	c.parallel(g.N, 1, func(wk, lo, hi int) {
		s := &c.scratch[wk]
		G := g.groupSize(hi - lo)
		for n0 := lo; n0 < hi; n0 += G {
			gs := min(G, hi-n0)
			ncol := gs * P
			for grp := 0; grp < g.Groups; grp++ {
				wg := w.Data[grp*M*K : (grp+1)*M*K]
				if gs == 1 {
					ydst := y.Data[(n0*g.Out+grp*M)*P:]
					var cols []float32
					if g.pointwise {
						cols = x.Data[(n0*g.In+grp*g.inPerGroup)*P:]
					} else {
						s.cols = grow(s.cols, K*P)
						im2col(s.cols, P, x.Data[(n0*g.In+grp*g.inPerGroup)*g.H*g.W:], g)
						cols = s.cols
					}
					gemm(false, false, M, P, K, 1, wg, K, cols, P, 0, ydst, P)
					continue
				}
				s.cols = grow(s.cols, K*ncol)
				gatherCols(s.cols, x, n0, gs, grp, g)
				s.tmp = grow(s.tmp, M*ncol)
				gemm(false, false, M, ncol, K, 1, wg, K, s.cols, ncol, 0, s.tmp, ncol)
				for j := 0; j < gs; j++ {
					base := ((n0+j)*g.Out + grp*M) * P
					for o := 0; o < M; o++ {
						copy(y.Data[base+o*P:base+(o+1)*P], s.tmp[o*ncol+j*P:o*ncol+(j+1)*P])
					}
				}
			}
		}
	})
}

// Conv2dInputGrad computes dx = Wᵀ ⋆ dy (overwriting dx).
func (c *CPU) Conv2dInputGrad(dx, dy, w *tensor.Tensor, g *ConvGeom) {
	g.check("Conv2dInputGrad", nil, w)
	if !tensor.SameShape(dy.Shape, g.OutShape()) {
		panic(fmt.Sprintf("engine: Conv2dInputGrad: dy shape %v, geometry wants %v", dy.Shape, g.OutShape()))
	}
	dx.Resize(g.N, g.In, g.H, g.W)
	if g.directOK() {
		c.conv2dInputGradDirect(dx.Data, dy.Data, w.Data, g)
		return
	}
	P, K, M := g.positions, g.colRows, g.outPerGroup
	ghw := g.inPerGroup * g.H * g.W
	c.parallel(g.N, 1, func(wk, lo, hi int) {
		s := &c.scratch[wk]
		G := g.groupSize(hi - lo)
		for n0 := lo; n0 < hi; n0 += G {
			gs := min(G, hi-n0)
			ncol := gs * P
			for grp := 0; grp < g.Groups; grp++ {
				wg := w.Data[grp*M*K : (grp+1)*M*K]
				var src []float32
				ld := P
				if gs == 1 {
					src = dy.Data[(n0*g.Out+grp*M)*P:]
				} else {
					s.tmp = grow(s.tmp, M*ncol)
					gatherOut(s.tmp, dy, n0, gs, grp, g)
					src, ld = s.tmp, ncol
				}
				if g.pointwise && gs == 1 {
					dst := dx.Data[(n0*g.In+grp*g.inPerGroup)*P:]
					gemm(true, false, K, P, M, 1, wg, K, src, ld, 0, dst, P)
					continue
				}
				s.cols = grow(s.cols, K*ncol)
				gemm(true, false, K, ncol, M, 1, wg, K, src, ld, 0, s.cols, ncol)
				for j := 0; j < gs; j++ {
					dst := dx.Data[(n0+j)*g.In*g.H*g.W+grp*ghw : (n0+j)*g.In*g.H*g.W+(grp+1)*ghw]
					if g.pointwise {
						for r := 0; r < K; r++ {
							copy(dst[r*P:(r+1)*P], s.cols[r*ncol+j*P:r*ncol+(j+1)*P])
						}
						continue
					}
					clear(dst)
					col2im(dst, s.cols[j*P:], ncol, g)
				}
			}
		}
	})
}

// Conv2dWeightGrad computes dw = beta·dw + alpha·Σ dy ⊗ patch(x). Every
// worker accumulates its own samples; the partial sums are added in worker
// order, so the result is reproducible for a given thread count.
func (c *CPU) Conv2dWeightGrad(dw, x, dy *tensor.Tensor, g *ConvGeom, alpha, beta float32) {
	g.check("Conv2dWeightGrad", x, dw)
	if !tensor.SameShape(dy.Shape, g.OutShape()) {
		panic(fmt.Sprintf("engine: Conv2dWeightGrad: dy shape %v, geometry wants %v", dy.Shape, g.OutShape()))
	}
	nwt := len(dw.Data)
	if g.directOK() {
		nw := c.directWeightGrad(x.Data, dy.Data, g, nwt)
		reducePartials(dw.Data, c.scratch[:nw], alpha, beta)
		return
	}
	P, K, M := g.positions, g.colRows, g.outPerGroup
	nw := c.parallel(g.N, 1, func(wk, lo, hi int) {
		s := &c.scratch[wk]
		s.partial = grow(s.partial, nwt)
		clear(s.partial)
		G := g.groupSize(hi - lo)
		for n0 := lo; n0 < hi; n0 += G {
			gs := min(G, hi-n0)
			ncol := gs * P
			for grp := 0; grp < g.Groups; grp++ {
				var dsrc, cols []float32
				ld := P
				if gs == 1 {
					dsrc = dy.Data[(n0*g.Out+grp*M)*P:]
				} else {
					s.tmp = grow(s.tmp, M*ncol)
					gatherOut(s.tmp, dy, n0, gs, grp, g)
					dsrc, ld = s.tmp, ncol
				}
				if g.pointwise && gs == 1 {
					cols = x.Data[(n0*g.In+grp*g.inPerGroup)*P:]
				} else {
					s.cols = grow(s.cols, K*ncol)
					gatherCols(s.cols, x, n0, gs, grp, g)
					cols = s.cols
				}
				gemm(false, true, M, K, ncol, 1, dsrc, ld, cols, ld, 1, s.partial[grp*M*K:], K)
			}
		}
	})
	reducePartials(dw.Data, c.scratch[:nw], alpha, beta)
}

// reducePartials sets dst = beta·dst + alpha·Σ_w scratch[w].partial, summing
// workers in order.
func reducePartials(dst []float32, ws []workerScratch, alpha, beta float32) {
	for i := range dst {
		sum := ws[0].partial[i]
		for w := 1; w < len(ws); w++ {
			sum += ws[w].partial[i]
		}
		if beta == 0 {
			dst[i] = alpha * sum
		} else {
			dst[i] = beta*dst[i] + alpha*sum
		}
	}
}

// band describes, for one kernel offset of a stride-1 convolution whose
// output is as wide as its input, how a row of the im2col matrix maps onto
// the input plane: output position p reads input p + shift for the rows
// [ohLo, ohHi), except the columns outside [lo, hi), which read padding.
type band struct {
	ohLo, ohHi, shift, lo, hi int
}

func bandOf(g *ConvGeom, kh, kw int) band {
	dh := kh*g.DilH - g.PadH
	iw0 := kw*g.DilW - g.PadW
	b := band{ohLo: min(max(0, -dh), g.OH), shift: dh*g.W + iw0}
	b.ohHi = max(min(g.OH, g.H-dh), b.ohLo)
	b.lo = min(max(0, -iw0), g.OW)
	b.hi = max(min(g.OW, g.W-iw0), b.lo)
	return b
}

// im2colBand is im2col for stride 1 and OW = W: each row of the matrix is
// the input plane shifted by a constant, so it is one block copy followed
// by zeroing the few padding columns.
func im2colBand(cols []float32, ld int, x []float32, g *ConvGeom) {
	hw, W, P := g.H*g.W, g.W, g.positions
	for ci := 0; ci < g.inPerGroup; ci++ {
		xc := x[ci*hw : (ci+1)*hw]
		for kh := 0; kh < g.KH; kh++ {
			for kw := 0; kw < g.KW; kw++ {
				row := cols[((ci*g.KH+kh)*g.KW+kw)*ld:][:P]
				b := bandOf(g, kh, kw)
				a, e := b.ohLo*W, b.ohHi*W
				clear(row[:a])
				clear(row[e:])
				if a == e {
					continue
				}
				// Source range, clipped to the plane; what is clipped lies in
				// padding columns, zeroed below.
				sa, se, da, de := a+b.shift, e+b.shift, a, e
				if sa < 0 {
					da -= sa
					sa = 0
				}
				if se > hw {
					de -= se - hw
					se = hw
				}
				if da < de {
					copy(row[da:de], xc[sa:se])
				}
				zeroPadColumns(row, W, b)
			}
		}
	}
}

// col2imBand is col2im for stride 1 and OW = W. It zeroes the padding
// columns of cols (scratch) so that each row is added back as one shifted
// block.
func col2imBand(dx []float32, cols []float32, ld int, g *ConvGeom) {
	hw, W, P := g.H*g.W, g.W, g.positions
	for ci := 0; ci < g.inPerGroup; ci++ {
		xc := dx[ci*hw : (ci+1)*hw]
		for kh := 0; kh < g.KH; kh++ {
			for kw := 0; kw < g.KW; kw++ {
				row := cols[((ci*g.KH+kh)*g.KW+kw)*ld:][:P]
				b := bandOf(g, kh, kw)
				a, e := b.ohLo*W, b.ohHi*W
				if a == e {
					continue
				}
				zeroPadColumns(row, W, b)
				sa, se, da, de := a+b.shift, e+b.shift, a, e
				if sa < 0 {
					da -= sa
					sa = 0
				}
				if se > hw {
					de -= se - hw
					se = hw
				}
				if da < de {
					addTo(xc[sa:se], row[da:de])
				}
			}
		}
	}
}

// addTo computes dst += src.
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// zeroPadColumns zeroes, in the rows [ohLo, ohHi) of a band row, the
// columns outside [lo, hi) (one or two per row for a 3×3 kernel: direct
// stores, no calls).
func zeroPadColumns(row []float32, W int, b band) {
	if b.lo == 0 && b.hi == W {
		return
	}
	for oh := b.ohLo; oh < b.ohHi; oh++ {
		r := row[oh*W : oh*W+W]
		for i := 0; i < b.lo; i++ {
			r[i] = 0
		}
		for i := b.hi; i < W; i++ {
			r[i] = 0
		}
	}
}
