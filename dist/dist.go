package dist

import (
	"errors"
	"fmt"
)

// Comm is a group of processes training one model together.
type Comm interface {
	// Rank is this process's index in [0, Size).
	Rank() int
	// Size is the number of processes.
	Size() int
	// AllReduce replaces buf, on every rank, by the element-wise sum of
	// the bufs of all ranks.
	AllReduce(buf []float32) error
	// AllReduce64 is AllReduce for float64 values.
	AllReduce64(buf []float64) error
	// Broadcast copies root's buf into every rank's buf.
	Broadcast(buf []float32, root int) error
	// Barrier waits until every rank has called it.
	Barrier() error
	// Abort ends every process of the group with the given exit code
	// (after an unrecoverable error on one rank).
	Abort(code int)
	// Close releases the group (MPI_Finalize).
	Close() error
	// Name describes the implementation ("local", "mpi").
	Name() string
}

// ErrNoMPI is returned by [Init] when MPI was requested but this binary
// was built without it.
var ErrNoMPI = errors.New("dist: this binary was built without MPI (build with -tags mpi after installing libopenmpi-dev)")

type local struct{}

// Local returns the single-process group.
func Local() Comm { return local{} }

func (local) Rank() int                      { return 0 }
func (local) Size() int                      { return 1 }
func (local) AllReduce([]float32) error      { return nil }
func (local) AllReduce64([]float64) error    { return nil }
func (local) Broadcast([]float32, int) error { return nil }
func (local) Barrier() error                 { return nil }
func (local) Abort(int)                      {}
func (local) Close() error                   { return nil }
func (local) Name() string                   { return "local" }
func (local) String() string                 { return "local (1 process)" }

// Describe returns a one-line description of a group.
func Describe(c Comm) string {
	return fmt.Sprintf("%s, rank %d of %d", c.Name(), c.Rank(), c.Size())
}
