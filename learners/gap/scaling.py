"""Robust standardisation before the multivariate tests.

The MMD uses one kernel bandwidth for all features, and a distance in which
a cycle time in seconds and a pressure in bar are added up is meaningless
unless each feature is first put on a common scale. We use a *robust*
scale, so that a few outlying cycles (a cycle that waited for the robot)
do not set the unit of a whole feature:

    z = (x - median) / (IQR / 1.349)

(IQR / 1.349 is the standard deviation for a normal distribution). Where
the IQR is zero (a feature that sits on one value more than half of the
time) the standard deviation is used instead, and 1 where that is zero too.

``reference="pooled"`` takes median and IQR from both sets together. Pooled
statistics are symmetric in the two sets, so they do not change under the
permutations of the MMD test and the test stays exact.
``reference="real"`` takes them from the second (real) set only: the unit
is then "one spread of the real process", at the price of a test that is
only approximately exact.
"""
from __future__ import annotations

import numpy as np

__all__ = ["robust_center_scale", "robust_standardize", "SCALE_DESCRIPTION"]

#: How each reference is described in metrics.json and the report.
SCALE_DESCRIPTION: dict[str, str] = {
    "pooled": "robust per feature: (x - median) / (IQR / 1.349) of the pooled sim + real sample",
    "real": "robust per feature: (x - median) / (IQR / 1.349) of the real sample",
    "none": "none (features used in their own units)",
}


def robust_center_scale(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column median and robust scale (IQR / 1.349, else sd, else 1) of ``X`` (no NaN)."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] == 0:
        return np.zeros(X.shape[1]), np.ones(X.shape[1])
    q25, med, q75 = np.percentile(X, [25.0, 50.0, 75.0], axis=0)
    scale = (q75 - q25) / 1.349
    sd = X.std(axis=0)
    scale = np.where(scale > 0, scale, sd)
    scale = np.where(scale > 0, scale, 1.0)
    return med, scale


def robust_standardize(X_sim: np.ndarray, X_real: np.ndarray, reference: str = "pooled"
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Both sets in robust z units of the ``reference`` ("pooled", "real" or "none"); see the module docstring."""
    if reference not in SCALE_DESCRIPTION:
        raise ValueError(f"reference must be one of {sorted(SCALE_DESCRIPTION)}, got {reference!r}")
    if reference == "none":
        return np.asarray(X_sim, dtype=np.float64), np.asarray(X_real, dtype=np.float64)
    ref = np.vstack([X_sim, X_real]) if reference == "pooled" else np.asarray(X_real)
    center, scale = robust_center_scale(ref)
    return (np.asarray(X_sim) - center) / scale, (np.asarray(X_real) - center) / scale
