package experiments

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/asymlab/asym/train"
)

func TestETA(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	e := NewETA([]float64{1, 1, 2, 2, 4})
	// Nothing known yet, and too little of the first job done.
	e.Start(0)
	e.Progress(0.01)
	if _, ok := e.Remaining(sec(1)); ok {
		t.Error("an estimate before any rate is known")
	}
	// A quarter of the first job (weight 1) in 5 s: 20 s per unit, 10 − 0.25 units left.
	e.Progress(0.25)
	if d, ok := e.Remaining(sec(5)); !ok || d != sec(195) {
		t.Errorf("from the running job: %v %v, want 3m15s", d, ok)
	}
	e.Finish(0, sec(10), true) // 10 s per unit from now on
	if d, ok := e.Remaining(0); !ok || d != sec(90) {
		t.Errorf("after one job: %v %v, want 1m30s", d, ok)
	}
	// A job found finished costs nothing and leaves the rate alone.
	e.Start(1)
	e.Finish(1, sec(0.001), false)
	if d, _ := e.Remaining(0); d != sec(80) {
		t.Errorf("after a skipped job: %v, want 1m20s", d)
	}
	// Half of a weight-2 job done: 7 units left.
	e.Start(2)
	e.Progress(0.5)
	if d, _ := e.Remaining(sec(10)); d != sec(70) {
		t.Errorf("mid-job: %v, want 1m10s", d)
	}
	e.Finish(2, sec(30), true) // 40 s for 3 units
	if d, _ := e.Remaining(0); d.Round(time.Millisecond) != sec(80) {
		t.Errorf("after three jobs: %v, want 1m20s (6 units at 40/3 s)", d)
	}
	e.Start(3)
	e.Finish(3, sec(20), true)
	e.Start(4)
	e.Finish(4, sec(40), true)
	if d, ok := e.Remaining(0); !ok || d != 0 {
		t.Errorf("at the end: %v %v, want 0", d, ok)
	}
}

func TestJobWeight(t *testing.T) {
	j := Job{Cfg: train.Default()}
	j.Cfg.Run.Epochs = 3
	j.Cfg.Model.Arch = "mlp"
	if w := JobWeight(j); w != 3 {
		t.Errorf("mlp, 3 epochs: weight %v", w)
	}
	j.Cfg.Model.Arch, j.Cfg.Model.Depth = "resnet", 56
	if w := JobWeight(j); w != 3*56 {
		t.Errorf("resnet56, 3 epochs: weight %v", w)
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// The monitor prints the time left after every job; on a terminal it also
// rewrites a status line during a run with the time left in the run and
// in the experiment (issue 9, item 24). No terminal is needed: Live only
// selects the output.
func TestMonitor(t *testing.T) {
	jobs := []Job{{ID: "mlp/bp/seed1"}, {ID: "mlp/fa/seed1"}, {ID: "mlp/sa/seed1"}}
	for i := range jobs {
		jobs[i].Cfg.Run.Epochs = 2
	}
	for _, live := range []bool{false, true} {
		var buf bytes.Buffer
		clk := &fakeClock{t: time.Unix(0, 0)}
		m := &Monitor{W: &buf, Live: live, now: clk.now}
		m.begin(jobs)
		for i, j := range jobs {
			m.start(i, j)
			for b := 1; b <= 4; b++ {
				clk.t = clk.t.Add(time.Second)
				m.Step(train.Progress{Epoch: (b - 1) / 2, Epochs: 2, Batch: (b-1)%2 + 1, Batches: 2, Loss: 0.5, Remaining: 3 * time.Second})
			}
			clk.t = clk.t.Add(time.Second)
			m.finish(i, Result{Job: j, Summary: &train.Summary{TestAcc: 0.9}}, "ran", true)
		}
		out := buf.String()
		// Every job takes 5 s.
		for _, want := range []string{"[1/3] mlp/bp/seed1: test 90.00% (ran; about 10s left)\n", "[2/3] mlp/fa/seed1: test 90.00% (ran; about 5s left)\n",
			"[3/3] mlp/sa/seed1: test 90.00% (ran)\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("live=%v: no %q in\n%q", live, want, out)
			}
		}
		status := strings.Contains(out, "\r[2/3] mlp/fa/seed1  epoch 2/2  batch 1/2  loss 0.5000  run 3s left  experiment ")
		if status != live {
			t.Errorf("live=%v: status line shown: %v\n%q", live, status, out)
		}
	}
}
