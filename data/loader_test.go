package data

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asymlab/asym/tensor"
)

// batchCopy is a copy of a Batch that outlives the loop step.
type batchCopy struct {
	x            *tensor.Tensor
	labels       []int32
	indices      []int
	epoch, index int
}

// collect returns copies of the batches of seq.
func collect(t *testing.T, seq func(func(*Batch, error) bool)) []batchCopy {
	t.Helper()
	var out []batchCopy
	for b, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, batchCopy{b.X.Clone(), slices.Clone(b.Labels), slices.Clone(b.Indices), b.Epoch, b.Index})
	}
	return out
}

func sameBatches(a, b []batchCopy) bool {
	return slices.EqualFunc(a, b, func(x, y batchCopy) bool {
		return tensor.Equal(x.x, y.x) && slices.Equal(x.labels, y.labels) && slices.Equal(x.indices, y.indices) &&
			x.epoch == y.epoch && x.index == y.index
	})
}

func mustLoader(t *testing.T, ds Dataset, cfg Config) *Loader {
	t.Helper()
	l, err := NewLoader(ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testConfigs covers the loader's options; the data set is 2×5×4 (H ≠ W
// to catch transposed indices), 103 samples.
var testConfigs = []Config{
	{BatchSize: 16},
	{BatchSize: 16, Shuffle: true, Seed: 1},
	{BatchSize: 10, Shuffle: true, DropLast: true, Seed: 2},
	{BatchSize: 7, Shuffle: true, Seed: 3, Augment: Augment{Pad: 2, FlipH: true}},
	{BatchSize: 32, Seed: 4, Augment: Augment{FlipH: true}, Norm: Norm{Mean: []float32{100, 120}, Std: []float32{50, 70}}},
}

// TestLoaderDeterminism checks that batches depend on the seed, the epoch
// and the batch index only: not on the number of workers or the queue
// length, nor on where the iteration starts.
func TestLoaderDeterminism(t *testing.T) {
	ds := randMemory(3, 103, 7, 2, 5, 4)
	for ci, cfg := range testConfigs {
		t.Run(fmt.Sprint(ci), func(t *testing.T) {
			ref := mustLoader(t, ds, cfg) // default workers
			var epochs [][]batchCopy
			for e := range 2 {
				epochs = append(epochs, collect(t, ref.Epoch(e, 0)))
				if len(epochs[e]) != ref.NumBatches() {
					t.Fatalf("epoch %d: %d batches, want %d", e, len(epochs[e]), ref.NumBatches())
				}
			}
			for _, wp := range [][2]int{{1, 1}, {1, 0}, {3, 1}, {5, 9}} {
				c := cfg
				c.Workers, c.Prefetch = wp[0], wp[1]
				l := mustLoader(t, ds, c)
				for e := 1; e >= 0; e-- { // epochs in another order
					if got := collect(t, l.Epoch(e, 0)); !sameBatches(got, epochs[e]) {
						t.Errorf("workers %d, prefetch %d, epoch %d: batches differ", c.Workers, c.Prefetch, e)
					}
				}
			}
			for k := range ref.NumBatches() + 1 {
				if got := collect(t, ref.Epoch(1, k)); !sameBatches(got, epochs[1][k:]) {
					t.Errorf("resumed at batch %d: batches differ from the uninterrupted epoch", k)
				}
			}
			if cfg.Shuffle || cfg.Augment.active() {
				c := cfg
				c.Seed++
				if got := collect(t, mustLoader(t, ds, c).Epoch(0, 0)); sameBatches(got, epochs[0]) {
					t.Error("another seed gave the same batches")
				}
				if sameBatches(epochs[0], epochs[1]) {
					t.Error("epochs 0 and 1 are the same")
				}
			}
		})
	}
}

// TestLoaderEpochContents checks each epoch visits every sample once (all
// but the dropped rest with DropLast), in order without shuffling, with the
// right labels and, without augmentation, the right normalised values.
func TestLoaderEpochContents(t *testing.T) {
	ds := randMemory(4, 103, 7, 2, 5, 4)
	raw := make([]float32, 40)
	for ci, cfg := range testConfigs {
		l := mustLoader(t, ds, cfg)
		for _, ordered := range []bool{false, true} {
			seq, n, shuffled, augmented := l.Epoch(3, 0), 103, cfg.Shuffle, cfg.Augment.active()
			if ordered {
				seq, shuffled, augmented = l.Ordered(), false, false
			} else if cfg.DropLast {
				n -= n % cfg.BatchSize
			}
			var idx []int
			for b, err := range seq {
				if err != nil {
					t.Fatal(err)
				}
				if want := min(cfg.BatchSize, n-len(idx)); !slices.Equal(b.X.Shape, []int{want, 2, 5, 4}) || len(b.Labels) != want {
					t.Fatalf("config %d: batch %d has shape %v, %d labels", ci, b.Index, b.X.Shape, len(b.Labels))
				}
				for j, i := range b.Indices {
					if b.Labels[j] != ds.Label(i) {
						t.Fatalf("config %d: label %d for sample %d", ci, b.Labels[j], i)
					}
					if augmented {
						continue
					}
					ds.Read(i, raw)
					for v, x := range b.X.Row(j) {
						want := raw[v]
						if len(cfg.Norm.Mean) > 0 {
							want = (want - cfg.Norm.Mean[v/20]) / cfg.Norm.Std[v/20]
						}
						if x != want {
							t.Fatalf("config %d: sample %d value %d is %v, want %v", ci, i, v, x, want)
						}
					}
				}
				idx = append(idx, b.Indices...)
			}
			if len(idx) != n || (!shuffled && !slices.IsSorted(idx)) {
				t.Errorf("config %d, ordered %v: %d samples visited, want %d", ci, ordered, len(idx), n)
			}
			slices.Sort(idx)
			if len(slices.Compact(idx)) != n || (shuffled && n == 103 && idx[102] != 102) {
				t.Errorf("config %d: samples repeated", ci)
			}
		}
	}
}

func TestCropFlip(t *testing.T) {
	// One channel, 3 rows of 4: values 1..12.
	src := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	tests := []struct {
		dy, dx int
		flip   bool
		want   []float32
	}{
		{0, 0, false, src},
		{1, 0, false, []float32{5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0}}, // window one row lower
		{-1, 0, false, []float32{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{0, -2, false, []float32{0, 0, 1, 2, 0, 0, 5, 6, 0, 0, 9, 10}},
		{0, 1, false, []float32{2, 3, 4, 0, 6, 7, 8, 0, 10, 11, 12, 0}},
		{0, 0, true, []float32{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9}},
		// Crop one column right, then flip.
		{-1, 1, true, []float32{0, 0, 0, 0, 0, 4, 3, 2, 0, 8, 7, 6}},
		{3, 0, false, make([]float32, 12)}, // shifted out entirely
	}
	for _, tc := range tests {
		dst := make([]float32, 12)
		for i := range dst {
			dst[i] = -1 // must all be overwritten
		}
		cropFlip(dst, src, 1, 3, 4, tc.dy, tc.dx, tc.flip)
		if !slices.Equal(dst, tc.want) {
			t.Errorf("shift (%d, %d), flip %v: got %v, want %v", tc.dy, tc.dx, tc.flip, dst, tc.want)
		}
	}
	// Two channels shift together.
	two := append(slices.Clone(src), src...)
	dst := make([]float32, 24)
	cropFlip(dst, two, 2, 3, 4, 1, 1, false)
	if !slices.Equal(dst[:12], dst[12:]) || dst[0] != 6 {
		t.Errorf("two channels: %v", dst)
	}
}

// TestLoaderAugment checks that each augmented sample is one of the
// (2P+1)²·2 crops and flips of its source, and that all of them occur.
func TestLoaderAugment(t *testing.T) {
	const pad = 1
	ds := randMemory(5, 200, 3, 2, 4, 5)
	l := mustLoader(t, ds, Config{BatchSize: 64, Shuffle: true, Augment: Augment{Pad: pad, FlipH: true}})
	seen := map[[3]int]int{}
	raw, want := make([]float32, 40), make([]float32, 40)
	for e := range 2 {
		for b, err := range l.Epoch(e, 0) {
			if err != nil {
				t.Fatal(err)
			}
			for j, i := range b.Indices {
				ds.Read(i, raw)
				var found [][3]int
				for dy := -pad; dy <= pad; dy++ {
					for dx := -pad; dx <= pad; dx++ {
						for f := range 2 {
							cropFlip(want, raw, 2, 4, 5, dy, dx, f == 1)
							if slices.Equal(want, b.X.Row(j)) {
								found = append(found, [3]int{dy, dx, f})
							}
						}
					}
				}
				// Random bytes make two different transforms coincide with
				// negligible probability; the test data (seeded) have none.
				if len(found) != 1 {
					t.Fatalf("epoch %d, sample %d matches %d transforms", e, i, len(found))
				}
				seen[found[0]]++
			}
		}
	}
	if len(seen) != (2*pad+1)*(2*pad+1)*2 {
		t.Errorf("only %d of 18 transforms occurred: %v", len(seen), seen)
	}
}

func goroutinesBack(t *testing.T, base int) {
	t.Helper()
	// wg.Wait returns once every worker has called Done; the goroutines
	// themselves exit a moment later.
	for range 200 {
		if runtime.NumGoroutine() <= base {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Errorf("%d goroutines, %d before", runtime.NumGoroutine(), base)
}

// failing fails to read sample bad.
type failing struct {
	*Memory
	bad int
}

var errRead = errors.New("read failed")

func (f failing) Read(i int, dst []float32) error {
	if i == f.bad {
		return errRead
	}
	return f.Memory.Read(i, dst)
}

func TestLoaderStopEarly(t *testing.T) {
	ds := randMemory(6, 500, 10, 1, 8, 8)
	base := runtime.NumGoroutine()
	l := mustLoader(t, ds, Config{BatchSize: 10, Workers: 4, Shuffle: true, Augment: Augment{Pad: 1}})
	for b, err := range l.Epoch(0, 0) {
		if err != nil || b.Index == 3 {
			break
		}
	}
	goroutinesBack(t, base)
	func() {
		defer func() { recover() }()
		for range l.Epoch(1, 0) {
			panic("body panics")
		}
	}()
	goroutinesBack(t, base)

	// A read error ends the iteration after the batches before it.
	fl := mustLoader(t, failing{ds, 234}, Config{BatchSize: 10, Workers: 3})
	n := 0
	var last error
	for _, err := range fl.Epoch(0, 0) {
		if last = err; err == nil {
			n++
		}
	}
	if n != 23 || !errors.Is(last, errRead) || !strings.Contains(last.Error(), "sample 234") {
		t.Errorf("%d batches then error %v; want 23 and the read error for sample 234", n, last)
	}
	goroutinesBack(t, base)

	// The loader is usable again and rejects nested iterations.
	if got := len(collect(t, l.Epoch(2, 48))); got != 2 {
		t.Errorf("resumed at 48: %d batches, want 2", got)
	}
	for range l.Epoch(0, 0) {
		if !panics(func() {
			for range l.Epoch(1, 0) {
			}
		}) {
			t.Error("nested iteration did not panic")
		}
		break
	}
	goroutinesBack(t, base)
}

func TestLoaderErrors(t *testing.T) {
	ds := randMemory(7, 10, 2, 3, 4, 4)
	flat := randMemory(7, 10, 2, 16)
	for _, tc := range []struct {
		name string
		ds   Dataset
		cfg  Config
	}{
		{"batch", ds, Config{}},
		{"workers", ds, Config{BatchSize: 1, Workers: -1}},
		{"prefetch", ds, Config{BatchSize: 1, Prefetch: -2}},
		{"pad", ds, Config{BatchSize: 1, Augment: Augment{Pad: -1}}},
		{"flat augment", flat, Config{BatchSize: 1, Augment: Augment{FlipH: true}}},
		{"norm channels", ds, Config{BatchSize: 1, Norm: Norm{Mean: []float32{1}, Std: []float32{1}}}},
		{"norm std", ds, Config{BatchSize: 1, Norm: Norm{Mean: []float32{1, 2, 3}, Std: []float32{1, 0, 1}}}},
	} {
		if _, err := NewLoader(tc.ds, tc.cfg); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: error %v, want ErrBadConfig", tc.name, err)
		}
	}
	l := mustLoader(t, flat, Config{BatchSize: 4})
	for _, ek := range [][2]int{{-1, 0}, {0, -1}, {0, 4}} {
		n := 0
		for b, err := range l.Epoch(ek[0], ek[1]) {
			if n++; b != nil || !errors.Is(err, ErrBadConfig) {
				t.Errorf("Epoch(%d, %d): %v, want ErrBadConfig", ek[0], ek[1], err)
			}
		}
		if n != 1 {
			t.Errorf("Epoch(%d, %d) yielded %d times", ek[0], ek[1], n)
		}
	}
	if got := len(collect(t, l.Epoch(0, 3))); got != 0 {
		t.Errorf("Epoch(0, NumBatches) yielded %d batches", got)
	}
}

// TestLoaderAllocs checks that iterating allocates per epoch, not per batch.
func TestLoaderAllocs(t *testing.T) {
	ds := randMemory(8, 1000, 10, 1, 8, 8)
	l := mustLoader(t, ds, Config{BatchSize: 10, Shuffle: true, Augment: Augment{Pad: 2, FlipH: true}})
	l.Epoch(0, 0)(func(*Batch, error) bool { return true }) // warm up
	allocs := func(from int) float64 {
		return testing.AllocsPerRun(5, func() {
			for _, err := range l.Epoch(0, from) {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	// 100 batches against 2: any allocation per batch would show ~98 times.
	if long, short := allocs(0), allocs(98); long > short+2 || long > 30 {
		t.Errorf("%v allocations for 100 batches, %v for 2", long, short)
	}
}

func BenchmarkLoader(b *testing.B) {
	ds := randMemory(9, 10000, 10, 1, 28, 28) // Fashion-MNIST-sized samples
	norm := Norm{Mean: []float32{72.94}, Std: []float32{90.02}}
	for _, bc := range []struct {
		name string
		aug  Augment
	}{{"plain", Augment{}}, {"augment", Augment{Pad: 2, FlipH: true}}} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", bc.name, workers), func(b *testing.B) {
				l, err := NewLoader(ds, Config{BatchSize: 128, Shuffle: true, Norm: norm, Augment: bc.aug, Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				n := 0
				for e := 0; b.Loop(); e++ {
					for batch, err := range l.Epoch(e, 0) {
						if err != nil {
							b.Fatal(err)
						}
						n += len(batch.Labels)
					}
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}

// TestLoaderHugeBatch: a batch size far beyond the data set allocates no
// more than the data set and yields it as one batch, in every mode.
func TestLoaderHugeBatch(t *testing.T) {
	ds := randMemory(5, 103, 7, 2, 5, 4)
	for _, bs := range []int{104, 1e9, math.MaxInt} {
		for _, cfg := range []Config{{BatchSize: bs}, {BatchSize: bs, Shuffle: true, Seed: 1, Augment: Augment{Pad: 1, FlipH: true}}} {
			l := mustLoader(t, ds, cfg)
			if got := cap(l.slots[0].b.X.Data); got != 103*2*5*4 {
				t.Errorf("batch %d: buffers hold %d values, want those of the 103 samples", bs, got)
			}
			if n := l.NumBatches(); n != 1 {
				t.Errorf("batch %d: %d batches, want 1", bs, n)
			}
			for name, seq := range map[string]func(func(*Batch, error) bool){"epoch": l.Epoch(0, 0), "ordered": l.Ordered()} {
				b := collect(t, seq)
				if len(b) != 1 || len(b[0].labels) != 103 {
					t.Errorf("batch %d, %s: %d batches, want one of 103 samples", bs, name, len(b))
				}
			}
		}
	}
	l := mustLoader(t, ds, Config{BatchSize: math.MaxInt, DropLast: true})
	if n := l.NumBatches(); n != 0 {
		t.Errorf("DropLast with a batch larger than the data set: %d batches, want 0", n)
	}
}
