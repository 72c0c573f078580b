package engine

import "github.com/asymlab/asym/tensor"

// BatchNormGradApply computes dx = γ·invStd·(dy − mdy − x̂·mdyx) per
// channel, with x̂ = (x − mean)·invStd: the input gradient of a batch
// normalisation whose gradient means mdy = E[dy] and mdyx = E[dy·x̂] were
// gathered elsewhere (synchronised batch normalisation across processes).
func (c *CPU) BatchNormGradApply(dx, dy, x *tensor.Tensor, gamma, mean, invStd, mdy, mdyx []float32) {
	C := len(gamma)
	N, S := bnDims("BatchNormGradApply", x, C)
	tensor.MustSameShape("BatchNormGradApply", x, dy)
	dx.ResizeLike(x)
	c.parallel(C, max(1, minPlaneWork/max(N*S, 1)), func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			k := gamma[ch] * invStd[ch]
			mu, is, a, b := mean[ch], invStd[ch], mdy[ch], mdyx[ch]
			for n := 0; n < N; n++ {
				off := (n*C + ch) * S
				xs, ds, out := x.Data[off:off+S], dy.Data[off:off+S], dx.Data[off:off+S]
				for i, d := range ds {
					out[i] = k * (d - a - (xs[i]-mu)*is*b)
				}
			}
		}
	})
}
