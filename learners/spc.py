"""Statistical process control charts for individual measurements: EWMA and tabular CUSUM.

Both follow D. C. Montgomery, *Introduction to Statistical Quality
Control*, 7th ed., Wiley 2013 (§9.1 the cumulative sum chart, §9.2 the
exponentially weighted moving average chart). Phase I: the in-control
mean μ0 and standard deviation σ are estimated from a window of data
known (or assumed) to be in control (:meth:`ControlChart.fit`). Phase II:
each new value updates the chart statistic (:meth:`ControlChart.update`),
which signals when it leaves its control limits.

**σ from the in-control window.** ``sigma="mr"`` (default): the average
moving range over d2 = 1.128 (Montgomery §6.4, the individuals chart);
robust against a slow drift inside the window. ``sigma="sd"``: the sample
standard deviation.

**EWMA** (§9.2, eqs. 9.22-9.25)::

    z_i = λ x_i + (1 - λ) z_{i-1},     z_0 = μ0
    UCL_i, LCL_i = μ0 ± L σ sqrt( λ / (2 - λ) · (1 - (1 - λ)^{2i}) )

``lam`` = λ in (0, 1] (small λ: sensitive to small, persistent shifts;
λ = 1 is the Shewhart chart), ``L`` the width in σ. Montgomery's common
choices: λ = 0.05-0.25 with L ≈ 2.6-3; λ = 0.2, L = 3 (the defaults)
gives an in-control ARL of about 560.

**Tabular CUSUM** (§9.1.2, eqs. 9.2-9.3)::

    C+_i = max(0, x_i - (μ0 + K) + C+_{i-1})
    C-_i = max(0, (μ0 - K) - x_i + C-_{i-1}),   C+_0 = C-_0 = 0
    signal when C+_i > H or C-_i > H,   K = k σ,  H = h σ

``k`` (reference value, half the shift to detect fast, in σ) = 0.5 and
``h`` (decision interval, in σ) = 5 are Montgomery's recommendation: an
in-control ARL of 465 and an ARL of 10.4 for a 1 σ shift (Table 9.3).

``restart=True`` restarts the statistic after a signal (z at μ0, the
cumulative sums at 0), as when the cause has been found and removed;
otherwise (default) the chart keeps running and stays out of control
while the shift lasts. ``update`` returns the signal of that value;
:meth:`ControlChart.run` charts a whole series and returns its columns.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["ControlChart", "EWMAChart", "CUSUMChart", "estimate_sigma", "D2_N2"]

#: d2 of the mean moving range of span 2 (Montgomery, Appendix Table VI).
D2_N2 = 1.128


def estimate_sigma(values: Sequence[float], method: str = "mr") -> float:
    """σ of an in-control window: mean moving range / 1.128 (``"mr"``) or the sample sd (``"sd"``)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        raise ValueError(f"need at least 2 in-control values to estimate sigma, got {x.size}")
    if method == "mr":
        return float(np.mean(np.abs(np.diff(x))) / D2_N2)
    if method == "sd":
        return float(np.std(x, ddof=1))
    raise ValueError(f"sigma method must be 'mr' or 'sd', got {method!r}")


class ControlChart:
    """Common Phase I / Phase II mechanics; see :class:`EWMAChart` and :class:`CUSUMChart`."""

    kind = "chart"

    def __init__(self, sigma: str = "mr", restart: bool = False):
        self.sigma = sigma
        self.restart = restart

    def fit(self, in_control: Sequence[float]) -> "ControlChart":
        """Estimate ``mean_`` and ``sigma_`` from the in-control window and reset the chart."""
        x = np.asarray(in_control, dtype=float)
        x = x[np.isfinite(x)]
        self.mean_ = float(np.mean(x)) if x.size else math.nan
        s = estimate_sigma(x, self.sigma)
        if not s > 0:  # a constant window: any change is a change; use a tiny sigma relative to the level
            s = max(abs(self.mean_) * 1e-9, 1e-12)
        self.sigma_ = s
        self.n_fit_ = int(x.size)
        self.reset()
        return self

    def reset(self) -> None:
        """Start Phase II over (statistic at its in-control value, sample count 0)."""
        self.i_ = 0
        self.signal_: str | None = None

    def update(self, x: float) -> bool:
        raise NotImplementedError

    @property
    def out_of_control(self) -> bool:
        """True when the last value updated signalled."""
        return getattr(self, "signal_", None) is not None

    def run(self, values: Sequence[float]) -> dict[str, np.ndarray]:
        """Chart ``values`` from a fresh start; columns ``statistic``, ``statistic_low``, ``center``,
        ``lcl``, ``ucl``, ``signal`` (``"high"``, ``"low"`` or None) of :meth:`state` per value."""
        self.reset()
        rows = []
        for v in values:
            self.update(v)
            rows.append(self.state())
        keys = ("statistic", "statistic_low", "center", "lcl", "ucl")
        out = {k: np.array([r[k] if r[k] is not None else np.nan for r in rows], dtype=float) for k in keys}
        out["signal"] = np.array([r["signal"] for r in rows], dtype=object)
        return out

    def state(self) -> dict:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "mean_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(in_control_values) first")


class EWMAChart(ControlChart):
    """EWMA chart (Montgomery §9.2); ``lam`` = λ, ``L`` = limit width in σ. ``state()``: z and its limits."""

    kind = "ewma"

    def __init__(self, lam: float = 0.2, L: float = 3.0, sigma: str = "mr", restart: bool = False):
        super().__init__(sigma, restart)
        self.lam = lam
        self.L = L

    def reset(self) -> None:
        super().reset()
        if not 0 < self.lam <= 1:
            raise ValueError(f"lam must be in (0, 1], got {self.lam}")
        self.z_ = getattr(self, "mean_", math.nan)
        self.x_ = math.nan

    def limits(self, i: int) -> tuple[float, float]:
        """(LCL, UCL) after ``i`` values (i >= 1): μ0 ± L σ sqrt(λ/(2-λ) (1 - (1-λ)^{2i}))."""
        lam = self.lam
        half = self.L * self.sigma_ * math.sqrt(lam / (2.0 - lam) * (1.0 - (1.0 - lam) ** (2 * i)))
        return self.mean_ - half, self.mean_ + half

    def update(self, x: float) -> bool:
        """Add one value; returns True when z leaves the limits (NaN values are skipped)."""
        self._check_fitted()
        if x is None or not math.isfinite(float(x)):
            self.signal_ = None
            return False
        self.i_ += 1
        self.x_ = float(x)
        self.z_ = self.lam * self.x_ + (1.0 - self.lam) * self.z_
        lcl, ucl = self.limits(self.i_)
        self.signal_ = "high" if self.z_ > ucl else ("low" if self.z_ < lcl else None)
        hit = self.signal_ is not None
        if hit and self.restart:
            self.z_ = self.mean_
        return hit

    def state(self) -> dict:
        lcl, ucl = self.limits(max(self.i_, 1))
        return {"statistic": self.z_, "statistic_low": None, "center": self.mean_, "lcl": lcl, "ucl": ucl,
                "signal": self.signal_}


class CUSUMChart(ControlChart):
    """Tabular CUSUM (Montgomery §9.1); ``k``, ``h`` in σ. ``state()``: C+ as ``statistic``, -C- as
    ``statistic_low``, limits ±H around 0."""

    kind = "cusum"

    def __init__(self, k: float = 0.5, h: float = 5.0, sigma: str = "mr", restart: bool = True):
        super().__init__(sigma, restart)
        self.k = k
        self.h = h

    def reset(self) -> None:
        super().reset()
        self.c_plus_ = 0.0
        self.c_minus_ = 0.0
        self._shown = (0.0, 0.0)  # the sums at the last update, before any restart

    def update(self, x: float) -> bool:
        """Add one value; returns True when C+ or C- exceeds H (NaN values are skipped)."""
        self._check_fitted()
        if x is None or not math.isfinite(float(x)):
            self.signal_ = None
            return False
        self.i_ += 1
        K, H = self.k * self.sigma_, self.h * self.sigma_
        x = float(x)
        self.c_plus_ = max(0.0, x - (self.mean_ + K) + self.c_plus_)
        self.c_minus_ = max(0.0, (self.mean_ - K) - x + self.c_minus_)
        self.signal_ = "high" if self.c_plus_ > H else ("low" if self.c_minus_ > H else None)
        self._shown = (self.c_plus_, self.c_minus_)
        hit = self.signal_ is not None
        if hit and self.restart:
            self.c_plus_ = self.c_minus_ = 0.0
        return hit

    def state(self) -> dict:
        cp, cm = self._shown
        H = self.h * self.sigma_
        return {"statistic": cp, "statistic_low": -cm, "center": 0.0, "lcl": -H, "ucl": H, "signal": self.signal_}
