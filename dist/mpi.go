//go:build mpi && cgo

package dist

/*
#cgo pkg-config: ompi
#include <mpi.h>
#include <stdlib.h>

static int asym_init(void) {
	int provided = 0;
	int flag = 0;
	MPI_Initialized(&flag);
	if (flag) return MPI_SUCCESS;
	int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static int asym_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int asym_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int asym_allreduce_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int asym_allreduce_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static int asym_bcast_f32(float *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_FLOAT, root, MPI_COMM_WORLD);
}
static int asym_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static void asym_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static int asym_finalize(void) { return MPI_Finalize(); }
static void asym_error_string(int code, char *buf, int *len) { MPI_Error_string(code, buf, len); }
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"
)

// Available reports whether this binary was built with MPI support.
const Available = true

// maxChunk bounds the element count of one MPI call (MPI counts are int).
const maxChunk = 1 << 28

type mpiComm struct {
	rank, size int
}

// Init returns the MPI group when the process was started by mpirun (or
// another MPI launcher), and Local otherwise.
func Init() (Comm, error) {
	if os.Getenv("OMPI_COMM_WORLD_SIZE") == "" && os.Getenv("PMI_SIZE") == "" && os.Getenv("PMIX_RANK") == "" {
		return Local(), nil
	}
	// MPI wants every call from the thread that initialised it.
	runtime.LockOSThread()
	if rc := C.asym_init(); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Init_thread", rc)
	}
	var r, s C.int
	if rc := C.asym_rank(&r); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_rank", rc)
	}
	if rc := C.asym_size(&s); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_size", rc)
	}
	return &mpiComm{rank: int(r), size: int(s)}, nil
}

func mpiError(op string, rc C.int) error {
	buf := make([]byte, C.MPI_MAX_ERROR_STRING)
	var n C.int
	C.asym_error_string(rc, (*C.char)(unsafe.Pointer(&buf[0])), &n)
	return fmt.Errorf("dist: %s failed: %s (MPI error %d)", op, string(buf[:n]), int(rc))
}

func (m *mpiComm) Rank() int    { return m.rank }
func (m *mpiComm) Size() int    { return m.size }
func (m *mpiComm) Name() string { return "mpi" }

func (m *mpiComm) AllReduce(buf []float32) error {
	for len(buf) > 0 {
		n := min(len(buf), maxChunk)
		if rc := C.asym_allreduce_f32((*C.float)(unsafe.Pointer(&buf[0])), C.int(n)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allreduce", rc)
		}
		buf = buf[n:]
	}
	return nil
}

func (m *mpiComm) AllReduce64(buf []float64) error {
	for len(buf) > 0 {
		n := min(len(buf), maxChunk)
		if rc := C.asym_allreduce_f64((*C.double)(unsafe.Pointer(&buf[0])), C.int(n)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allreduce", rc)
		}
		buf = buf[n:]
	}
	return nil
}

func (m *mpiComm) Broadcast(buf []float32, root int) error {
	if root < 0 || root >= m.size {
		return fmt.Errorf("dist: Broadcast: root %d outside [0, %d)", root, m.size)
	}
	for len(buf) > 0 {
		n := min(len(buf), maxChunk)
		if rc := C.asym_bcast_f32((*C.float)(unsafe.Pointer(&buf[0])), C.int(n), C.int(root)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Bcast", rc)
		}
		buf = buf[n:]
	}
	return nil
}

func (m *mpiComm) Barrier() error {
	if rc := C.asym_barrier(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Barrier", rc)
	}
	return nil
}

func (m *mpiComm) Abort(code int) { C.asym_abort(C.int(code)) }

func (m *mpiComm) Close() error {
	if rc := C.asym_finalize(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Finalize", rc)
	}
	return nil
}
