"""Paired tests and Holm's correction shared by the sweep scenarios."""
import numpy as np
import pytest

from scenarios.sweep_stats import dose_trend, holm, paired_test


def test_holm_matches_the_step_down_rule():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_paired_test_edge_cases_and_a_real_difference():
    assert paired_test([(1.0, 1.0), (2.0, 2.0)]) == (0.0, 1.0)
    d, p = paired_test([(1.1, 1.0), (2.1, 2.0), (3.1, 3.0)])
    assert d == pytest.approx(0.1) and p == pytest.approx(0.25)   # the same gain on every seed: sign test
    assert paired_test([(1.5, 1.0), (2.5, 2.0)])[1] == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    base = rng.normal(size=30)
    d, p = paired_test(list(zip(base + 0.5 + 0.1 * rng.normal(size=30), base)))
    assert d == pytest.approx(0.5, abs=0.05) and p < 1e-6
    with pytest.raises(ValueError):
        paired_test([(1.0, 0.0)])



def test_dose_trend_matches_a_regression_with_seed_dummies():
    rng = np.random.default_rng(3)
    dose = np.tile([0.0, 0.25, 0.5, 0.75, 1.0], 3)
    seed = np.repeat([0, 1, 2], 5)
    score = 0.45 - 0.2 * dose + np.array([0.0, 0.05, -0.03])[seed] + rng.normal(0, 0.02, dose.size)
    t = dose_trend(dose, score, seed)
    # the same model by ordinary least squares on [dose, one column per seed]
    X = np.column_stack([dose, *(seed == s for s in (0, 1, 2))]).astype(float)
    coef, res, *_ = np.linalg.lstsq(X, score, rcond=None)
    df = dose.size - 4
    se = np.sqrt(res[0] / df * np.linalg.inv(X.T @ X)[0, 0])
    from scipy import stats
    assert t["slope"] == pytest.approx(coef[0])
    assert t["df"] == df and t["n"] == 15
    assert t["p"] == pytest.approx(2 * stats.t.sf(abs(coef[0]) / se, df))
    assert t["slope_lo"] < -0.2 < t["slope_hi"] and t["p"] < 1e-4


def test_dose_trend_sees_no_slope_in_noise_and_rejects_a_constant_dose():
    rng = np.random.default_rng(4)
    dose = np.tile([0.0, 0.5, 1.0], 4)
    t = dose_trend(dose, rng.normal(0.3, 0.05, dose.size), np.repeat(range(4), 3))
    assert t["slope_lo"] < 0 < t["slope_hi"] and t["p"] > 0.05
    with pytest.raises(ValueError, match="varies within blocks"):
        dose_trend([0.5, 0.5, 0.5, 0.5], [0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1])
