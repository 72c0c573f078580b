"""Thread pinning for the PyTorch reference benchmarks.

torch.set_num_threads sets PyTorch's own (OpenMP) pool, but Debian's
python3-torch is built with BLAS_INFO=generic and runs its matrix products
(nn.Linear, torch.bmm) in the system OpenBLAS, whose pthread pool
set_num_threads does not reach: without pinning, a "1 thread" PyTorch
measurement runs its matrix products on every core. pin() sets the
environment of every pool before torch is imported; step_clock() gives the
process CPU time, which counts the work of all threads.
"""
import os
import time

POOLS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin(threads):
    """Pins OpenMP, OpenBLAS and MKL to threads workers; call before importing torch."""
    if "torch" in __import__("sys").modules:
        raise RuntimeError("torch_threads.pin must run before torch is imported")
    for v in POOLS:
        os.environ[v] = str(threads)


def step_clock():
    """Returns (wall seconds, process CPU seconds of all threads)."""
    return time.perf_counter(), time.process_time()
