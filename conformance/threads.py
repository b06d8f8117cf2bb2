"""Thread pools of the frameworks when several suite processes share the CPUs.

Each framework sizes its thread pools to the machine: OpenMP for torch, OpenBLAS for NumPy,
Eigen's pools for TensorFlow. Several processes with a pool per CPU each oversubscribe the
cores, and these pools spin-wait after every call for the next one: on 2 cores,
`pytest -n 2` on the torch adapter ran 1.6x slower than one process (17.6 s -> 28.7 s). The
suite's arrays are small, so the frameworks' parallel paths buy little; each of `processes`
processes gets `CPUs // processes` threads. Variables the user has set are left alone. XLA's
own pool (JAX) has no such variable and is left as it is.
"""

from __future__ import annotations

import os

VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def share(processes: int) -> dict[str, str]:
    """The variables (those the user has not set) that give each process its share."""
    threads = max(1, (os.cpu_count() or 1) // max(processes, 1))
    return {name: str(threads) for name in VARIABLES if name not in os.environ}
