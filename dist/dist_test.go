package dist

import (
	"errors"
	"testing"
)

func TestLocal(t *testing.T) {
	c := Local()
	if c.Rank() != 0 || c.Size() != 1 || c.Name() != "local" {
		t.Fatalf("Local: rank %d size %d name %q", c.Rank(), c.Size(), c.Name())
	}
	buf := []float32{1, 2, 3}
	if err := c.AllReduce(buf); err != nil || buf[0] != 1 || buf[2] != 3 {
		t.Errorf("AllReduce on one process changed %v (%v)", buf, err)
	}
	b64 := []float64{4}
	if err := c.AllReduce64(b64); err != nil || b64[0] != 4 {
		t.Errorf("AllReduce64: %v %v", b64, err)
	}
	if err := c.Broadcast(buf, 0); err != nil || c.Barrier() != nil || c.Close() != nil {
		t.Error("no-op calls returned errors")
	}
	if Describe(c) != "local, rank 0 of 1" {
		t.Errorf("Describe: %q", Describe(c))
	}
}

func TestInitOutsideMPI(t *testing.T) {
	t.Setenv("OMPI_COMM_WORLD_SIZE", "")
	t.Setenv("PMI_SIZE", "")
	t.Setenv("PMIX_RANK", "")
	c, err := Init()
	if err != nil || c.Size() != 1 {
		t.Fatalf("Init outside mpirun: %v, %v", c, err)
	}
}

// Started by mpirun with several ranks, a binary without MPI must refuse
// rather than train alone in every process.
func TestInitUnderMPIWithoutSupport(t *testing.T) {
	if Available {
		t.Skip("this binary has MPI support")
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	if _, err := Init(); !errors.Is(err, ErrNoMPI) {
		t.Fatalf("got %v, want ErrNoMPI", err)
	}
}
