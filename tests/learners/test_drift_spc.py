"""Drift detectors on seeded streams with a known change point, and the SPC charts' limits."""
from __future__ import annotations

import math

import numpy as np
import pytest

from learners.drift import DriftDetector, evaluate_detector, make_detector, synthetic_stream
from learners.spc import CUSUMChart, EWMAChart, estimate_sigma


def test_detector_interface_counts_and_alarms() -> None:
    det = DriftDetector("adwin")
    x = synthetic_stream(np.random.default_rng(0), 500, 500, shift=2.0)
    flags = [det.update(v) for v in x]
    assert det.n_seen == 1000
    assert det.alarms == [i for i, f in enumerate(flags) if f]
    assert det.alarms and det.alarms[0] >= 500
    det.update(float("nan"))  # skipped
    assert det.n_seen == 1000 and det.drift_detected is False
    assert make_detector({"name": "page_hinkley", "threshold": 20}).params == {"threshold": 20}
    with pytest.raises(ValueError, match="unknown drift detector"):
        DriftDetector("cusum")


@pytest.mark.parametrize("name,max_median_delay", [("adwin", 150), ("page_hinkley", 150)])
def test_mean_shift_is_detected_within_a_bounded_delay_and_false_alarms_are_rare(name, max_median_delay) -> None:
    r = evaluate_detector(name, n_streams=12, n_before=600, n_after=600, kind="mean", shift=1.0, seed=1)
    assert r["detected_fraction"] == 1.0
    assert r["delay_median"] <= max_median_delay, r
    assert r["false_alarms_stationary_per_1000"] <= 1.0, r
    assert r["false_alarms_before_change_per_1000"] <= 1.0, r


def test_error_rate_rise_is_detected_and_results_are_seeded() -> None:
    a = evaluate_detector("adwin", n_streams=8, n_before=600, n_after=900, kind="bernoulli", shift=0.2, p0=0.1,
                          seed=3)
    assert a["detected_fraction"] >= 0.85 and a["delay_median"] < 500
    assert a["false_alarms_stationary_per_1000"] == 0.0
    b = evaluate_detector("adwin", n_streams=8, n_before=600, n_after=900, kind="bernoulli", shift=0.2, p0=0.1,
                          seed=3)
    assert a["delays"] == b["delays"]


def test_kswin_runs_seeded_on_features() -> None:
    r1 = evaluate_detector("kswin", n_streams=4, n_before=300, n_after=300, kind="mean", shift=2.0, seed=2)
    r2 = evaluate_detector("kswin", n_streams=4, n_before=300, n_after=300, kind="mean", shift=2.0, seed=2)
    assert r1["delays"] == r2["delays"] and r1["detected_fraction"] == 1.0


def test_ewma_limits_follow_montgomery() -> None:
    rng = np.random.default_rng(0)
    window = rng.normal(10.0, 2.0, 400)
    chart = EWMAChart(lam=0.2, L=3.0, sigma="sd").fit(window)
    mu, s = window.mean(), window.std(ddof=1)
    for i in (1, 2, 5, 50):
        half = 3.0 * s * math.sqrt(0.2 / 1.8 * (1 - 0.8 ** (2 * i)))
        assert chart.limits(i) == pytest.approx((mu - half, mu + half))
    # z_1 = 0.2 x + 0.8 mu
    chart.update(mu + 1.0)
    assert chart.state()["statistic"] == pytest.approx(mu + 0.2)
    # asymptotic width L sigma sqrt(lambda / (2 - lambda))
    assert chart.limits(10_000)[1] - mu == pytest.approx(3.0 * s * math.sqrt(0.2 / 1.8))


def test_cusum_tabular_sums_and_signal() -> None:
    chart = CUSUMChart(k=0.5, h=4.0, sigma="sd", restart=False).fit([-1.0, 1.0, -1.0, 1.0, 0.0])
    sigma = chart.sigma_
    assert chart.mean_ == 0.0 and sigma == pytest.approx(np.std([-1, 1, -1, 1, 0], ddof=1))
    K, H = 0.5 * sigma, 4.0 * sigma
    cp = 0.0
    for i, x in enumerate([2.0, 2.0, 2.0, 2.0, 2.0]):
        cp = max(0.0, x - K + cp)
        hit = chart.update(x)
        assert chart.state()["statistic"] == pytest.approx(cp)
        assert hit == (cp > H)
    assert chart.state()["statistic_low"] == 0.0 and chart.state()["ucl"] == pytest.approx(H)
    assert chart.out_of_control and chart.signal_ == "high"


def test_charts_signal_shifts_quickly_and_rarely_in_control() -> None:
    rng = np.random.default_rng(5)
    for make in (lambda: EWMAChart(), lambda: CUSUMChart()):
        chart = make().fit(rng.normal(0, 1, 500))
        quiet = chart.run(rng.normal(0, 1, 300))
        assert sum(s is not None for s in quiet["signal"]) <= 3
        chart.reset()
        shifted = rng.normal(2.0, 1, 60)
        first = next(i for i, v in enumerate(shifted) if chart.update(v))
        assert first < 15
    low = CUSUMChart().fit(rng.normal(0, 1, 200)).run(rng.normal(-3.0, 1, 20))
    assert "low" in list(low["signal"])


def test_sigma_estimates() -> None:
    x = np.array([1.0, 3.0, 2.0, 4.0])
    assert estimate_sigma(x, "mr") == pytest.approx(np.mean([2, 1, 2]) / 1.128)
    assert estimate_sigma(x, "sd") == pytest.approx(np.std(x, ddof=1))
    with pytest.raises(ValueError):
        estimate_sigma([1.0], "mr")
    with pytest.raises(RuntimeError, match="not fitted"):
        EWMAChart().update(1.0)
