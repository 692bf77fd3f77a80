"""Conduction cooling of a slab between two mold walls held at fixed temperature.

A plate of full thickness s starts at uniform temperature T0 and its two
faces are held at T_w (the mold wall; contact resistance neglected, i.e. an
infinite heat-transfer coefficient, the usual cooling-time assumption).
The exact series solution (Carslaw & Jaeger, *Conduction of Heat in
Solids*, §3.3) for θ = (T − T_w)/(T0 − T_w) gives

mean:        θ̄(t) = Σ_k 8/((2k+1)²π²) · exp(−(2k+1)²π²·α·t/s²)
centreline:  θc(t) = Σ_k (4/π)·(−1)^k/(2k+1) · exp(−(2k+1)²π²·α·t/s²)

Keeping the first term gives the molding cooling-time formula
t_c = s²/(π²α)·ln[(8/π²)(T_melt − T_mold)/(T_eject − T_mold)]
(shared/PHYSICS_REFERENCES.md §4; truncation error < 0.3 % once θ̄ ≤ 0.5).
We sum ``N_TERMS`` terms so early times are right too.

The frozen (no-flow) layer that grows from a wall touched by melt at time 0
follows the semi-infinite-solid solution θ = erf(x / (2√(αt))): the
no-flow isotherm sits at x = 2√(αt)·erfinv(θ_nf), θ_nf = (T_nf − T_w)/(T0 − T_w)
(Carslaw & Jaeger §2.4). Convection by the flowing melt slows this growth
in reality; the conduction-only value is an upper bound.
"""
from __future__ import annotations

import numpy as np
from scipy.special import erfinv

N_TERMS = 6
_K = np.arange(N_TERMS)
_ODD2 = (2 * _K + 1.0) ** 2
_MEAN_COEF = 8.0 / (_ODD2 * np.pi**2)
_CENTRE_COEF = (4.0 / np.pi) * ((-1.0) ** _K) / (2 * _K + 1.0)
_MEAN_TAIL = 1.0 - float(_MEAN_COEF.sum())
#: Positions from the centre (0) to the wall (1) at which the profile is
#: evaluated to locate the no-flow isotherm in a finite slab.
_XI = np.linspace(0.0, 1.0, 17)
_PROFILE_MODES = np.cos(np.outer(_XI, (2 * _K + 1.0)) * np.pi / 2.0)  # (17, N_TERMS)


def thermal_diffusivity_m2_s(k_W_mK, density_kg_m3, cp_J_kgK):
    """α = k / (ρ·cp)."""
    return np.asarray(k_W_mK) / (np.asarray(density_kg_m3) * np.asarray(cp_J_kgK))


def _fourier(t_s, thickness_m, alpha_m2_s):
    t = np.maximum(np.asarray(t_s, dtype=float), 0.0)
    return np.pi**2 * np.asarray(alpha_m2_s) * t / np.asarray(thickness_m) ** 2


def mean_temperature_ratio(t_s, thickness_m, alpha_m2_s):
    """θ̄(t): cross-section mean of (T − T_w)/(T0 − T_w)."""
    fo = _fourier(t_s, thickness_m, alpha_m2_s)[..., None]
    out = np.sum(_MEAN_COEF * np.exp(-_ODD2 * fo), axis=-1)
    # The omitted tail (1 − Σ coefficients) decays at least as fast as the
    # next term; adding it that way makes θ̄(0) = 1 exactly.
    out = out + _MEAN_TAIL * np.exp(-((2 * N_TERMS + 1.0) ** 2) * fo[..., 0])
    return np.minimum(out, 1.0)


def centre_temperature_ratio(t_s, thickness_m, alpha_m2_s):
    """θc(t): centreline (T − T_w)/(T0 − T_w)."""
    fo = _fourier(t_s, thickness_m, alpha_m2_s)[..., None]
    out = np.sum(_CENTRE_COEF * np.exp(-_ODD2 * fo), axis=-1)
    return np.clip(out, 0.0, 1.0)


def cooling_time_s(thickness_m, alpha_m2_s, melt_C, mold_C, eject_C):
    """First-term cooling time until the mean temperature reaches eject_C."""
    ratio = (8.0 / np.pi**2) * (np.asarray(melt_C) - mold_C) / (np.asarray(eject_C) - mold_C)
    return np.asarray(thickness_m) ** 2 / (np.pi**2 * alpha_m2_s) * np.log(np.maximum(ratio, 1.0))


def freeze_time_s(thickness_m, alpha_m2_s, melt_C, wall_C, no_flow_C):
    """Time for the cross-section mean to reach the no-flow temperature.

    Used for the gate: a gate of thickness h_g seals when its mean temperature
    falls to T_noflow (first-term form, as for the cooling time).
    """
    return cooling_time_s(thickness_m, alpha_m2_s, melt_C, wall_C, no_flow_C)


def frozen_layer_m(age_s, alpha_m2_s, melt_C, wall_C, no_flow_C):
    """Thickness of the frozen skin on one wall after contact for ``age_s``."""
    theta_nf = np.clip((np.asarray(no_flow_C) - wall_C) / (np.asarray(melt_C) - wall_C), 1e-6, 1 - 1e-9)
    return 2.0 * np.sqrt(np.asarray(alpha_m2_s) * np.maximum(age_s, 0.0)) * erfinv(theta_nf)


def molten_fraction(t_s, thickness_m, alpha_m2_s, melt_C, wall_C, no_flow_C):
    """Fraction of a slab's thickness still above the no-flow temperature.

    The full series profile θ(ξ, t) = Σ (4/π)(−1)^k/(2k+1)·cos((2k+1)πξ/2)·e^{−(2k+1)²Fo},
    ξ = 2x/s from the centre, is evaluated on 17 points and the no-flow
    isotherm located by linear interpolation. Unlike the semi-infinite skin
    this stays right once the two frozen layers meet: the slab (a gate, or
    the cavity during packing) is sealed when the fraction reaches 0.
    """
    fo = _fourier(t_s, thickness_m, alpha_m2_s)
    theta_nf = np.clip((np.asarray(no_flow_C) - wall_C) / (np.asarray(melt_C) - wall_C), 1e-6, 1 - 1e-9)
    amp = _CENTRE_COEF * np.exp(-_ODD2 * fo[..., None])  # (..., N_TERMS)
    prof = np.clip(amp @ _PROFILE_MODES.T, 0.0, 1.0)  # (..., 17) from centre to wall
    prof[..., 0] = np.minimum(prof[..., 0], 1.0)
    above = prof > theta_nf[..., None] if np.ndim(theta_nf) else prof > theta_nf
    # Index of the last point (from the centre) that is still molten.
    n_above = above.sum(axis=-1)
    i = np.clip(n_above - 1, 0, len(_XI) - 2)
    p0 = np.take_along_axis(prof, i[..., None], -1)[..., 0]
    p1 = np.take_along_axis(prof, (i + 1)[..., None], -1)[..., 0]
    frac = np.clip((p0 - theta_nf) / np.maximum(p0 - p1, 1e-12), 0.0, 1.0)
    xi = _XI[i] + frac * (_XI[1] - _XI[0])
    return np.where(n_above == 0, 0.0, np.where(n_above == len(_XI), 1.0, xi))
