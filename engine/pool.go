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
	if g.KH == 2 && g.KW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 0 && g.PadW == 0 && g.ExtraH == 0 && g.ExtraW == 0 {
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

// orderKey maps a float32 to an int32 with the same order (for non-NaN
// values; a positive NaN maps above +Inf, so it wins as the general loop's
// NaN does). Integer comparisons let the compiler use conditional moves
// instead of branches that random data mispredicts half of the time.
func orderKey(v float32) int32 {
	b := int32(math.Float32bits(v))
	return b ^ ((b >> 31) & 0x7fffffff)
}

// maxPool2x2 is the 2×2, stride-2, unpadded max pooling of one plane (the
// common case): the first maximum in row-major window order wins. Each
// candidate becomes one int64 (order key, then 3 − position, so that ties
// go to the first), and the builtin max of int64 compiles to conditional
// moves: no data-dependent branches.
func maxPool2x2(y []float32, ix []int32, x []float32, base int, g *PoolGeom) {
	W, OW, OH := g.W, g.OW, g.OH
	for oh := 0; oh < OH; oh++ {
		r0 := 2 * oh * W
		row0 := x[r0 : r0+2*OW]
		row1 := x[r0+W : r0+W+2*OW]
		yr := y[oh*OW : oh*OW+OW]
		ir := ix[oh*OW : oh*OW+OW]
		ir = ir[:len(yr)]
		for ow := range yr {
			j := 2 * ow
			a, b := row0[j], row0[j+1]
			c, d := row1[j], row1[j+1]
			k0 := int64(orderKey(a))<<32 | 3
			k1 := int64(orderKey(b))<<32 | 2
			k2 := int64(orderKey(c))<<32 | 1
			k3 := int64(orderKey(d)) << 32 // position 3: low bits 0
			pos := 3 - int(max(max(k0, k1), max(k2, k3))&3)
			yr[ow] = max(max(a, b), max(c, d))
			ir[ow] = int32(base + r0 + j + (pos>>1)*W + pos&1)
		}
	}
}
