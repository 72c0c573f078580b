package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/asymlab/asym/tensor"
)

// noisy is an Augmenter over a Memory whose training transform adds to
// every value the same random offset 0..999 (exact in float32), drawn as
// the first draw of rng, and which fails to read the samples in bad with
// an ErrBadSample error, and those in broken with another error.
type noisy struct {
	*Memory
	bad, broken []int
}

var errBroken = errors.New("disk on fire")

func (n noisy) check(i int) error {
	switch {
	case slices.Contains(n.bad, i):
		return fmt.Errorf("sample%d.jpg: %w: corrupt", i, ErrBadSample)
	case slices.Contains(n.broken, i):
		return errBroken
	}
	return nil
}

func (n noisy) Read(i int, dst []float32) error {
	if err := n.check(i); err != nil {
		return err
	}
	return n.Memory.Read(i, dst)
}

func (n noisy) ReadAugmented(i int, dst []float32, rng *rand.Rand) error {
	if err := n.Read(i, dst); err != nil {
		return err
	}
	off := float32(rng.Uint64() % 1000)
	for j := range dst {
		dst[j] += off
	}
	return nil
}

// augOffset returns the offset noisy adds to the sample at position p of
// epoch e under seed.
func augOffset(seed uint64, e, p int) float32 {
	return float32(tensor.NewRand(seed, tensor.Mix(streamAugment, uint64(e), uint64(p))).Uint64() % 1000)
}

// TestLoaderAugmenter checks that Epoch reads an Augmenter's samples with
// ReadAugmented and a generator seeded by (seed, epoch, position), and that
// Ordered and NoAugmenter use Read.
func TestLoaderAugmenter(t *testing.T) {
	mem := randMemory(11, 37, 4, 1, 2, 3)
	ds := noisy{Memory: mem}
	raw := make([]float32, 6)
	for _, cfg := range []Config{
		{BatchSize: 5, Shuffle: true, Seed: 7},
		{BatchSize: 8, Seed: 8, Augment: Augment{NoAugmenter: true}},
		{BatchSize: 4, Shuffle: true, Seed: 9, Workers: 3, Augment: Augment{FlipH: true}},
	} {
		l := mustLoader(t, ds, cfg)
		perm := l.permutation(2)
		pos := make(map[int]int) // sample index → position in epoch 2
		for p, i := range perm {
			if !cfg.Shuffle {
				i = p
			}
			pos[i] = p
		}
		for b, err := range l.Epoch(2, 0) {
			if err != nil {
				t.Fatal(err)
			}
			for j, i := range b.Indices {
				mem.Read(i, raw)
				off := augOffset(cfg.Seed, 2, pos[i])
				if cfg.Augment.NoAugmenter {
					off = 0
				}
				row := b.X.Row(j)
				if cfg.Augment.FlipH { // the flip is drawn after the offset: compare sums
					var s, w float32
					for v := range row {
						s, w = s+row[v], w+raw[v]+off
					}
					if s != w {
						t.Fatalf("config %+v: sample %d sums to %v, want %v", cfg, i, s, w)
					}
					continue
				}
				for v := range row {
					if row[v] != raw[v]+off {
						t.Fatalf("config %+v: sample %d value %d is %v, want %v+%v", cfg, i, v, row[v], raw[v], off)
					}
				}
			}
		}
		for b, err := range l.Ordered() {
			if err != nil {
				t.Fatal(err)
			}
			for j, i := range b.Indices {
				mem.Read(i, raw)
				if !slices.Equal(b.X.Row(j), raw) {
					t.Fatalf("Ordered: sample %d is augmented", i)
				}
			}
		}
	}
	// Views of an Augmenter are Augmenters; views of a Memory are not.
	for _, v := range []struct {
		ds    Dataset
		first int // the index in ds of the view's sample 0
	}{{Take(ds, 5), 0}, {Subset(ds, []int{3, 1}), 3}, {Take(Subset(ds, []int{3, 1}), 1), 3}} {
		a, ok := v.ds.(Augmenter)
		if !ok {
			t.Fatalf("%T is not an Augmenter", v.ds)
		}
		x, y := make([]float32, 6), make([]float32, 6)
		a.ReadAugmented(0, x, tensor.NewRand(1, 2))
		ds.ReadAugmented(v.first, y, tensor.NewRand(1, 2))
		if !slices.Equal(x, y) {
			t.Error("a view's ReadAugmented reads another sample")
		}
	}
	if _, ok := Take(mem, 5).(Augmenter); ok {
		t.Error("Take(Memory) is an Augmenter")
	}
	tr, _ := StratifiedSplit(ds, 0.5, 1)
	if _, ok := tr.(Augmenter); !ok {
		t.Error("StratifiedSplit of an Augmenter is not one")
	}
}

// TestLoaderSkip checks that unreadable samples are left out of their
// batch and reported, with labels and values still aligned, the same
// whatever the number of workers.
func TestLoaderSkip(t *testing.T) {
	mem := randMemory(12, 50, 5, 1, 2, 2)
	bad := []int{3, 4, 17, 31, 49}
	ds := noisy{Memory: mem, bad: bad}
	raw := make([]float32, 4)
	for _, cfg := range []Config{
		{BatchSize: 6},
		{BatchSize: 6, Shuffle: true, Seed: 3, Augment: Augment{Pad: 1}},
		{BatchSize: 7, Shuffle: true, Seed: 4, DropLast: true},
	} {
		var ref []batchCopy
		var refSkips [][]Skip
		for _, wp := range [][2]int{{1, 0}, {2, 3}, {4, 1}} {
			c := cfg
			c.Workers, c.Prefetch = wp[0], wp[1]
			l := mustLoader(t, ds, c)
			var got []batchCopy
			var skips [][]Skip
			seen := 0
			for e := range 2 {
				for b, err := range l.Epoch(e, 0) {
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, batchCopy{b.X.Clone(), slices.Clone(b.Labels), slices.Clone(b.Indices), b.Epoch, b.Index})
					skips = append(skips, slices.Clone(b.Skipped))
					n := min(cfg.BatchSize, 50-b.Index*cfg.BatchSize)
					if len(b.Labels)+len(b.Skipped) != n || b.X.Shape[0] != len(b.Labels) || len(b.Indices) != len(b.Labels) {
						t.Fatalf("batch %d: %d rows, %d labels, %d skipped, want %d in all", b.Index, b.X.Shape[0], len(b.Labels), len(b.Skipped), n)
					}
					for j, i := range b.Indices {
						if slices.Contains(bad, i) || b.Labels[j] != mem.Label(i) {
							t.Fatalf("batch %d row %d: sample %d, label %d", b.Index, j, i, b.Labels[j])
						}
						if !cfg.Augment.active() { // values: the sample's plus one offset
							mem.Read(i, raw)
							row := b.X.Row(j)
							for v := range row {
								if d := row[v] - raw[v]; d != row[0]-raw[0] || d < 0 || d >= 1000 {
									t.Fatalf("batch %d row %d: values of another sample", b.Index, j)
								}
							}
						}
					}
					for _, s := range b.Skipped {
						if !slices.Contains(bad, s.Index) || s.Epoch != e || s.Batch != b.Index || !errors.Is(s.Err, ErrBadSample) ||
							!strings.Contains(s.Err.Error(), fmt.Sprintf("sample%d.jpg", s.Index)) {
							t.Fatalf("skip %+v", s)
						}
					}
					seen += len(b.Skipped)
				}
			}
			if l.SkipCount() != seen || (!cfg.DropLast && seen != 2*len(bad)) {
				t.Errorf("config %+v: SkipCount %d, %d seen in batches", cfg, l.SkipCount(), seen)
			}
			var idx []int
			for _, s := range l.Skipped() {
				idx = append(idx, s.Index)
			}
			if !slices.IsSorted(idx) || (!cfg.DropLast && !slices.Equal(idx, bad)) {
				t.Errorf("Skipped() lists %v", idx)
			}
			if ref == nil {
				ref, refSkips = got, skips
				continue
			}
			if !sameBatches(got, ref) || !slices.EqualFunc(skips, refSkips, func(a, b []Skip) bool {
				return slices.EqualFunc(a, b, func(x, y Skip) bool { return x.Index == y.Index && x.Batch == y.Batch })
			}) {
				t.Errorf("config %+v, workers %d: batches differ from 1 worker's", cfg, wp[0])
			}
		}
	}

	// Ordered skips too; a batch with no readable sample, or another
	// error, ends the iteration.
	l := mustLoader(t, ds, Config{BatchSize: 1})
	n := 0
	var last error
	for b, err := range l.Ordered() {
		if last = err; err == nil {
			n += len(b.Labels)
		}
	}
	if n != 3 || !errors.Is(last, ErrBadSample) || !strings.Contains(last.Error(), "all 1 of its samples are unreadable") {
		t.Errorf("%d samples, then %v; want 3 and the empty batch 3", n, last)
	}
	l = mustLoader(t, noisy{Memory: mem, broken: []int{7}}, Config{BatchSize: 4, Workers: 2})
	n = 0
	for b, err := range l.Ordered() {
		if last = err; err == nil {
			n += len(b.Labels)
		}
	}
	if n != 4 || !errors.Is(last, errBroken) || l.SkipCount() != 0 {
		t.Errorf("%d samples, then %v; want 4 then the read error", n, last)
	}
}
