"""twinloop performance benchmarks: ``make bench`` (``python -m benchmarks``).

Every speed is reported together with a baseline measured in the same run
on the same core, and the ratio of the two is what the targets refer to
(absolute numbers on a shared machine drift by tens of percent from run to
run; ratios much less). Targets are informational: nothing fails on them,
and the test suite only smoke-runs ``--quick`` without timing assertions.

Modules, one per measurement:

* :mod:`benchmarks.bench_curves`: cycles/s with the 34 sensor curves, against
  a bare numpy loop that makes arrays of the same shape with the same random
  draws;
* :mod:`benchmarks.bench_simtime`: simulated time per wall time without curves;
* :mod:`benchmarks.bench_sink`: Parquet sink throughput against pyarrow
  writing the same table directly.

This package must not import numpy at import time: ``__main__`` pins the
process to one core and sets the BLAS/OpenMP thread counts first.
"""
