package data

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/asymlab/asym/tensor"
)

// ErrBadConfig: a [Loader] configuration or iteration request is invalid.
var ErrBadConfig = errors.New("invalid loader configuration")

// DefaultWorkers is the number of worker goroutines of a [Loader] whose
// configuration leaves it at 0.
const DefaultWorkers = 2

// Stream ids of the loader's random draws (see [Loader]).
const (
	streamShuffle = 0x5348554646 // "SHUFF"
	streamAugment = 0x4155474d   // "AUGM"
)

// Augment selects the random augmentations a [Loader] applies to the
// samples of an epoch. They act on the raw values, before normalisation,
// and need samples of shape (C, H, W).
type Augment struct {
	// Pad > 0 enables random cropping: the sample is padded with Pad zeros
	// (raw value 0) on each side and an H×W window is cut from it at offsets
	// drawn uniformly in 0..2·Pad, rows and columns independently.
	Pad int
	// FlipH flips the (cropped) sample left–right with probability 1/2.
	FlipH bool
	// NoAugmenter makes [Loader.Epoch] read the samples of an [Augmenter]
	// with Read (its evaluation transform) instead of ReadAugmented. It has
	// no effect on other data sets.
	NoAugmenter bool
}

func (a Augment) active() bool { return a.Pad > 0 || a.FlipH }

// Config configures a [Loader].
type Config struct {
	// BatchSize is the number of samples per batch (at least 1).
	BatchSize int
	// Shuffle visits the samples of each epoch in a random order;
	// otherwise in data set order.
	Shuffle bool
	// DropLast drops the last batch of an epoch if it is partial.
	DropLast bool
	// Seed determines the shuffling and the augmentations.
	Seed uint64
	// Norm, if not zero, normalises each channel c to (x−Mean[c])/Std[c].
	Norm Norm
	// Augment selects the augmentations of [Loader.Epoch].
	Augment Augment
	// Workers is the number of goroutines preparing batches; 0 means
	// DefaultWorkers.
	Workers int
	// Prefetch is the number of batches prepared ahead of the one in use
	// (the queue bound; the loader holds Prefetch+1 batch buffers); 0
	// means 2·Workers.
	Prefetch int
}

// Batch is a batch of samples yielded by a [Loader]. It belongs to the
// loader: see [Loader] for how long it stays valid.
type Batch struct {
	// X holds the samples, shape (N, C, H, W), normalised and augmented.
	X *tensor.Tensor
	// Labels holds the N labels.
	Labels []int32
	// Indices holds the N samples' indices in the data set.
	Indices []int
	// Epoch and Index are the epoch and the batch's index within it.
	Epoch, Index int
	// Skipped lists, in order of position, the samples of the batch that
	// could not be read (errors wrapping [ErrBadSample]) and were left out:
	// the batch then has fewer than BatchSize rows, with X, Labels and
	// Indices still aligned. It is empty for almost every batch.
	Skipped []Skip
}

// Skip records a sample that a [Loader] left out of a batch because it
// could not be read.
type Skip struct {
	// Index is the sample's index in the data set.
	Index int
	// Epoch and Batch locate the batch it was left out of (Epoch is 0 for
	// [Loader.Ordered]).
	Epoch, Batch int
	// Err is the read error; it wraps [ErrBadSample] and names the file.
	Err error
}

// slot is a batch buffer with its completion channel.
type slot struct {
	b    Batch
	dims []int      // (N, C, H, W), N set per batch
	done chan error // one value per job; remade for each iteration
}

// worker is the scratch state of one worker goroutine.
type worker struct {
	raw []float32 // the sample before augmentation
	pcg *rand.PCG
	rng *rand.Rand
}

// Loader yields the batches of a data set, prepared in the background by a
// pool of worker goroutines into a bounded set of recycled buffers: once
// the buffers are allocated, by [NewLoader], iterating allocates nothing per
// batch.
//
// # Determinism
//
// Epoch e visits the samples in the order of a Fisher–Yates permutation
// driven by tensor.NewRand(Seed, tensor.Mix(streamShuffle, e)) (or in data
// set order without Shuffle), cut into consecutive batches. The sample at
// position p of epoch e (p = batch index·BatchSize + row) is augmented with
// draws from tensor.NewRand(Seed, tensor.Mix(streamAugment, e, p)): the row
// offset, the column offset and the flip, in that order. Batches therefore
// depend on (data set, Config minus Workers and Prefetch, e, batch index)
// only: not on the number of workers, nor on where the iteration started.
//
// For an [Augmenter] (unless Augment.NoAugmenter), Epoch reads the sample
// at position p with ReadAugmented, passing it that same generator; Pad and
// FlipH, if set, then draw from it in turn.
//
// # Unreadable samples
//
// A sample whose Read fails with an error wrapping [ErrBadSample] (a
// corrupt image file, say) is left out of its batch, which then has fewer
// rows, and is listed in [Batch.Skipped]; [Loader.Skipped] and
// [Loader.SkipCount] sum them up. Which samples are skipped, and so every
// batch, still depends only on the data, the configuration, the epoch and
// the batch index. A batch none of whose samples can be read ends the
// iteration with an error, as does any other Read error: that is rarely a
// bad file, more often a missing disk.
//
// # Validity
//
// A *Batch passed to the body of a range loop, with its X, Labels and
// Indices, stays valid until the body returns: the next step of the loop
// reuses its memory. Copy (e.g. X.Clone()) what must outlive the step. A
// Loader runs one iteration at a time; starting another before the first
// has finished panics. Leaving a loop early (break, return, panic) stops the
// workers and waits for them.
type Loader struct {
	ds        Dataset
	cfg       Config
	size      int // values per sample
	mean, std []float32
	slots     []slot
	work      []worker
	perm      []int
	busy      atomic.Bool
	aug       Augmenter // ds, if it is one and the configuration uses it

	skipMu    sync.Mutex
	skipCount int
	skipped   map[int]Skip // first skip of each sample
}

// NewLoader returns a loader of ds configured by cfg and allocates its
// buffers. It returns an error wrapping [ErrBadConfig] if cfg does not fit
// ds.
func NewLoader(ds Dataset, cfg Config) (*Loader, error) {
	shape := ds.Shape()
	bad := func(format string, a ...any) (*Loader, error) {
		return nil, fmt.Errorf("data: %w: "+format, append([]any{ErrBadConfig}, a...)...)
	}
	cfg.Workers = cmp.Or(cfg.Workers, DefaultWorkers)
	cfg.Prefetch = cmp.Or(cfg.Prefetch, 2*cfg.Workers)
	switch {
	case cfg.BatchSize < 1:
		return bad("batch size %d, want at least 1", cfg.BatchSize)
	case cfg.Workers < 0 || cfg.Prefetch < 0:
		return bad("%d workers and %d batches of prefetch, want non-negative numbers", cfg.Workers, cfg.Prefetch)
	case cfg.Augment.Pad < 0:
		return bad("crop padding %d, want a non-negative number", cfg.Augment.Pad)
	case cfg.Augment.active() && len(shape) != 3:
		return bad("augmentation needs samples of shape (C, H, W), not %v", shape)
	}
	if err := cfg.Norm.check(shape[0]); err != nil {
		return bad("%v", err)
	}
	size := tensor.Numel(shape)
	// A batch never holds more samples than the data set: size the
	// buffers by that, not by BatchSize, which may be huge.
	rows := max(min(cfg.BatchSize, ds.Len()), 1)
	if size > 0 && rows > math.MaxInt/size/(cfg.Prefetch+1)/4 {
		return bad("batch size %d: %d batches of %d samples of %d values do not fit in memory", cfg.BatchSize, cfg.Prefetch+1, rows, size)
	}
	l := &Loader{ds: ds, cfg: cfg, size: size, mean: slices.Clone(cfg.Norm.Mean), std: slices.Clone(cfg.Norm.Std)}
	if a, ok := ds.(Augmenter); ok && !cfg.Augment.NoAugmenter {
		l.aug = a
	}
	l.slots = make([]slot, cfg.Prefetch+1)
	for i := range l.slots {
		s := &l.slots[i]
		s.dims = append([]int{rows}, shape...)
		s.b = Batch{X: tensor.New(s.dims...), Labels: make([]int32, rows), Indices: make([]int, rows)}
	}
	l.work = make([]worker, cfg.Workers)
	for i := range l.work {
		w := &l.work[i]
		w.pcg = rand.NewPCG(0, 0)
		w.rng = rand.New(w.pcg)
		if cfg.Augment.active() {
			w.raw = make([]float32, l.size)
		}
	}
	return l, nil
}

// Dataset returns the loader's data set.
func (l *Loader) Dataset() Dataset { return l.ds }

// NumBatches returns the number of batches of an epoch.
func (l *Loader) NumBatches() int {
	n, b := l.ds.Len(), l.cfg.BatchSize
	if l.cfg.DropLast {
		return n / b
	}
	return ceilDiv(n, b)
}

// ceilDiv returns ⌈n/b⌉ for n ≥ 0, b > 0, without overflow for a huge b.
func ceilDiv(n, b int) int {
	q := n / b
	if n%b != 0 {
		q++
	}
	return q
}

// Epoch returns the batches of epoch e (≥ 0) from batch index from on
// (0 ≤ from ≤ NumBatches), shuffled and augmented as configured: a run
// resumed with Epoch(e, k) sees the batches k, k+1, ... that Epoch(e, 0)
// yields. An invalid e or from yields a single error wrapping
// [ErrBadConfig]; a failed Read yields its error and ends the iteration,
// except for unreadable samples (see [Loader]).
func (l *Loader) Epoch(e, from int) iter.Seq2[*Batch, error] {
	return l.iterate(e, from, l.NumBatches(), l.cfg.Shuffle, true)
}

// Skipped returns the samples left out of batches so far because they
// could not be read, one entry per sample (its first skip), in index
// order: the summary to print at the end of a run.
func (l *Loader) Skipped() []Skip {
	l.skipMu.Lock()
	defer l.skipMu.Unlock()
	out := make([]Skip, 0, len(l.skipped))
	for _, s := range l.skipped {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Skip) int { return cmp.Compare(a.Index, b.Index) })
	return out
}

// SkipCount returns the number of times a sample was left out of a batch
// so far (a bad file counts once per epoch that meets it).
func (l *Loader) SkipCount() int {
	l.skipMu.Lock()
	defer l.skipMu.Unlock()
	return l.skipCount
}

// noteSkips adds the skips of a batch to the loader's summary.
func (l *Loader) noteSkips(skips []Skip) {
	l.skipMu.Lock()
	defer l.skipMu.Unlock()
	l.skipCount += len(skips)
	if l.skipped == nil {
		l.skipped = make(map[int]Skip)
	}
	for _, s := range skips {
		if _, ok := l.skipped[s.Index]; !ok {
			l.skipped[s.Index] = s
		}
	}
}

// Ordered returns all samples in data set order, normalised but neither
// shuffled nor augmented, the last batch possibly partial (DropLast does
// not apply): the iteration for evaluation. Its batches have Epoch 0.
func (l *Loader) Ordered() iter.Seq2[*Batch, error] {
	return l.iterate(0, 0, ceilDiv(l.ds.Len(), l.cfg.BatchSize), false, false)
}

// iterate yields batches from..nb-1 of epoch e; train selects the training
// transforms (augmentation) rather than plain reads.
func (l *Loader) iterate(e, from, nb int, shuffle, train bool) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		if e < 0 || from < 0 || from > nb {
			yield(nil, fmt.Errorf("data: %w: epoch %d, batch %d of %d", ErrBadConfig, e, from, nb))
			return
		}
		if !l.busy.CompareAndSwap(false, true) {
			panic("data: Loader: an iteration is already in progress")
		}
		defer l.busy.Store(false)
		var perm []int
		if shuffle {
			perm = l.permutation(e)
		}
		// Batch k is prepared in slot (k-from) mod q and dispatched once the
		// batch that used that slot before has been consumed, so each slot
		// has at most one job in flight and its done channel never blocks.
		q := len(l.slots)
		for i := range l.slots {
			l.slots[i].done = make(chan error, 1)
		}
		jobs := make(chan int, q)
		var stop atomic.Bool
		var wg sync.WaitGroup
		for i := range l.work {
			wg.Add(1)
			go func(w *worker) {
				defer wg.Done()
				for k := range jobs {
					s := &l.slots[(k-from)%q]
					var err error
					if !stop.Load() {
						err = l.fill(s, w, e, k, perm, train)
					}
					s.done <- err
				}
			}(&l.work[i])
		}
		defer func() {
			stop.Store(true)
			close(jobs)
			wg.Wait()
		}()
		next := from
		for ; next < nb && next < from+q; next++ {
			jobs <- next
		}
		for k := from; k < nb; k++ {
			s := &l.slots[(k-from)%q]
			if err := <-s.done; err != nil {
				yield(nil, err)
				return
			}
			if len(s.b.Skipped) > 0 {
				l.noteSkips(s.b.Skipped)
			}
			if !yield(&s.b, nil) {
				return
			}
			if next < nb {
				jobs <- next
				next++
			}
		}
	}
}

// permutation returns the order of epoch e (in l.perm).
func (l *Loader) permutation(e int) []int {
	n := l.ds.Len()
	if cap(l.perm) < n {
		l.perm = make([]int, n)
	}
	p := l.perm[:n]
	for i := range p {
		p[i] = i
	}
	shuffle(tensor.NewRand(l.cfg.Seed, tensor.Mix(streamShuffle, uint64(e))), p)
	return p
}

// fill prepares batch k of epoch e in s, leaving out unreadable samples.
func (l *Loader) fill(s *slot, w *worker, e, k int, perm []int, train bool) error {
	bs := l.cfg.BatchSize
	n := l.ds.Len() - k*bs // k·bs ≤ Len: batch k exists
	n = min(bs, n)
	s.dims[0] = n
	b := &s.b
	b.X.Resize(s.dims...)
	b.Labels, b.Indices, b.Skipped = b.Labels[:n], b.Indices[:n], b.Skipped[:0]
	b.Epoch, b.Index = e, k
	good := 0
	for j := range n {
		p := k*bs + j
		i := p
		if perm != nil {
			i = perm[p]
		}
		row := b.X.Data[good*l.size : (good+1)*l.size]
		if err := l.read(w, row, e, p, i, train); err != nil {
			if !errors.Is(err, ErrBadSample) {
				return fmt.Errorf("data: epoch %d, sample %d: %w", e, i, err)
			}
			b.Skipped = append(b.Skipped, Skip{Index: i, Epoch: e, Batch: k, Err: err})
			continue
		}
		l.normalise(row)
		b.Labels[good], b.Indices[good] = l.ds.Label(i), i
		good++
	}
	if good < n {
		if good == 0 {
			return fmt.Errorf("data: epoch %d, batch %d: all %d of its samples are unreadable; check the data set's files (first error: %w)",
				e, k, n, b.Skipped[0].Err)
		}
		s.dims[0] = good
		b.X.Resize(s.dims...)
		b.Labels, b.Indices = b.Labels[:good], b.Indices[:good]
	}
	return nil
}

// read writes sample i, at position p of epoch e, into row: its training
// transform if train, else a plain Read.
func (l *Loader) read(w *worker, row []float32, e, p, i int, train bool) error {
	aug := l.cfg.Augment
	if !train || (l.aug == nil && !aug.active()) {
		return l.ds.Read(i, row)
	}
	// Same generator as tensor.NewRand(Seed, Mix(streamAugment, e, p)).
	w.pcg.Seed(l.cfg.Seed, tensor.Mix(tensor.Mix(streamAugment, uint64(e), uint64(p))))
	dst := row
	if aug.active() {
		dst = w.raw
	}
	var err error
	if l.aug != nil {
		err = l.aug.ReadAugmented(i, dst, w.rng)
	} else {
		err = l.ds.Read(i, dst)
	}
	if err != nil || !aug.active() {
		return err
	}
	shape := l.ds.Shape()
	dy := below(w.rng.Uint64(), 2*aug.Pad+1) - aug.Pad
	dx := below(w.rng.Uint64(), 2*aug.Pad+1) - aug.Pad
	flip := w.rng.Uint64()>>63 == 1 && aug.FlipH
	cropFlip(row, w.raw, shape[0], shape[1], shape[2], dy, dx, flip)
	return nil
}

// cropFlip writes into dst the c×h×w image src shifted by (dy, dx), with
// zeros where the shift leaves it, then flipped left–right if flip:
// dst[ch][y][x] = src[ch][y+dy][x'+dx], x' = w-1-x if flip, else x.
// Shifting by (dy, dx) = (oy−P, ox−P) is cropping at (oy, ox) the image
// padded by P.
func cropFlip(dst, src []float32, c, h, w, dy, dx int, flip bool) {
	for ch := range c {
		for y := range h {
			d := dst[(ch*h+y)*w:][:w]
			sy := y + dy
			if sy < 0 || sy >= h {
				clear(d)
				continue
			}
			s := src[(ch*h+sy)*w:][:w]
			clear(d)
			if !flip { // sx = x+dx ∈ [0, w)
				if x0, x1 := max(0, -dx), min(w, w-dx); x0 < x1 {
					copy(d[x0:x1], s[x0+dx:x1+dx])
				}
				continue
			}
			for x := max(0, dx); x < min(w, w+dx); x++ { // sx = w-1-x+dx ∈ [0, w)
				d[x] = s[w-1-x+dx]
			}
		}
	}
}

// normalise applies the configured normalisation to one sample in place.
func (l *Loader) normalise(row []float32) {
	if len(l.mean) == 0 {
		return
	}
	plane := len(row) / len(l.mean)
	for ch, m := range l.mean {
		sd := l.std[ch]
		for i, v := range row[ch*plane : (ch+1)*plane] {
			row[ch*plane+i] = (v - m) / sd
		}
	}
}
