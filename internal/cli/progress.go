package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/asymlab/asym/train"
)

// reporter prints training progress on stderr: a live line on a terminal,
// one plain line per epoch otherwise.
type reporter struct {
	w     io.Writer
	tty   bool
	last  time.Time
	width int
}

func (r *reporter) Step(p train.Progress) {
	if !r.tty || time.Since(r.last) < 200*time.Millisecond {
		return
	}
	r.last = time.Now()
	line := fmt.Sprintf("epoch %d/%d  batch %d/%d  step %d  loss %.4f  acc %5.1f%%  %6.0f img/s  ETA %s",
		p.Epoch+1, p.Epochs, p.Batch, p.Batches, p.Step, p.Loss, 100*p.Acc, p.ImagesPerS, p.Remaining.Round(time.Second))
	r.width = max(r.width, len(line))
	fmt.Fprintf(r.w, "\r%-*s", r.width, line)
}

func (r *reporter) Epoch(m train.EpochMetrics) {
	if r.tty && r.width > 0 {
		fmt.Fprintf(r.w, "\r%*s\r", r.width, "")
	}
	fmt.Fprintf(r.w, "epoch %3d  train loss %.4f acc %6.2f%%  test loss %.4f acc %6.2f%%  lr %.4g  %.1fs  %.0f img/s\n",
		m.Epoch, m.TrainLoss, 100*m.TrainAcc, m.TestLoss, 100*m.TestAcc, m.LR, m.EpochS, m.ImagesPerS)
}
