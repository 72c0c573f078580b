package engine

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// visit runs one parallel loop over n items and checks that every item was
// handled once, by the worker whose range split gives it.
func visit(t *testing.T, c *CPU, n, minItems int) {
	t.Helper()
	owner := make([]int32, n)
	for i := range owner {
		owner[i] = -1
	}
	var calls atomic.Int32
	nw := c.parallel(n, minItems, func(w, lo, hi int) {
		calls.Add(1)
		for i := lo; i < hi; i++ {
			if owner[i] != -1 {
				panic("item visited twice")
			}
			owner[i] = int32(w)
		}
	})
	if int(calls.Load()) != nw {
		t.Fatalf("n %d: %d calls for %d workers", n, calls.Load(), nw)
	}
	for w := 0; w < nw; w++ {
		lo, hi := split(n, nw, w)
		for i := lo; i < hi; i++ {
			if owner[i] != int32(w) {
				t.Fatalf("n %d: item %d done by worker %d, want %d", n, i, owner[i], w)
			}
		}
	}
}

// TestParallelPool runs many loops back to back (the workers spinning
// between them), and loops after pauses longer than the spin (the workers
// asleep), on several thread counts.
func TestParallelPool(t *testing.T) {
	for _, threads := range []int{2, 3, 4} {
		c := NewCPU(threads)
		for i := 0; i < 2000; i++ {
			visit(t, c, 1+i%37, 1)
		}
		for i := 0; i < 5; i++ {
			time.Sleep(2 * spinFor)
			visit(t, c, 100, 1)
		}
	}
}

// TestParallelPoolConcurrent uses two backends with the same thread count
// from two goroutines at once, and starts loops inside loops: the pool
// serves one loop at a time, the others run on goroutines of their own.
func TestParallelPoolConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := NewCPU(3)
			for i := 0; i < 500; i++ {
				visit(t, c, 50+i%7, 1)
			}
		}()
	}
	wg.Wait()
	outer, inner := NewCPU(2), NewCPU(2)
	var total atomic.Int64
	outer.parallel(4, 1, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			inner.parallel(100, 1, func(_, lo, hi int) { total.Add(int64(hi - lo)) })
		}
	})
	if total.Load() != 400 {
		t.Errorf("nested loops covered %d items, want 400", total.Load())
	}
}

// TestParallelPoolPanic checks that a panic in a worker's share reaches the
// caller once every share has ended, and that the pool works afterwards.
func TestParallelPoolPanic(t *testing.T) {
	c := NewCPU(2)
	var finished atomic.Bool
	func() {
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), "boom") {
				t.Errorf("recovered %v, want the worker's panic", r)
			}
			if !finished.Load() {
				t.Error("the panic was raised before worker 0's share ended")
			}
		}()
		c.parallel(2, 1, func(w, _, _ int) {
			if w == 1 {
				panic("boom")
			}
			time.Sleep(time.Millisecond)
			finished.Store(true)
		})
	}()
	visit(t, c, 10, 1)
}
