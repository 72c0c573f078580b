package blas

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/asymlab/asym/blas/sgemm"
)

// Impl is a named float32 BLAS.
type Impl struct {
	// Name identifies the implementation ("go", "openblas").
	Name string
	// Float32 is the implementation itself.
	Float32 gblas.Float32
	// SingleThread, when non-nil, asks the implementation to use one
	// thread per call (asym parallelises above the BLAS).
	SingleThread func()
}

var (
	mu      sync.Mutex
	impls   = map[string]Impl{}
	current Impl
)

func init() {
	Register(Impl{Name: "go", Float32: sgemm.Implementation{}})
	current = impls["go"]
	blas32.Use(current.Float32)
}

// Register makes an implementation selectable by name. It is called from
// init functions of implementation packages; registering a name twice
// panics.
func Register(impl Impl) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := impls[impl.Name]; dup {
		panic("blas: Register called twice for " + impl.Name)
	}
	impls[impl.Name] = impl
}

// Names returns the names of the registered implementations, sorted.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	var n []string
	for k := range impls {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Use selects the implementation called name for the whole process. The
// empty string selects the best registered one ("openblas" when built in,
// else "go"). It returns an error naming the valid choices if name is
// unknown. Use must not be called while the engine is computing.
func Use(name string) error {
	mu.Lock()
	defer mu.Unlock()
	if name == "" || name == "auto" {
		name = "go"
		if _, ok := impls["openblas"]; ok {
			name = "openblas"
		}
	}
	impl, ok := impls[name]
	if !ok {
		var valid []string
		for k := range impls {
			valid = append(valid, k)
		}
		sort.Strings(valid)
		hint := ""
		if name == "openblas" {
			hint = " (build with -tags openblas and cgo, after installing libopenblas-dev)"
		}
		return fmt.Errorf("blas: unknown implementation %q%s; valid: auto, %s", name, hint, strings.Join(valid, ", "))
	}
	if impl.SingleThread != nil {
		impl.SingleThread()
	}
	current = impl
	blas32.Use(impl.Float32)
	return nil
}

// UseFromEnv selects the implementation named by the ASYM_BLAS environment
// variable, or the best registered one when it is unset.
func UseFromEnv() error { return Use(os.Getenv("ASYM_BLAS")) }

// Current returns the implementation in use.
func Current() gblas.Float32 { return current.Float32 }

// CurrentName returns the name of the implementation in use.
func CurrentName() string { return current.Name }

// Lookup returns the registered implementation called name.
func Lookup(name string) (Impl, bool) {
	mu.Lock()
	defer mu.Unlock()
	i, ok := impls[name]
	return i, ok
}
