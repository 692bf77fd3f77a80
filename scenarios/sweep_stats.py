"""Shared statistics of the sweep scenarios: paired tests against a reference arm, Holm's correction.

A sweep arm is trained and scored once per seed; the reference arm (no
synthetic data, no augmentation) on the same seeds and splits. The paired
difference per seed removes what the seeds share (the split, the draw), and
a paired t test on it says whether the arm differs. Several arms tested
against one reference are a family: Holm's step-down correction (Holm 1979,
*Scand. J. Statist.* 6:65) keeps the chance of any false "helped" or "hurt"
at the nominal level over the whole family.

With few seeds, the per-arm paired tests have little power (two seeds
leave one degree of freedom). When the arms are levels of one dose (the
synthetic share), :func:`dose_trend` asks the sharper single question: does
the score move with the dose? It fits one slope over every arm and seed,
with the seed as a block, so all runs inform one test.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["holm", "paired_test", "dose_trend"]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (same order as given)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adj, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adj[i] = running
    return adj


def paired_test(pairs: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(mean difference, two-sided paired t-test p) of ``(arm, reference)`` pairs; needs >= 2 pairs.

    All differences zero: p = 1. The same non-zero difference on every
    seed (no spread: the t statistic is undefined): the exact two-sided sign
    test, p = 2 * 0.5**n — with two seeds that is 0.5, not a discovery.
    """
    from scipy import stats

    if len(pairs) < 2:
        raise ValueError(f"a paired test needs at least 2 pairs, got {len(pairs)}")
    a = np.array([x for x, _ in pairs], float)
    b = np.array([y for _, y in pairs], float)
    d = a - b
    if np.all(d == 0):
        return 0.0, 1.0
    if np.ptp(d) <= 1e-12 * max(1.0, float(np.abs(d).max())):
        return float(d.mean()), min(1.0, 2.0 * 0.5 ** d.size)   # no spread (up to rounding): the sign test
    p = float(stats.ttest_rel(a, b).pvalue)
    return float(d.mean()), (min(1.0, 2.0 * 0.5 ** d.size) if math.isnan(p) else p)


def dose_trend(dose: Sequence[float], score: Sequence[float], block: Sequence) -> dict:
    """Slope of ``score`` per unit ``dose`` with ``block`` (the seed) as a fixed effect; t test and 95 % interval.

    The model is ``score = a[block] + slope * dose + e``: each block keeps
    its own level (a seed that trains better overall does not bend the
    slope), and the slope is the least-squares fit to the block-centred
    data. Its standard error uses ``n - blocks - 1`` residual degrees of
    freedom (the block means are fitted too). Returns ``slope``,
    ``slope_lo``, ``slope_hi``, ``p`` (two-sided, slope = 0), ``df``, ``n``.
    Needs a dose that varies within blocks and at least one residual degree
    of freedom; a perfect fit gives p = 0.
    """
    from scipy import stats

    x = np.asarray(dose, float)
    y = np.asarray(score, float)
    b = np.asarray(block)
    if not (x.shape == y.shape == b.shape) or x.ndim != 1:
        raise ValueError(f"dose, score and block must be 1-d and equally long, got {x.shape}, {y.shape}, {b.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y, b = x[ok], y[ok], b[ok]
    xc, yc = x.copy(), y.copy()
    levels = list(dict.fromkeys(b.tolist()))
    for lvl in levels:
        m = b == lvl
        xc[m] -= x[m].mean()
        yc[m] -= y[m].mean()
    sxx = float(xc @ xc)
    df = x.size - len(levels) - 1
    if sxx <= 0 or df < 1:
        raise ValueError(f"a dose trend needs a dose that varies within blocks and >= 1 residual degree of freedom "
                         f"(n={x.size}, blocks={len(levels)})")
    slope = float(xc @ yc) / sxx
    resid = yc - slope * xc
    se = math.sqrt(float(resid @ resid) / df / sxx)
    if se == 0:
        return {"slope": slope, "slope_lo": slope, "slope_hi": slope, "p": 0.0 if slope else 1.0, "df": df,
                "n": int(x.size)}
    half = float(stats.t.ppf(0.975, df)) * se
    p = float(2 * stats.t.sf(abs(slope) / se, df))
    return {"slope": slope, "slope_lo": slope - half, "slope_hi": slope + half, "p": p, "df": df, "n": int(x.size)}
