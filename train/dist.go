package train

import (
	"fmt"
	"math"

	"github.com/asymlab/asym/dist"
	"github.com/asymlab/asym/nn"
)

// comm returns the process group (Local when none was set).
func (t *Trainer) comm() dist.Comm {
	if t.Comm == nil {
		return dist.Local()
	}
	return t.Comm
}

// shard returns the rows [lo, hi) of an n-sample global batch that rank r
// of size processes works on.
func shard(n, r, size int) (lo, hi int) {
	return r * n / size, (r + 1) * n / size
}

// allReduceGrads sums, over the processes, every trained gradient weighted
// by the process's share of the batch (each process computed means over
// its shard, so the result is the mean over the global batch), together
// with the loss, the correct count and the divergence and stop flags, in
// one reduction.
func (t *Trainer) allReduceGrads(share, loss float64, correct int, nonFinite, stop bool) (float64, int, bool, bool, error) {
	params := t.Opt.Params()
	n := 4
	for _, p := range params {
		n += len(p.Grad.Data)
	}
	if cap(t.reduceBuf) < n {
		t.reduceBuf = make([]float32, n)
	}
	buf := t.reduceBuf[:n]
	k := 0
	s := float32(share)
	for _, p := range params {
		g := buf[k : k+len(p.Grad.Data)]
		if nonFinite {
			clear(g)
		} else {
			for i, v := range p.Grad.Data {
				g[i] = s * v
			}
		}
		k += len(g)
	}
	lossShare := share * loss
	if nonFinite {
		lossShare = 0
	}
	buf[k], buf[k+1] = float32(lossShare), float32(correct)
	buf[k+2], buf[k+3] = b2f(nonFinite), b2f(stop)
	if err := t.comm().AllReduce(buf); err != nil {
		return loss, correct, false, false, fmt.Errorf("train: step %d: all-reducing gradients: %w", t.step, err)
	}
	k = 0
	for _, p := range params {
		copy(p.Grad.Data, buf[k:k+len(p.Grad.Data)])
		k += len(p.Grad.Data)
	}
	bad := buf[k+2] > 0
	if bad {
		return math.NaN(), int(buf[k+1]), true, buf[k+3] > 0, nil
	}
	return float64(buf[k]), int(buf[k+1]), false, buf[k+3] > 0, nil
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// averageBuffers makes the batch-norm running statistics the mean over the
// processes (they differ when batch normalisation is not synchronised),
// before an evaluation or a checkpoint.
func (t *Trainer) averageBuffers() error {
	c := t.comm()
	if c.Size() == 1 {
		return nil
	}
	var bufs []*nn.Param
	n := 0
	for _, p := range t.Net.Params() {
		if p.Kind == nn.KindBuffer {
			bufs = append(bufs, p)
			n += p.Value.Len()
		}
	}
	buf := make([]float32, 0, n)
	for _, p := range bufs {
		buf = append(buf, p.Value.Data...)
	}
	if err := c.AllReduce(buf); err != nil {
		return fmt.Errorf("train: averaging batch-norm statistics: %w", err)
	}
	inv := 1 / float32(c.Size())
	k := 0
	for _, p := range bufs {
		for i := range p.Value.Data {
			p.Value.Data[i] = buf[k] * inv
			k++
		}
	}
	return nil
}

// checkInSync verifies that every process holds the same weights (a
// checksum reduced over the processes), so that a silent divergence of
// the replicas is caught at the next checkpoint.
func (t *Trainer) checkInSync() error {
	c := t.comm()
	if c.Size() == 1 {
		return nil
	}
	var sum, sq float64
	for _, p := range t.state {
		for i, v := range p.Value.Data {
			f := float64(v)
			sum += f * float64(i%7+1)
			sq += f * f
		}
	}
	mine := []float64{sum, sq}
	all := []float64{sum, sq}
	if err := c.AllReduce64(all); err != nil {
		return err
	}
	size := float64(c.Size())
	for i := range mine {
		if mean := all[i] / size; math.Abs(mean-mine[i]) > 1e-9*math.Max(1, math.Abs(mean)) {
			return fmt.Errorf("train: rank %d's weights differ from the other processes' (checksum %g vs mean %g): the replicas diverged", c.Rank(), mine[i], mean)
		}
	}
	return nil
}
