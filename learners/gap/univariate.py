"""Per-feature gap: Wasserstein distance and the two-sample Kolmogorov-Smirnov test.

For each feature, sim and real values are compared on their own, each with
every non-missing value it has:

* **Wasserstein-1 distance** (:func:`scipy.stats.wasserstein_distance`):
  the area between the two empirical CDFs, in the feature's unit. It is
  the average distance a value has to be moved to turn one distribution
  into the other: a pure mean shift of 0.3 g gives 0.3 g. Also given in
  units of the real standard deviation (``wasserstein_per_real_sd``; the
  pooled sd where the real values are constant), which
  makes features comparable: 0.1 is a small gap, 1 means the sim sits a
  whole real spread away. It has no p-value; it says *how big*, not *how
  sure*.
* **KS test** (:func:`scipy.stats.ks_2samp`, two-sided): statistic D = the
  largest vertical distance between the two ECDFs (0..1). Assumes the two
  samples are independent draws (cycles are not: slow drifts make
  neighbouring cycles alike, so p-values are optimistic on long runs) of
  continuous variables (ties, e.g. from sensor quantisation, make it
  conservative). scipy computes the exact p-value for small samples and
  the asymptotic one for large samples or where the exact computation
  fails. Its p-value is the probability of a D at least this large
  *if both samples came from one distribution*; a small p says the
  distributions differ, not by how much, and with thousands of cycles a
  practically irrelevant difference gets p ~ 0. A large p says only that
  this many cycles cannot show a difference.
* **Benjamini-Hochberg** adjusted p-values across the features
  (:func:`scipy.stats.false_discovery_control`): declaring every feature
  with adjusted p < q "different" keeps the expected share of false
  discoveries among them at or below q, whatever the number of features.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
from scipy import stats

__all__ = ["per_feature_gap", "benjamini_hochberg", "PER_FEATURE_COLUMNS"]

#: Keys of each per-feature row, in table order.
PER_FEATURE_COLUMNS: tuple[str, ...] = (
    "feature", "n_sim", "n_real", "mean_sim", "mean_real", "sd_sim", "sd_real", "wasserstein",
    "wasserstein_per_real_sd", "ks_statistic", "ks_p_value", "ks_p_value_bh",
)


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """BH-adjusted p-values (step-up, monotone, capped at 1); None/NaN entries stay None and do not count."""
    p = np.array([math.nan if v is None else float(v) for v in p_values], dtype=np.float64)
    ok = np.isfinite(p)
    out: list[float | None] = [None] * p.size
    if ok.any():
        adj = stats.false_discovery_control(p[ok], method="bh")
        for i, v in zip(np.flatnonzero(ok), adj):
            out[int(i)] = float(v)
    return out


def per_feature_gap(X_sim: np.ndarray, X_real: np.ndarray, names: Sequence[str]) -> list[dict]:
    """One row per feature (keys :data:`PER_FEATURE_COLUMNS`); NaNs are ignored column by column.

    ``X_sim`` and ``X_real`` are ``(n, d)`` arrays in the features' own units.
    Values that cannot be computed (a feature with fewer than one value on
    a side, or a zero real sd for the scaled distance) are None.
    """
    if not names:
        return []
    X_sim = np.asarray(X_sim, dtype=np.float64).reshape(-1, len(names))
    X_real = np.asarray(X_real, dtype=np.float64).reshape(-1, len(names))
    rows = []
    for j, name in enumerate(names):
        s = X_sim[:, j][np.isfinite(X_sim[:, j])]
        r = X_real[:, j][np.isfinite(X_real[:, j])]
        row: dict = {"feature": name, "n_sim": int(s.size), "n_real": int(r.size),
                     "mean_sim": _mean(s), "mean_real": _mean(r), "sd_sim": _sd(s), "sd_real": _sd(r),
                     "wasserstein": None, "wasserstein_per_real_sd": None, "ks_statistic": None,
                     "ks_p_value": None, "ks_p_value_bh": None}
        if s.size and r.size:
            w = float(stats.wasserstein_distance(s, r))
            with warnings.catch_warnings():  # scipy says so when it falls back to the asymptotic p (fine here)
                warnings.filterwarnings("ignore", message="ks_2samp: Exact calculation unsuccessful")
                ks = stats.ks_2samp(s, r, alternative="two-sided")
            row["wasserstein"] = w
            unit = row["sd_real"] or _sd(np.concatenate([s, r]))
            row["wasserstein_per_real_sd"] = w / unit if unit else None
            row["ks_statistic"] = float(ks.statistic)
            row["ks_p_value"] = float(ks.pvalue)
        rows.append(row)
    for row, adj in zip(rows, benjamini_hochberg([r["ks_p_value"] for r in rows])):
        row["ks_p_value_bh"] = adj
    return rows


def _mean(v: np.ndarray) -> float | None:
    return float(v.mean()) if v.size else None


def _sd(v: np.ndarray) -> float | None:
    return float(v.std(ddof=1)) if v.size > 1 else None
