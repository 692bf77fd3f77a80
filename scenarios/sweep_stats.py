"""Shared statistics of the sweep scenarios: paired tests against a reference arm, Holm's correction.

A sweep arm is trained and scored once per seed; the reference arm (no
synthetic data, no augmentation) on the same seeds and splits. The paired
difference per seed removes what the seeds share (the split, the draw), and
a paired t test on it says whether the arm differs. Several arms tested
against one reference are a family: Holm's step-down correction (Holm 1979,
*Scand. J. Statist.* 6:65) keeps the chance of any false "helped" or "hurt"
at the nominal level over the whole family.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["holm", "paired_test"]


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
