"""Fit a :class:`~twin.calibration.problem.CalibrationProblem` by bounded least squares.

scipy.optimize.least_squares (trust-region reflective) in log parameter
space. The physics is piecewise smooth (the filling loop advances in volume
cells), so the Jacobian is taken by finite differences with a 1 % step
rather than the default machine-epsilon step, which would see the steps.

Uncertainty: the Gauss-Newton covariance at the optimum,
cov = s²·(JᵀJ)⁻¹ with s² = 2·cost / (m − n) (residual variance per degree
of freedom), in log space; the standard error of a parameter x is then
x·se(log x) (delta method). Parameters the data do not constrain show up
as huge standard errors (a singular JᵀJ is pseudo-inverted and flagged).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from twin.calibration.problem import CalibrationProblem

DIFF_STEP = 0.01


@dataclass
class CalibrationResult:
    x: np.ndarray
    estimates: dict[str, float]
    std_errors: dict[str, float]
    offsets: dict[str, dict[str, float]]
    cost_start: float
    cost: float
    n_residuals: int
    nfev: int
    success: bool
    message: str
    identifiable: bool
    correlation: np.ndarray

    def as_dict(self) -> dict:
        return {
            "estimates": self.estimates,
            "std_errors": self.std_errors,
            "offsets": self.offsets,
            "cost_start": self.cost_start,
            "cost": self.cost,
            "n_residuals": self.n_residuals,
            "nfev": self.nfev,
            "success": self.success,
            "message": self.message,
            "identifiable": self.identifiable,
            "correlation": self.correlation.round(4).tolist(),
        }


def fit(problem: CalibrationProblem, max_nfev: int = 300, x0: np.ndarray | None = None) -> CalibrationResult:
    """Fit from ``x0`` (default: the config's values, zero offsets)."""
    x0 = problem.x0() if x0 is None else np.asarray(x0, dtype=float)
    lo, hi = problem.bounds()
    r0 = problem.residuals(x0)
    sol = least_squares(problem.residuals, x0, bounds=(lo, hi), method="trf", diff_step=DIFF_STEP,
                        x_scale="jac", max_nfev=max_nfev)
    J = sol.jac
    m, n = J.shape
    dof = max(m - n, 1)
    s2 = 2.0 * sol.cost / dof
    JtJ = J.T @ J
    cond = np.linalg.cond(JtJ) if n else 1.0
    cov = s2 * np.linalg.pinv(JtJ)
    se_log = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    d = np.where(se_log > 0, se_log, 1.0)
    corr = cov / np.outer(d, d)
    est, se = {}, {}
    for i, p in enumerate(problem.params):
        v = math.exp(sol.x[i])
        est[p.key] = v
        se[p.key] = v * se_log[i]
    offsets: dict[str, dict[str, float]] = {}
    k = problem.n_params
    for o in problem.offsets:
        offsets[o.feature] = {g: float(sol.x[k + j]) for j, g in enumerate(o.groups)}
        for j, g in enumerate(o.groups):
            se[f"offset.{o.feature}.{g}"] = float(se_log[k + j])
        k += len(o.groups)
    return CalibrationResult(
        x=sol.x, estimates=est, std_errors=se, offsets=offsets, cost_start=0.5 * float(r0 @ r0),
        cost=float(sol.cost), n_residuals=m, nfev=int(sol.nfev), success=bool(sol.success),
        message=str(sol.message), identifiable=bool(cond < 1e12), correlation=corr,
    )
