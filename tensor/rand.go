package tensor

import (
	"math"
	"math/rand/v2"
)

// FillNormal fills t with independent draws from N(0, std²).
func FillNormal(t *Tensor, rng *rand.Rand, std float64) {
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64() * std)
	}
}

// FillTruncNormal fills t with draws from N(0, σ²) truncated to ±2σ, where σ
// is chosen so that the truncated distribution has standard deviation std
// (TensorFlow's variance_scaling "truncated_normal" convention: σ =
// std/0.87962566103423978).
func FillTruncNormal(t *Tensor, rng *rand.Rand, std float64) {
	sigma := std / 0.87962566103423978
	for i := range t.Data {
		for {
			z := rng.NormFloat64()
			if z >= -2 && z <= 2 {
				t.Data[i] = float32(z * sigma)
				break
			}
		}
	}
}

// FillUniform fills t with independent draws from U(-limit, limit).
func FillUniform(t *Tensor, rng *rand.Rand, limit float64) {
	for i := range t.Data {
		t.Data[i] = float32((2*rng.Float64() - 1) * limit)
	}
}

// NewRand returns a PCG-backed generator for the stream (seed, stream).
// Every random draw in asym comes from such a generator, derived from the
// run seed and a purpose-specific stream id, so that results do not depend
// on goroutine scheduling.
func NewRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, Mix(stream)))
}

// Mix returns a well-spread 64-bit hash of its arguments (splitmix64
// finaliser applied in sequence). It derives independent stream ids from
// tuples such as (epoch, sample) or (step, layer).
func Mix(v ...uint64) uint64 {
	h := uint64(0x9E3779B97F4A7C15)
	for _, x := range v {
		h ^= x + 0x9E3779B97F4A7C15 + (h << 6) + (h >> 2)
		h = splitmix(h)
	}
	return h
}

func splitmix(z uint64) uint64 {
	z += 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Norm2 returns the Euclidean norm of x, accumulated in float64.
func Norm2(x []float32) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}
