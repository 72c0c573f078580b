package data

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/asymlab/asym/tensor"
)

// Dataset is an indexed collection of labelled samples of one shape.
// Implementations must allow concurrent calls of all methods from several
// goroutines (the [Loader]'s workers read in parallel).
type Dataset interface {
	// Len returns the number of samples.
	Len() int
	// Shape returns the shape of one sample, (C, H, W) for images. The
	// caller must not modify it.
	Shape() []int
	// Classes returns the number of classes; labels lie in 0..Classes()-1.
	Classes() int
	// Label returns the label of sample i.
	Label(i int) int32
	// Read writes sample i, row-major, as float32 on its raw scale (before
	// normalisation) into dst, whose length must be the product of Shape.
	// Implementations that decode files lazily report failures here.
	Read(i int, dst []float32) error
}

// Augmenter is implemented by data sets that have their own random training
// transform, such as the random-resized crops of [ImageFolder]. A [Loader]
// uses ReadAugmented for the batches of [Loader.Epoch] (unless
// Augment.NoAugmenter is set) and Read, the deterministic evaluation
// transform, for [Loader.Ordered].
type Augmenter interface {
	Dataset
	// ReadAugmented writes a random transform of sample i into dst, like
	// Read. All its randomness must come from rng, which the loader seeds
	// from (seed, epoch, position), so that the result depends on nothing
	// else.
	ReadAugmented(i int, dst []float32, rng *rand.Rand) error
}

// ErrBadSample marks a sample that cannot be read, such as an image file
// that is corrupt, empty or in an unsupported format. The [Loader] leaves
// such samples out of their batch and reports them (see [Skip]) instead of
// ending the iteration; any other Read error ends it.
var ErrBadSample = errors.New("unreadable sample")

// Memory is a [Dataset] held in memory as uint8 values (pixels) and int32
// labels. It is read-only after construction.
type Memory struct {
	shape   []int
	classes int
	size    int // values per sample
	pix     []uint8
	labels  []int32
}

// NewMemory returns a data set of len(labels) samples of the given shape
// whose values are pix (sample after sample, row-major within a sample). It
// keeps pix and labels (no copy). It panics if len(pix) is not
// len(labels)·prod(shape), if classes < 1 or a label lies outside
// 0..classes-1: parsers validate their input before calling it.
func NewMemory(shape []int, classes int, pix []uint8, labels []int32) *Memory {
	size := tensor.Numel(shape)
	if len(shape) == 0 || size == 0 || len(pix) != size*len(labels) {
		panic(fmt.Sprintf("data: NewMemory: %d values for %d samples of shape %v", len(pix), len(labels), shape))
	}
	if classes < 1 {
		panic(fmt.Sprintf("data: NewMemory: %d classes", classes))
	}
	for i, l := range labels {
		if l < 0 || int(l) >= classes {
			panic(fmt.Sprintf("data: NewMemory: label %d of sample %d outside 0..%d", l, i, classes-1))
		}
	}
	return &Memory{shape: slices.Clone(shape), classes: classes, size: size, pix: pix, labels: labels}
}

// Len returns the number of samples.
func (m *Memory) Len() int { return len(m.labels) }

// Shape returns the shape of one sample.
func (m *Memory) Shape() []int { return m.shape }

// Classes returns the number of classes.
func (m *Memory) Classes() int { return m.classes }

// Label returns the label of sample i.
func (m *Memory) Label(i int) int32 { return m.labels[i] }

// Pixels returns the values of sample i (shared with m: do not modify).
func (m *Memory) Pixels(i int) []uint8 { return m.pix[i*m.size : (i+1)*m.size : (i+1)*m.size] }

// Read writes sample i into dst as float32. It never fails.
func (m *Memory) Read(i int, dst []float32) error {
	src := m.Pixels(i)
	if len(dst) != len(src) {
		panic(fmt.Sprintf("data: Read: dst has %d values, sample has %d", len(dst), len(src)))
	}
	for j, v := range src {
		dst[j] = float32(v)
	}
	return nil
}

type subset struct {
	Dataset
	idx []int
}

func (s *subset) Len() int                        { return len(s.idx) }
func (s *subset) Label(i int) int32               { return s.Dataset.Label(s.idx[i]) }
func (s *subset) Read(i int, dst []float32) error { return s.Dataset.Read(s.idx[i], dst) }

// augSubset is a subset of an [Augmenter], itself one.
type augSubset struct {
	*subset
	aug Augmenter
}

func (s augSubset) ReadAugmented(i int, dst []float32, rng *rand.Rand) error {
	return s.aug.ReadAugmented(s.idx[i], dst, rng)
}

// newSubset returns the view idx of ds (idx is kept), an [Augmenter] if ds
// is one.
func newSubset(ds Dataset, idx []int) Dataset {
	s := &subset{ds, idx}
	if a, ok := ds.(Augmenter); ok {
		return augSubset{s, a}
	}
	return s
}

// Subset returns the data set whose sample i is sample idx[i] of ds (a view:
// nothing is copied but idx); it is an [Augmenter] if ds is one. It panics
// if an index is out of range.
func Subset(ds Dataset, idx []int) Dataset {
	for _, i := range idx {
		if i < 0 || i >= ds.Len() {
			panic(fmt.Sprintf("data: Subset: index %d outside 0..%d", i, ds.Len()-1))
		}
	}
	return newSubset(ds, slices.Clone(idx))
}

// Take returns the first n samples of ds (all of them if n >= ds.Len()),
// for quick runs; it is an [Augmenter] if ds is one. It panics if n < 0.
func Take(ds Dataset, n int) Dataset {
	if n < 0 {
		panic(fmt.Sprintf("data: Take(%d)", n))
	}
	if n >= ds.Len() {
		return ds
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return newSubset(ds, idx)
}

// ClassCounts returns the number of samples of each class.
func ClassCounts(ds Dataset) []int {
	c := make([]int, ds.Classes())
	for i := range ds.Len() {
		c[ds.Label(i)]++
	}
	return c
}

// StratifiedSplit splits ds into a training and a test part with, in each
// class of n samples, round(frac·n) test samples (rounding half away from
// zero). The samples of each class c are shuffled by a Fisher–Yates pass
// driven by tensor.NewRand(seed, tensor.Mix(c)); the first ones go to the
// test part. Both parts list their samples in the order of ds. It panics
// unless 0 <= frac <= 1.
func StratifiedSplit(ds Dataset, frac float64, seed uint64) (train, test Dataset) {
	if !(frac >= 0 && frac <= 1) {
		panic(fmt.Sprintf("data: StratifiedSplit: fraction %v outside [0, 1]", frac))
	}
	byClass := make([][]int, ds.Classes())
	for i := range ds.Len() {
		l := ds.Label(i)
		byClass[l] = append(byClass[l], i)
	}
	inTest := make([]bool, ds.Len())
	for c, idx := range byClass {
		shuffle(tensor.NewRand(seed, tensor.Mix(uint64(c))), idx)
		for _, i := range idx[:int(math.Round(frac*float64(len(idx))))] {
			inTest[i] = true
		}
	}
	var tr, te []int
	for i, t := range inTest {
		if t {
			te = append(te, i)
		} else {
			tr = append(tr, i)
		}
	}
	return newSubset(ds, tr), newSubset(ds, te)
}

// shuffle permutes x by Fisher–Yates. It draws only rng.Uint64 (whose
// sequence PCG fixes) and maps it to a range with a 128-bit multiply, so the
// permutation does not depend on the Go release's rand helpers.
func shuffle(rng *rand.Rand, x []int) {
	for i := len(x) - 1; i > 0; i-- {
		j := below(rng.Uint64(), i+1)
		x[i], x[j] = x[j], x[i]
	}
}

// below maps a uniform 64-bit value to 0..n-1 (Lemire's multiply-shift; the
// bias, at most n/2⁶⁴, is negligible).
func below(u uint64, n int) int {
	hi, _ := bits.Mul64(u, uint64(n))
	return int(hi)
}

// Norm holds per-channel normalisation constants: a value x of channel c
// becomes (x − Mean[c]) / Std[c]. The zero Norm leaves values unchanged.
type Norm struct {
	Mean, Std []float32
}

// ComputeNorm returns the per-channel mean and (population) standard
// deviation of ds's values, on their raw scale, accumulated in float64. A
// channel with zero spread gets Std 1. It returns the first Read error.
func ComputeNorm(ds Dataset) (Norm, error) {
	shape := ds.Shape()
	c := shape[0]
	buf := make([]float32, tensor.Numel(shape))
	plane := len(buf) / c
	sum, sq := make([]float64, c), make([]float64, c)
	for i := range ds.Len() {
		if err := ds.Read(i, buf); err != nil {
			return Norm{}, err
		}
		for ch := range c {
			var s, q float64
			for _, v := range buf[ch*plane : (ch+1)*plane] {
				s += float64(v)
				q += float64(v) * float64(v)
			}
			sum[ch] += s
			sq[ch] += q
		}
	}
	n := Norm{Mean: make([]float32, c), Std: make([]float32, c)}
	cnt := float64(ds.Len() * plane)
	for ch := range c {
		mean := sum[ch] / cnt
		v := max(sq[ch]/cnt-mean*mean, 0)
		n.Mean[ch], n.Std[ch] = float32(mean), float32(math.Sqrt(v))
		if !(n.Std[ch] > 0) { // also catches an empty data set (NaN)
			n.Std[ch] = 1
		}
		if cnt == 0 {
			n.Mean[ch] = 0
		}
	}
	return n, nil
}

// check reports whether n fits c channels: empty, or c finite means and c
// finite positive standard deviations.
func (n Norm) check(c int) error {
	if len(n.Mean) == 0 && len(n.Std) == 0 {
		return nil
	}
	if len(n.Mean) != c || len(n.Std) != c {
		return fmt.Errorf("normalisation has %d means and %d standard deviations for %d channels", len(n.Mean), len(n.Std), c)
	}
	for i := range c {
		m, s := float64(n.Mean[i]), float64(n.Std[i])
		if math.IsNaN(m) || math.IsInf(m, 0) || !(s > 0) || math.IsInf(s, 0) {
			return fmt.Errorf("normalisation of channel %d: mean %v, std %v", i, m, s)
		}
	}
	return nil
}
