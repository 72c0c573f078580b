package engine

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The workers of CPU.parallel. A goroutine started per parallel loop
// starts late on an idle core: the runtime has parked the core's thread,
// and waking it takes about as long as a 50 µs share of work (measured on
// a 2-core VM: a loop of 50 µs split in two took 51 µs, against 41 µs on
// one goroutine). The kernels of a training step are mostly shorter than a
// millisecond, so each CPU thread count has a pool of persistent workers
// that spin for a short while after a task, catching the next loop of the
// step at once, and sleep when none comes (OpenMP's policy, with a
// shorter spin). A pool serves one loop at a time; a loop that finds it
// busy (another CPU backend with the same thread count in use concurrently,
// or a loop started inside a loop) runs on goroutines of its own.

// spinFor is how long an idle worker spins (yielding its thread after the
// first spinYield of it) before it sleeps.
const (
	spinFor   = 200 * time.Microsecond
	spinYield = 20 * time.Microsecond
)

// pool is the set of persistent workers 1 … n−1 of the parallel loops of
// n workers (worker 0 is the calling goroutine).
type pool struct {
	busy    sync.Mutex
	workers []*worker
}

// worker is one persistent worker. The caller publishes a task by setting
// fn, w, lo and hi, then incrementing seq; the worker runs it and stores
// seq into done.
type worker struct {
	seq, done atomic.Uint64
	sleeping  atomic.Bool
	wake      chan struct{}
	fn        func(w, lo, hi int)
	w, lo, hi int
	panicked  any
}

var pools sync.Map // threads → *pool

// poolFor returns the pool of loops over n workers, starting it on first
// use.
func poolFor(n int) *pool {
	if p, ok := pools.Load(n); ok {
		return p.(*pool)
	}
	p := &pool{workers: make([]*worker, n-1)}
	for i := range p.workers {
		p.workers[i] = &worker{wake: make(chan struct{}, 1)}
	}
	if q, loaded := pools.LoadOrStore(n, p); loaded {
		return q.(*pool)
	}
	for _, wk := range p.workers {
		go wk.loop()
	}
	return p
}

// loop runs the worker's tasks for ever.
func (wk *worker) loop() {
	var last uint64
	for {
		wk.await(last)
		last = wk.seq.Load()
		func() {
			defer func() {
				if r := recover(); r != nil {
					wk.panicked = r
				}
			}()
			wk.fn(wk.w, wk.lo, wk.hi)
		}()
		wk.fn = nil
		wk.done.Store(last)
	}
}

// await returns once seq has moved past last: it spins, then yields, then
// sleeps until the caller wakes it.
func (wk *worker) await(last uint64) {
	start := time.Now()
	for i := 0; wk.seq.Load() == last; i++ {
		if i%64 != 63 {
			continue
		}
		switch d := time.Since(start); {
		case d < spinYield:
		case d < spinFor:
			runtime.Gosched()
		default:
			// Sleep: the caller sends a wake-up after incrementing seq if
			// it sees sleeping set; checking seq again after setting it
			// closes the gap (the atomics are sequentially consistent).
			wk.sleeping.Store(true)
			if wk.seq.Load() == last {
				<-wk.wake
			}
			wk.sleeping.Store(false)
			start = time.Now()
		}
	}
}

// run runs fn(w, lo, hi) for w < nw on the pool's workers and the calling
// goroutine (worker 0), and returns when all are done; a panic in any
// share is raised here once every share has ended. It reports false,
// having run nothing, if the pool is busy.
func (p *pool) run(n, nw int, fn func(w, lo, hi int)) bool {
	if !p.busy.TryLock() {
		return false
	}
	defer p.busy.Unlock()
	for w := 1; w < nw; w++ {
		wk := p.workers[w-1]
		wk.fn, wk.w = fn, w
		wk.lo, wk.hi = split(n, nw, w)
		wk.seq.Add(1)
		if wk.sleeping.Load() {
			select {
			case wk.wake <- struct{}{}:
			default:
			}
		}
	}
	var panicked any
	func() {
		defer func() {
			for w := 1; w < nw; w++ { // only this goroutine moves seq
				wk := p.workers[w-1]
				for i := 0; wk.done.Load() != wk.seq.Load(); i++ {
					if i%64 == 63 {
						runtime.Gosched()
					}
				}
				if wk.panicked != nil && panicked == nil {
					panicked = wk.panicked
				}
				wk.panicked = nil
			}
		}()
		lo, hi := split(n, nw, 0)
		fn(0, lo, hi)
	}()
	if panicked != nil {
		panic(fmt.Sprintf("%v (in a parallel worker)", panicked))
	}
	return true
}
