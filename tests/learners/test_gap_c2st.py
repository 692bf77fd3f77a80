"""Classifier two-sample test: DeLong interval, calibration under the null, power.

What is assumed: independent rows. What is checked: DeLong's fast
algorithm equals the definition (with ties); two samples of one
distribution give an AUC averaging 0.5 and an interval that covers 0.5
most of the time (the DeLong interval ignores model-fitting variance, so
"most" is about 85-90 %, not 95 %: measured 0.85 here); a known shift gives
AUC > 0.6 at n = 300 per side.
"""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from learners.gap import C2ST, delong_auc


def _delong_direct(y, s):
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return psi.mean(), v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size


def test_delong_equals_the_definition_with_ties():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(23, int), np.ones(17, int)]
    s = np.round(rng.normal(size=40) + 0.6 * y, 1)  # rounding makes ties
    auc, var = delong_auc(y, s)
    ref_auc, ref_var = _delong_direct(y, s)
    assert auc == pytest.approx(roc_auc_score(y, s)) and auc == pytest.approx(ref_auc)
    assert var == pytest.approx(ref_var)


def test_null_auc_averages_one_half_and_the_interval_covers_it():
    """40 repeats, n = 100 per side, d = 4, default (quadratic) classifier.

    Measured with these seeds: mean AUC 0.493, interval covers 0.5 in 85 %.
    """
    aucs, covered = [], []
    for s in range(40):
        rng = np.random.default_rng(2000 + s)
        c = C2ST(seed=s).fit(rng.normal(size=(100, 4)), rng.normal(size=(100, 4)))
        aucs.append(c.auc_)
        covered.append(c.auc_ci_[0] <= 0.5 <= c.auc_ci_[1])
    assert abs(np.mean(aucs) - 0.5) < 0.04
    assert np.mean(covered) >= 0.75


@pytest.mark.parametrize("change", ["mean", "variance"])
def test_known_shift_is_detected(change):
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    if change == "mean":
        Y[:, 0] += 0.5   # optimal AUC 0.638
    else:
        Y[:, 1] *= 2.0   # optimal AUC 0.705
    c = C2ST(seed=1).fit(X, Y)
    assert c.auc_ > 0.6 and c.auc_ci_[0] > 0.5
    assert c.accuracy_ > 0.55 and c.accuracy_p_value_ < 0.01
    if change == "variance":  # a linear classifier cannot see a change of spread: why "quadratic" is the default
        assert C2ST(classifier="logreg", seed=1).fit(X, Y).auc_ < 0.6


def test_balancing_permutation_p_value_and_determinism():
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(500, 3)), rng.normal(1.0, 1.0, size=(60, 3))
    c = C2ST(n_perm=19, seed=3).fit(X, Y)
    assert c.n_per_class_ == 60 and c.subsampled_
    assert c.y_.sum() == 60 and c.oof_proba_.shape == (120,)
    assert c.permutation_p_value_ == pytest.approx(1 / 20)  # the smallest possible with 19 permutations
    d = C2ST(n_perm=19, seed=3).fit(X, Y)
    assert c.to_dict() == d.to_dict()
    h = C2ST(classifier="hgb", seed=3).fit(X, Y)  # the boosted-trees option runs too
    assert h.auc_ > 0.7
