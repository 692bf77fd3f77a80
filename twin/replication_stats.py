"""Confidence intervals over replicated twin runs (what-if sweeps).

A sweep cell is run R times with independent seeds. Two sources of
uncertainty matter for a defect rate measured that way:

* **binomial** sampling of parts: with n parts and k defects the Wilson
  score interval (Wilson 1927; Brown, Cai & DasGupta 2001, *Stat. Sci.*
  16:101) is the standard 95 % interval, and it stays sensible at k = 0;
* **between-run** variation: cycles of one run are not independent (a
  material lot, the ambient temperature, a breakdown and its warm-up move
  many consecutive parts together), so the pooled binomial interval is too
  narrow when runs disagree. The replication means are independent, and a
  Student-t interval on them is honest for that (Law, *Simulation
  Modeling and Analysis*, 5th ed., sec. 9.4.1: independent replications).

:func:`rate_interval` reports the envelope of the two — the narrowest
interval that contains both — so a cell whose replications all show 0
defects still gets the binomial upper bound, and a cell whose runs differ
widely gets the t width. :func:`mean_interval` is the t interval for a
continuous per-replication figure (throughput, cost).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats

__all__ = ["wilson_interval", "rate_interval", "mean_interval"]


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion k/n; (nan, nan) for n = 0."""
    if k < 0 or n < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def mean_interval(values: Sequence[float], confidence: float = 0.95, *,
                  bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """(mean, low, high): Student-t interval of the mean of independent replications.

    One replication gives (value, nan, nan): there is no spread to measure.
    ``bounds``: the range the score cannot leave (``(0, 1)`` for an accuracy
    or a rate); the interval is cut to it. With three seeds t(2) is 4.3, and
    an unclipped interval of an accuracy would read "-0.4 to 1.2".
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"need finite replication values, got {list(values)!r}")
    m = float(v.mean())
    if v.size < 2:
        return (m, math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    lo, hi = m - half, m + half
    if bounds is not None:
        lo, hi = max(lo, float(bounds[0])), min(hi, float(bounds[1]))
    return (m, lo, hi)


def rate_interval(counts: Sequence[int], totals: Sequence[int], confidence: float = 0.95) -> tuple[float, float, float]:
    """(pooled rate, low, high) of a defect rate over replications: envelope of Wilson and replication-t (docstring)."""
    k = np.asarray(counts, dtype=int)
    n = np.asarray(totals, dtype=int)
    if k.shape != n.shape or k.size == 0:
        raise ValueError(f"counts and totals must be equal-length and non-empty, got {k.size} and {n.size}")
    if np.any(n <= 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError(f"need 0 <= count <= total and total > 0 per replication, got {list(k)} of {list(n)}")
    rate = float(k.sum() / n.sum())
    lo, hi = wilson_interval(int(k.sum()), int(n.sum()), confidence)
    if k.size >= 2:
        _, tlo, thi = mean_interval(k / n, confidence)
        lo, hi = min(lo, max(0.0, tlo)), max(hi, min(1.0, thi))
    return (rate, lo, hi)
