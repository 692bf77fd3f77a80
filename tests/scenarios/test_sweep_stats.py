"""Paired tests and Holm's correction shared by the sweep scenarios."""
import numpy as np
import pytest

from scenarios.sweep_stats import holm, paired_test


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

