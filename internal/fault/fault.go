// Package fault injects failures and delays at the points where asym
// commits files (a checkpoint's temporary file just before its rename), for
// tests of what a crash or an I/O error at that point leaves behind.
//
// In-process tests install a hook with [Set]. Tests that run asym as a
// separate process (and kill it) set the environment variable
// ASYM_FAULT_DELAY to a Go duration ("50ms"): every injection point then
// sleeps that long, which widens the window in which a kill lands in the
// middle of a checkpoint write. Neither is meant for users.
package fault

import (
	"os"
	"sync"
	"time"
)

var (
	mu    sync.Mutex
	hook  func(path string) error
	delay = parseDelay(os.Getenv("ASYM_FAULT_DELAY"))
)

func parseDelay(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// Set installs f as the hook called at every injection point with the path
// being committed (an error it returns fails that write) and returns a
// function that removes it.
func Set(f func(path string) error) (restore func()) {
	mu.Lock()
	defer mu.Unlock()
	old := hook
	hook = f
	return func() {
		mu.Lock()
		defer mu.Unlock()
		hook = old
	}
}

// At is an injection point: it sleeps for ASYM_FAULT_DELAY, then calls the
// hook installed by Set, if any, with path and returns its error.
func At(path string) error {
	if delay > 0 {
		time.Sleep(delay)
	}
	mu.Lock()
	f := hook
	mu.Unlock()
	if f == nil {
		return nil
	}
	return f(path)
}
