//go:build !(mpi && cgo)

package dist

import "os"

// Available reports whether this binary was built with MPI support.
const Available = false

// Init returns the group this process belongs to. Without MPI support it
// is Local, unless the process was started by mpirun with more than one
// rank (OMPI_COMM_WORLD_SIZE > 1), which is an error: each process would
// otherwise train alone.
func Init() (Comm, error) {
	if n := os.Getenv("OMPI_COMM_WORLD_SIZE"); n != "" && n != "1" {
		return nil, ErrNoMPI
	}
	if n := os.Getenv("PMI_SIZE"); n != "" && n != "1" {
		return nil, ErrNoMPI
	}
	return Local(), nil
}
