package engine

import (
	"fmt"
	"math"

	"github.com/asymlab/asym/tensor"
)

func (g *PoolGeom) check(op string, x *tensor.Tensor) {
	if x.Rank() != 4 || x.Shape[0] != g.N || x.Shape[1] != g.C || x.Shape[2] != g.H || x.Shape[3] != g.W {
		panic(fmt.Sprintf("engine: %s: input shape %v, geometry wants [%d %d %d %d]", op, x.Shape, g.N, g.C, g.H, g.W))
	}
	if g.OH == 0 {
		panic("engine: " + op + ": geometry not initialised (call PoolGeom.Init)")
	}
}

// minPlanes is the smallest number of planes worth a worker.
const minPlaneWork = 1 << 14

// MaxPool2d computes max pooling and records the arg-max indices.
func (c *CPU) MaxPool2d(y *tensor.Tensor, idx *[]int32, x *tensor.Tensor, g *PoolGeom) {
	g.check("MaxPool2d", x)
	y.Resize(g.OutShape()...)
	if cap(*idx) < len(y.Data) {
		*idx = make([]int32, len(y.Data))
	}
	*idx = (*idx)[:len(y.Data)]
	ix := *idx
	hw, ohw := g.H*g.W, g.OH*g.OW
	planes := g.N * g.C
	if g.KH == 2 && g.KW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 0 && g.PadW == 0 {
		c.parallel(planes, max(1, minPlaneWork/max(hw, 1)), func(_, lo, hi int) {
			for p := lo; p < hi; p++ {
				maxPool2x2(y.Data[p*ohw:(p+1)*ohw], ix[p*ohw:(p+1)*ohw], x.Data[p*hw:(p+1)*hw], p*hw, g)
			}
		})
		return
	}
	c.parallel(planes, max(1, minPlaneWork/max(hw, 1)), func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			xp := x.Data[p*hw : (p+1)*hw]
			for oh := 0; oh < g.OH; oh++ {
				h0 := oh*g.StrideH - g.PadH
				for ow := 0; ow < g.OW; ow++ {
					w0 := ow*g.StrideW - g.PadW
					best := float32(math.Inf(-1))
					bi := -1
					for kh := max(0, -h0); kh < g.KH && h0+kh < g.H; kh++ {
						row := (h0 + kh) * g.W
						for kw := max(0, -w0); kw < g.KW && w0+kw < g.W; kw++ {
							v := xp[row+w0+kw]
							if v > best || bi < 0 || v != v {
								best, bi = v, row+w0+kw
								if v != v {
									break
								}
							}
						}
					}
					o := p*ohw + oh*g.OW + ow
					y.Data[o] = best
					ix[o] = int32(p*hw + bi)
				}
			}
		}
	})
}

// MaxPool2dGrad routes dy back to the arg-max positions.
func (c *CPU) MaxPool2dGrad(dx, dy *tensor.Tensor, idx []int32, g *PoolGeom) {
	dx.Resize(g.N, g.C, g.H, g.W)
	hw, ohw := g.H*g.W, g.OH*g.OW
	c.parallel(g.N*g.C, max(1, minPlaneWork/max(hw, 1)), func(_, lo, hi int) {
		clear(dx.Data[lo*hw : hi*hw])
		for o := lo * ohw; o < hi*ohw; o++ {
			dx.Data[idx[o]] += dy.Data[o]
		}
	})
}

// AvgPool2d computes window means (padding excluded from the count).
func (c *CPU) AvgPool2d(y, x *tensor.Tensor, g *PoolGeom) {
	g.check("AvgPool2d", x)
	y.Resize(g.OutShape()...)
	hw, ohw := g.H*g.W, g.OH*g.OW
	c.parallel(g.N*g.C, max(1, minPlaneWork/max(hw, 1)), func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			xp := x.Data[p*hw : (p+1)*hw]
			for oh := 0; oh < g.OH; oh++ {
				h0 := oh*g.StrideH - g.PadH
				h1 := min(h0+g.KH, g.H)
				h0 = max(h0, 0)
				for ow := 0; ow < g.OW; ow++ {
					w0 := ow*g.StrideW - g.PadW
					w1 := min(w0+g.KW, g.W)
					w0 = max(w0, 0)
					var s float32
					for h := h0; h < h1; h++ {
						for _, v := range xp[h*g.W+w0 : h*g.W+w1] {
							s += v
						}
					}
					y.Data[p*ohw+oh*g.OW+ow] = s / float32((h1-h0)*(w1-w0))
				}
			}
		}
	})
}

// AvgPool2dGrad spreads every dy evenly over its window.
func (c *CPU) AvgPool2dGrad(dx, dy *tensor.Tensor, g *PoolGeom) {
	dx.Resize(g.N, g.C, g.H, g.W)
	hw, ohw := g.H*g.W, g.OH*g.OW
	c.parallel(g.N*g.C, max(1, minPlaneWork/max(hw, 1)), func(_, lo, hi int) {
		clear(dx.Data[lo*hw : hi*hw])
		for p := lo; p < hi; p++ {
			dp := dx.Data[p*hw : (p+1)*hw]
			for oh := 0; oh < g.OH; oh++ {
				h0 := oh*g.StrideH - g.PadH
				h1 := min(h0+g.KH, g.H)
				h0 = max(h0, 0)
				for ow := 0; ow < g.OW; ow++ {
					w0 := ow*g.StrideW - g.PadW
					w1 := min(w0+g.KW, g.W)
					w0 = max(w0, 0)
					v := dy.Data[p*ohw+oh*g.OW+ow] / float32((h1-h0)*(w1-w0))
					for h := h0; h < h1; h++ {
						row := dp[h*g.W+w0 : h*g.W+w1]
						for i := range row {
							row[i] += v
						}
					}
				}
			}
		}
	})
}

// maxPool2x2 is the 2×2, stride-2, unpadded max pooling of one plane (the
// common case), with the same tie and NaN rules as the general loop: the
// first maximum in row-major window order wins, and a NaN wins.
func maxPool2x2(y []float32, ix []int32, x []float32, base int, g *PoolGeom) {
	W := g.W
	for oh := 0; oh < g.OH; oh++ {
		r0 := x[2*oh*W : 2*oh*W+W]
		r1 := x[(2*oh+1)*W : (2*oh+1)*W+W]
		yr := y[oh*g.OW : oh*g.OW+g.OW]
		ir := ix[oh*g.OW : oh*g.OW+g.OW]
		for ow := range yr {
			j := 2 * ow
			best, bi := r0[j], 2*oh*W+j
			if v := r0[j+1]; v > best || (v != v && best == best) {
				best, bi = v, 2*oh*W+j+1
			}
			if v := r1[j]; v > best || (v != v && best == best) {
				best, bi = v, (2*oh+1)*W+j
			}
			if v := r1[j+1]; v > best || (v != v && best == best) {
				best, bi = v, (2*oh+1)*W+j+1
			}
			yr[ow] = best
			ir[ow] = int32(base + bi)
		}
	}
}
