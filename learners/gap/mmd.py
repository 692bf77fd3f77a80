"""Maximum mean discrepancy (MMD) with an RBF kernel, and its permutation test.

What it measures. With the Gaussian (RBF) kernel
``k(x, y) = exp(-||x - y||^2 / (2 sigma^2))``, MMD^2 is the squared distance
between the kernel mean embeddings of the two distributions; it is zero if
and only if the distributions are equal (the kernel is characteristic), so
it reacts to any difference: means, spreads, correlations, shapes. The
unbiased estimator (Gretton et al., JMLR 13, 2012, eq. 3)

    MMD^2_u = mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean_{i, j} k(x_i, y_j)

can be slightly negative when the distributions are equal. Its size has no
simple unit; read the p-value, and compare MMD^2 only between runs with the
same features and bandwidth.

Bandwidth. ``sigma`` = the median of the pairwise Euclidean distances of
the pooled sample (the "median heuristic", Gretton et al. 2012, sec. 8).
It depends on the pooled sample only, so it is the same for every
permutation. Features should be on one scale first: :class:`MMDTest`
standardises them robustly (:mod:`learners.gap.scaling`) unless told not to.

The test. Under the null hypothesis "both samples come from one
distribution" the labels sim/real are exchangeable: shuffling them gives
draws of MMD^2 under the null. The p-value is

    p = (1 + #{permutations with MMD^2 >= observed}) / (1 + n_perm)

(the +1 counts the observed labelling itself; Phipson & Smyth, 2010). This
p-value is exact, i.e. P(p <= alpha) <= alpha under the null, for any sample
size, *provided the rows are exchangeable* — independent cycles. Cycles of
one run are not quite independent (drift, warm-up), so on long runs the
test also flags slow drifts that one of the sets has and the other not.
The smallest possible p is 1 / (1 + n_perm).

Cost. The kernel matrix of the pooled sample is N x N (N = m + n); each
permutation needs only the sum of the kernel over one label group, so all
permutations are one matrix product ``K @ U`` with the label-indicator
matrix ``U`` (N x n_perm), computed in chunks. Larger sets are subsampled
without replacement to ``max_per_side`` rows per side (seeded, the order
of the kept rows preserved): at 2,000 per side K takes 128 MB.
"""
from __future__ import annotations

import numpy as np

from learners.gap.records import drop_nan_rows
from learners.gap.scaling import SCALE_DESCRIPTION, robust_standardize

__all__ = ["MMDTest", "median_bandwidth", "pairwise_sq_dists", "rbf_kernel", "mmd2_unbiased", "subsample_rows"]

#: Permutations are evaluated in chunks so that the N x chunk matrix stays below this many float64 values.
_CHUNK_VALUES = 4_000_000


def pairwise_sq_dists(Z: np.ndarray) -> np.ndarray:
    """The ``(N, N)`` matrix of squared Euclidean distances between the rows of ``Z`` (exact zeros on the diagonal)."""
    Z = np.asarray(Z, dtype=np.float64)
    sq = np.einsum("ij,ij->i", Z, Z)
    D = sq[:, None] + sq[None, :] - 2.0 * (Z @ Z.T)
    np.maximum(D, 0.0, out=D)
    np.fill_diagonal(D, 0.0)
    return D


def median_bandwidth(D2: np.ndarray) -> float:
    """Median heuristic: the median pairwise distance (i < j) from squared distances ``D2``; 1.0 if it is 0."""
    iu = np.triu_indices(D2.shape[0], k=1)
    if iu[0].size == 0:
        return 1.0
    d = np.sqrt(D2[iu])
    med = float(np.median(d))
    if med > 0:
        return med
    positive = d[d > 0]  # more than half of the pairs coincide: use the typical non-zero distance
    return float(np.median(positive)) if positive.size else 1.0


def rbf_kernel(D2: np.ndarray, bandwidth: float, out: np.ndarray | None = None) -> np.ndarray:
    """``exp(-D2 / (2 bandwidth^2))``; pass ``out=D2`` to work in place."""
    return np.exp(D2 * (-0.5 / bandwidth ** 2), out=out)


def mmd2_unbiased(K: np.ndarray, m: int) -> float:
    """Unbiased MMD^2 from the pooled kernel matrix ``K`` whose first ``m`` rows are sample X, the rest Y."""
    n = K.shape[0] - m
    if m < 2 or n < 2:
        raise ValueError(f"the unbiased MMD^2 needs at least 2 rows per sample, got {m} and {n}")
    kxx = K[:m, :m].sum() - np.trace(K[:m, :m])
    kyy = K[m:, m:].sum() - np.trace(K[m:, m:])
    kxy = K[:m, m:].sum()
    return float(kxx / (m * (m - 1)) + kyy / (n * (n - 1)) - 2.0 * kxy / (m * n))


def subsample_rows(X: np.ndarray, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    """At most ``max_rows`` rows of ``X``, drawn without replacement by ``rng``, in their original order."""
    if max_rows is None or X.shape[0] <= max_rows:
        return X
    keep = np.sort(rng.choice(X.shape[0], size=max_rows, replace=False))
    return X[keep]


class MMDTest:
    """Two-sample MMD permutation test (RBF kernel, median-heuristic bandwidth); see the module docstring.

    Parameters
    ----------
    n_perm : number of label permutations (p-value resolution 1 / (1 + n_perm)).
    max_per_side : subsample each side to at most this many rows (None: never).
    bandwidth : kernel sigma; None for the median heuristic on the pooled (standardised) sample.
    scale : "pooled" (default), "real" or "none": robust standardisation before the kernel.
    seed : seeds the subsampling and the permutations (same seed, same p-value).

    Attributes after :meth:`fit`
    ----------------------------
    mmd2_, p_value_, bandwidth_, null_ (the n_perm permuted MMD^2 values),
    n_sim_, n_real_ (rows used), n_nan_rows_ ((sim, real) rows dropped for NaN),
    subsampled_ (bool), scale_ (description of the standardisation).
    """

    def __init__(self, n_perm: int = 500, max_per_side: int | None = 2000, bandwidth: float | None = None,
                 scale: str = "pooled", seed: int = 0):
        self.n_perm = n_perm
        self.max_per_side = max_per_side
        self.bandwidth = bandwidth
        self.scale = scale
        self.seed = seed

    def fit(self, X_sim: np.ndarray, X_real: np.ndarray) -> "MMDTest":
        """Run the test on ``X_sim`` (m, d) vs ``X_real`` (n, d); rows with NaN are dropped and counted."""
        if self.n_perm < 1:
            raise ValueError(f"n_perm must be >= 1, got {self.n_perm}")
        rng = np.random.default_rng(self.seed)
        X, nan_x = drop_nan_rows(X_sim)
        Y, nan_y = drop_nan_rows(X_real)
        self.n_nan_rows_ = (nan_x, nan_y)
        X_sub = subsample_rows(X, self.max_per_side, rng)
        Y_sub = subsample_rows(Y, self.max_per_side, rng)
        self.subsampled_ = bool(X_sub.shape[0] < X.shape[0] or Y_sub.shape[0] < Y.shape[0])
        X, Y = robust_standardize(X_sub, Y_sub, self.scale)
        self.scale_ = SCALE_DESCRIPTION[self.scale]
        m, n = X.shape[0], Y.shape[0]
        self.n_sim_, self.n_real_ = m, n
        if m < 2 or n < 2:
            raise ValueError(f"the MMD test needs at least 2 rows per side without NaN, got {m} and {n}")
        K = pairwise_sq_dists(np.vstack([X, Y]))
        self.bandwidth_ = float(self.bandwidth) if self.bandwidth is not None else median_bandwidth(K)
        rbf_kernel(K, self.bandwidth_, out=K)
        self.mmd2_ = mmd2_unbiased(K, m)
        self.null_ = _permutation_null(K, m, self.n_perm, rng)
        self.p_value_ = float((1 + np.sum(self.null_ >= self.mmd2_)) / (1 + self.n_perm))
        return self

    def to_dict(self) -> dict:
        """The results as plain JSON values."""
        return {"mmd2": self.mmd2_, "p_value": self.p_value_, "n_perm": int(self.n_perm),
                "bandwidth": self.bandwidth_, "bandwidth_rule": "given" if self.bandwidth is not None
                else "median pairwise distance of the pooled standardised sample",
                "kernel": "rbf: exp(-|x-y|^2 / (2 bandwidth^2))", "estimator": "unbiased MMD^2",
                "n_sim": self.n_sim_, "n_real": self.n_real_, "nan_rows_dropped": list(self.n_nan_rows_),
                "subsampled": self.subsampled_, "max_per_side": self.max_per_side, "standardization": self.scale_}


def _permutation_null(K: np.ndarray, m: int, n_perm: int, rng: np.random.Generator) -> np.ndarray:
    """MMD^2_u for ``n_perm`` random relabellings of the pooled sample (m rows labelled X each time).

    With u the 0/1 indicator of the X group, r = K 1 the row sums, T = 1'K1
    and q = u'Ku: sum K_XX = q, sum K_XY = u'r - q, sum K_YY = T - 2u'r + q,
    and the diagonal sums are u'diag(K) and the rest. Only q needs the
    N x N matrix: one product K @ U per chunk of permutations.
    """
    N = K.shape[0]
    n = N - m
    # All permutations drawn first (one call to the generator: the null does not depend on the chunk size).
    order = np.argsort(rng.random((n_perm, N)), axis=1)[:, :m]
    r = K.sum(axis=1)
    T = float(r.sum())
    d = np.diag(K).copy()
    out = np.empty(n_perm)
    chunk = max(1, _CHUNK_VALUES // N)
    for start in range(0, n_perm, chunk):
        idx = order[start:start + chunk]
        U = np.zeros((N, idx.shape[0]))
        U[idx.T, np.arange(idx.shape[0])[None, :]] = 1.0
        KU = K @ U
        q = np.einsum("ij,ij->j", U, KU)
        ur = U.T @ r
        ud = U.T @ d
        dsum = d.sum()
        kxx = q - ud
        kyy = T - 2.0 * ur + q - (dsum - ud)
        kxy = ur - q
        out[start:start + idx.shape[0]] = kxx / (m * (m - 1)) + kyy / (n * (n - 1)) - 2.0 * kxy / (m * n)
    return out
