// Package dist runs data-parallel training over several processes.
//
// # Overview
//
// A [Comm] is the group of processes (ranks) that train one model together:
// every rank holds the same weights, works on its own shard of each batch,
// and the ranks sum their gradients with [Comm.AllReduce] before every
// optimizer step, so that all of them apply the same update.
//
// [Local] is the single-process group (Size 1; every operation is a no-op)
// and the default. The MPI implementation is compiled only with cgo and the
// "mpi" build tag (Open MPI: apt-get install openmpi-bin libopenmpi-dev;
// linked through pkg-config ompi) and is used when the program runs under
// mpirun:
//
//	go build -tags openblas,mpi ./cmd/asym
//	mpirun -np 2 ./asym train --data fashion-mnist --model convnet
//
// # Errors
//
// MPI errors are returned (the communicator's error handler is set to
// MPI_ERRORS_RETURN), wrapped with the operation's name. When a rank dies,
// mpirun ends the whole job; see the cluster page of the documentation.
package dist
