package experiments

import (
	"fmt"
	"io"
	"time"

	"github.com/asymlab/asym/train"
)

// ETA estimates the time left in an experiment. Every job has a weight,
// its expected cost relative to the others ([JobWeight]); the time spent
// on the jobs run so far, divided by their weight, gives the rate at which
// the rest will go. Jobs finished in an earlier session cost nothing now
// and teach nothing about the rate. The zero value is not usable: see
// [NewETA].
type ETA struct {
	weights  []float64
	left     float64       // weight of the jobs not finished
	ranW     float64       // weight of the jobs run (timed) in this session
	ranTime  time.Duration // time they took
	current  int           // job in progress, -1 if none
	fraction float64       // done fraction of the current job
}

// NewETA returns an estimator for jobs of the given weights.
func NewETA(weights []float64) *ETA {
	e := &ETA{weights: weights, current: -1}
	for _, w := range weights {
		e.left += w
	}
	return e
}

// Start marks job i as in progress.
func (e *ETA) Start(i int) { e.current, e.fraction = i, 0 }

// Progress records that the job in progress is the fraction f (0–1) done.
func (e *ETA) Progress(f float64) { e.fraction = min(max(f, 0), 1) }

// Finish records the end of job i, which took d; timed is false for a
// job found finished (done earlier, nothing run).
func (e *ETA) Finish(i int, d time.Duration, timed bool) {
	e.left -= e.weights[i]
	if timed {
		e.ranW += e.weights[i]
		e.ranTime += d
	}
	e.current, e.fraction = -1, 0
}

// Remaining returns the estimated time left in the experiment, given that
// the job in progress has been running for elapsed; ok is false until a
// rate is known (no job timed yet and the current one less than 5 % done).
func (e *ETA) Remaining(elapsed time.Duration) (d time.Duration, ok bool) {
	left := e.left
	var perWeight float64 // seconds per unit of weight
	switch {
	case e.ranW > 0:
		perWeight = e.ranTime.Seconds() / e.ranW
	case e.current >= 0 && e.fraction >= 0.05 && e.weights[e.current] > 0:
		perWeight = elapsed.Seconds() / (e.fraction * e.weights[e.current])
	default:
		return 0, false
	}
	if e.current >= 0 {
		left -= e.fraction * e.weights[e.current]
	}
	return time.Duration(max(left, 0) * perWeight * float64(time.Second)), true
}

// JobWeight is the expected cost of a job relative to others: its epochs
// times the depth of its ResNet (1 for other models), so that a depth
// experiment's ResNet-56 counts 7 times its ResNet-8.
func JobWeight(j Job) float64 {
	w := float64(max(j.Cfg.Run.Epochs, 1))
	if d := j.Cfg.Model.Depth; d > 0 && j.Cfg.Model.Arch == "resnet" {
		w *= float64(d)
	}
	return w
}

// Monitor reports an experiment's progress on W: one line per finished
// job with the estimated time left and, when Live (a terminal), a status
// line rewritten during every run (epoch, batch, loss, time left in the
// run and in the experiment).
type Monitor struct {
	W    io.Writer
	Live bool
	// now returns the time (time.Now when nil; tests set it).
	now func() time.Time

	eta      *ETA
	n        int
	job      Job
	index    int
	jobStart time.Time
	last     time.Time
	width    int
}

func (m *Monitor) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}

// begin prepares for the jobs of an experiment.
func (m *Monitor) begin(jobs []Job) {
	w := make([]float64, len(jobs))
	for i, j := range jobs {
		w[i] = JobWeight(j)
	}
	m.eta, m.n = NewETA(w), len(jobs)
}

// start is called when job i starts (or is found finished).
func (m *Monitor) start(i int, j Job) {
	m.index, m.job, m.jobStart = i, j, m.clock()
	m.eta.Start(i)
}

// Step implements [train.Reporter]: it updates the estimate and, when
// Live, the status line (at most five times a second).
func (m *Monitor) Step(p train.Progress) {
	if p.Epochs > 0 && p.Batches > 0 {
		m.eta.Progress((float64(p.Epoch) + float64(p.Batch)/float64(p.Batches)) / float64(p.Epochs))
	}
	if !m.Live || m.W == nil {
		return
	}
	now := m.clock()
	if now.Sub(m.last) < 200*time.Millisecond {
		return
	}
	m.last = now
	line := fmt.Sprintf("[%d/%d] %s  epoch %d/%d  batch %d/%d  loss %.4f  run %s left", m.index+1, m.n, m.job.ID,
		p.Epoch+1, p.Epochs, p.Batch, p.Batches, p.Loss, fmtDur(p.Remaining))
	if d, ok := m.eta.Remaining(now.Sub(m.jobStart)); ok {
		line += "  experiment " + fmtDur(d) + " left"
	}
	m.width = max(m.width, len(line))
	fmt.Fprintf(m.W, "\r%-*s", m.width, line)
}

// Epoch implements [train.Reporter]; the per-epoch lines of a run are not
// shown in an experiment.
func (m *Monitor) Epoch(train.EpochMetrics) {}

// clearLine erases the status line, if any.
func (m *Monitor) clearLine() {
	if m.Live && m.W != nil && m.width > 0 {
		fmt.Fprintf(m.W, "\r%*s\r", m.width, "")
		m.width = 0
	}
}

// finish is called when job i is done: it clears the status line and
// prints the job's line with the time left.
func (m *Monitor) finish(i int, r Result, status string, timed bool) {
	m.eta.Finish(i, m.clock().Sub(m.jobStart), timed)
	if m.W == nil {
		return
	}
	m.clearLine()
	what := fmt.Sprintf("test %.2f%%", r.Acc())
	if r.Diverged {
		what = "diverged"
	}
	left := ""
	if i+1 < m.n {
		if d, ok := m.eta.Remaining(0); ok {
			left = "; about " + fmtDur(d) + " left"
		}
	}
	fmt.Fprintf(m.W, "[%d/%d] %s: %s (%s%s)\n", i+1, m.n, m.job.ID, what, status, left)
}

// fmtDur formats a duration to the second (1h2m3s, 4m5s, 7s).
func fmtDur(d time.Duration) string { return d.Round(time.Second).String() }
