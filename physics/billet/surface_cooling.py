"""Temperature of the stamped end face after the torch cut.

What is stamped is the billet's *end face*, the surface the torch has just
exposed. At the cut, that face shows the temperature field of the billet's
cross-section: a skin at about ``surface_temp_at_cut_C`` and a core close to
the solidus. The ID is stamped part-way between the two, so the face starts
at the section temperature at the marking position and then loses heat by
radiation and natural convection, fed by conduction from the hot steel
behind it.

1. Section temperature at the cut (:func:`section_temp_at_cut_C`)
   After the mould and the spray zones a solid section cooling through its
   surface settles into a parabolic profile (the long-time solution for a
   body losing heat through its surface at a steady rate, Carslaw & Jaeger,
   *Conduction of Heat in Solids*, 2nd ed., the constant-flux slab):
       T(r) = T_core − (T_core − T_skin)·(r / a)²,
   r the distance from the billet axis, a the half-section. At the torch the
   core has only just solidified (the cutter sits behind the metallurgical
   length), so T_core is a little below the solidus.

2. Face cooling (:class:`SurfaceCooling`)
   The billet is metres long, so behind the face the steel is a
   semi-infinite solid in the axial direction x, initially at the uniform
   temperature T0 of step 1. 1-D transient conduction
       ρ·cp·∂T/∂t = k·∂²T/∂x²,
   with the face boundary condition (heat leaving the steel)
       −k·∂T/∂x|₀ = q(T_s) = ε·σ_SB·(T_s⁴ − T_amb⁴) + h·(T_s − T_amb)   (T in K)
   and an adiabatic far end (deep enough that it never warms or cools over
   ``max_time_s``). Radiation dominates: at 1000 °C, ε = 0.85 gives
   ≈ 126 kW/m² against ≈ 10 kW/m² of natural convection.

   Early on, the face behaves like a semi-infinite solid under a constant
   flux q0: T_s(t) ≈ T0 − 2·q0·√t / (√π·e), e = √(k·ρ·cp) ≈ 11 900
   W·s^½/(m²·K) — about 80 K in the first 10 s from 1280 °C. The tests check
   the numerical solution against this and against the energy balance.

   Numerics: vertex-centred finite volumes on a grid that is fine at the face
   (0.1 mm) and grows geometrically inwards; backward (implicit) Euler in
   time with a Newton linearisation of the radiative term (three iterations
   per step, converged to < 1e-9 K); time steps grow from 0.01 s to 5 s.
   Halving the grid spacing or the steps moves the face temperature by
   < 1 K after the first 10 s. One solve over an hour of cooling takes
   ≈ 50 ms; afterwards :meth:`SurfaceCooling.surface_temp_C` is a table
   interpolation, so a batch of billets costs microseconds.
   :class:`SurfaceCoolingTable` solves a whole grid of initial temperatures
   at once (billet-to-billet scatter of the skin temperature) and
   interpolates in time and initial temperature.

Simplifications (say so where it matters): lateral cooling of the billet's
four long faces is ignored — over 10 minutes its conduction front travels
≈ √(α·t) ≈ 57 mm, so the face at the ID cools somewhat faster than modelled
late on; the oxide scale's thermal resistance and latent heat of the
γ→α transformation (below ≈ 800 °C) are ignored; properties are constant at
their 900-1200 °C values (:mod:`physics.billet.steel`).

Constants: σ_SB = 5.670374419e-8 W/(m²·K⁴) (CODATA 2018, exact in SI since
2019). Emissivity 0.8-0.9 for oxidised steel (FLIR Table 38.1 [IND],
PHYSICS_REFERENCES §5). Natural convection h ≈ 10 W/(m²·K) [D]: Churchill &
Chu's vertical-plate correlation (Incropera & DeWitt, *Fundamentals of Heat
and Mass Transfer*, eq. 9.26), Nu = {0.825 + 0.387·Ra^(1/6) /
[1 + (0.492/Pr)^(9/16)]^(8/27)}², for a 0.15 m face at 1000 °C in 25 °C air
with air properties at the 785 K film temperature (Incropera Table A.4,
800 K: ν = 84.9e-6 m²/s, α = 120e-6 m²/s, k = 0.0573 W/(m·K), Pr = 0.709,
β = 1/T_film) gives Ra ≈ 4e6, Nu ≈ 24, h ≈ 9 W/(m²·K).

NOT FOUND: the surface temperature at the torch cut (PHYSICS_REFERENCES §5).
The default skin temperature 1000 °C follows the straightening rule there —
keep the surface above 900 °C, out of the 700-900 °C low-ductility zone —
plus the cooling between straightener and torch; the default core
temperature 1350 °C is an engineering assumption "just solidified": below
the solidus of a 0.45 %C steel (≈ 1400-1450 °C from the Fe-C diagram; no
sourced value in the references).
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded

from physics.billet.steel import SteelGrade

#: Stefan–Boltzmann constant, W/(m²·K⁴) (CODATA 2018; exact since the 2019 SI).
STEFAN_BOLTZMANN_W_m2K4 = 5.670374419e-8
KELVIN = 273.15
#: Newton iterations per time step on the radiative boundary term (quadratic convergence).
NEWTON_ITERATIONS = 3


def section_temp_at_cut_C(surface_temp_at_cut_C, core_temp_at_cut_C, radius_fraction):
    """Parabolic section profile at the cut: T_core − (T_core − T_skin)·(r/a)².

    ``radius_fraction`` = r/a, 0 at the billet axis, 1 at the skin.
    """
    f = np.asarray(radius_fraction, dtype=float)
    if np.any((f < 0) | (f > 1)):
        raise ValueError(f"radius_fraction must be in [0, 1], got {radius_fraction!r}")
    return core_temp_at_cut_C - (core_temp_at_cut_C - np.asarray(surface_temp_at_cut_C, dtype=float)) * f**2


def surface_heat_flux_W_m2(temp_C, ambient_C, emissivity, h_conv_W_m2K):
    """Heat leaving the face, q = ε·σ·(T⁴ − T_amb⁴) + h·(T − T_amb), W/m² (T in °C in, K inside)."""
    T = np.asarray(temp_C, dtype=float) + KELVIN
    Ta = ambient_C + KELVIN
    return emissivity * STEFAN_BOLTZMANN_W_m2K4 * (T**4 - Ta**4) + h_conv_W_m2K * (T - Ta)


def _surface_heat_flux_slope(temp_C, emissivity, h_conv_W_m2K):
    T = np.asarray(temp_C, dtype=float) + KELVIN
    return 4.0 * emissivity * STEFAN_BOLTZMANN_W_m2K4 * T**3 + h_conv_W_m2K


def _check_settings(face_temps_C, ambient_C, emissivity, h_conv_W_m2K, max_time_s):
    if not 0.0 < emissivity <= 1.0:
        raise ValueError(f"emissivity must be in (0, 1], got {emissivity!r}")
    if h_conv_W_m2K < 0:
        raise ValueError(f"h_conv_W_m2K must be >= 0, got {h_conv_W_m2K!r}")
    if np.any(~np.isfinite(face_temps_C)) or np.any(face_temps_C <= ambient_C):
        raise ValueError(f"face_temp_at_cut_C must exceed ambient_C ({ambient_C}), got {face_temps_C!r}")
    if not max_time_s > 0:
        raise ValueError(f"max_time_s must be > 0, got {max_time_s!r}")


def solve_face_cooling(steel: SteelGrade, face_temps_at_cut_C, ambient_C: float, emissivity: float,
                       h_conv_W_m2K: float, max_time_s: float, first_cell_mm: float = 0.1,
                       cell_growth: float = 1.1, dt_first_s: float = 0.01, dt_growth: float = 1.08,
                       dt_max_s: float = 5.0):
    """Implicit finite-volume solution for K initial temperatures at once.

    Returns ``(times_s (n_t,), depths_mm (n_x,), temps_C (n_t, n_x, K))``.
    The K systems share the conduction matrix and differ only in the
    linearised radiative term at the face node, a rank-one change, so each
    Newton iteration is one banded solve with K + 1 right-hand sides and a
    Sherman–Morrison correction per column.
    """
    T0 = np.atleast_1d(np.asarray(face_temps_at_cut_C, dtype=float))
    _check_settings(T0, ambient_C, emissivity, h_conv_W_m2K, max_time_s)
    # Grid: deep enough that the far end sees < 1e-4 of the face's change.
    depth_m = 6.0 * np.sqrt(steel.diffusivity_m2_s * max_time_s) + 0.01
    dx0 = first_cell_mm * 1e-3
    n_cells = int(np.ceil(np.log1p(depth_m * (cell_growth - 1.0) / dx0) / np.log(cell_growth)))
    dx = dx0 * cell_growth ** np.arange(n_cells)
    x = np.concatenate([[0.0], np.cumsum(dx)])
    n = x.size
    vol = np.zeros(n)
    vol[:-1] += dx / 2.0
    vol[1:] += dx / 2.0
    cond = steel.conductivity_W_mK / dx  # conductance between nodes i and i+1, W/(m²·K)
    rho_cp = steel.density_kg_m3 * steel.cp_J_kgK
    diag_k = np.zeros(n)
    diag_k[:-1] += cond
    diag_k[1:] += cond
    ab = np.zeros((3, n))
    ab[0, 1:] = -cond   # super-diagonal
    ab[2, :-1] = -cond  # sub-diagonal

    dts = []
    t, dt = 0.0, dt_first_s
    while t < max_time_s - 1e-12:
        step = min(dt, dt_max_s, max_time_s - t)
        dts.append(step)
        t += step
        dt *= dt_growth
    dts = np.asarray(dts)

    T = np.tile(T0, (n, 1))  # (n, K)
    temps = np.empty((dts.size + 1, n, T0.size))
    temps[0] = T
    e0 = np.zeros((n, 1))
    e0[0] = 1.0
    for k, step in enumerate(dts):
        cap = (rho_cp * vol / step)[:, None]
        ab[1] = cap[:, 0] + diag_k
        rhs_base = cap * T
        Tn = T
        for _ in range(NEWTON_ITERATIONS):  # Newton on the radiative face term
            ts = Tn[0]
            q = surface_heat_flux_W_m2(ts, ambient_C, emissivity, h_conv_W_m2K)
            dq = _surface_heat_flux_slope(ts, emissivity, h_conv_W_m2K)
            rhs = rhs_base.copy()
            rhs[0] -= q - dq * ts
            sol = solve_banded((1, 1), ab, np.hstack([rhs, e0]))
            y, z = sol[:, :-1], sol[:, -1:]
            # (A + dq·e0·e0ᵀ)⁻¹·rhs = y − z·dq·y0 / (1 + dq·z0)   (Sherman–Morrison)
            Tn = y - z * (dq * y[0] / (1.0 + dq * z[0, 0]))
        T = Tn
        temps[k + 1] = T
    times = np.concatenate([[0.0], np.cumsum(dts)])
    return times, x * 1e3, temps, vol, rho_cp


class SurfaceCooling:
    """Face temperature after the cut for one initial temperature, solved once and interpolated.

    Parameters
    ----------
    steel: grade giving k, ρ, cp (and ε when ``emissivity`` is None).
    face_temp_at_cut_C: uniform initial temperature of the steel behind the
        face (use :func:`section_temp_at_cut_C`).
    ambient_C: air and surroundings temperature (radiation sink and convection).
    emissivity: total emissivity of the oxidised face; None → ``steel.emissivity``.
    h_conv_W_m2K: natural-convection coefficient (≈ 10, see module docstring).
    max_time_s: longest time since the cut the table covers.
    **numerics: ``first_cell_mm``, ``cell_growth`` (grid), ``dt_first_s``,
        ``dt_growth``, ``dt_max_s`` (time steps) of :func:`solve_face_cooling`.

    Attributes (after construction)
    -------------------------------
    times_s (n_t,), surface_temps_C (n_t,), depths_mm (n_x,),
    temps_C (n_t, n_x) the full profiles, heat_lost_J_m2 (n_t,) the heat that
    left through the face since the cut (from the boundary condition).
    """

    def __init__(self, steel: SteelGrade, face_temp_at_cut_C: float, ambient_C: float = 25.0,
                 emissivity: float | None = None, h_conv_W_m2K: float = 10.0, max_time_s: float = 3600.0,
                 **numerics):
        eps = steel.emissivity if emissivity is None else float(emissivity)
        self.steel = steel
        self.face_temp_at_cut_C = float(face_temp_at_cut_C)
        self.ambient_C = float(ambient_C)
        self.emissivity = eps
        self.h_conv_W_m2K = float(h_conv_W_m2K)
        self.max_time_s = float(max_time_s)
        times, depths, temps, vol, rho_cp = solve_face_cooling(
            steel, self.face_temp_at_cut_C, self.ambient_C, eps, self.h_conv_W_m2K, self.max_time_s, **numerics)
        self.times_s = times
        self.depths_mm = depths
        self.temps_C = temps[:, :, 0]
        self.surface_temps_C = self.temps_C[:, 0].copy()
        q_hist = surface_heat_flux_W_m2(self.surface_temps_C, self.ambient_C, eps, self.h_conv_W_m2K)
        # Backward Euler removes q(T^{n+1})·Δt in step n: sum that.
        self.heat_lost_J_m2 = np.concatenate([[0.0], np.cumsum(q_hist[1:] * np.diff(times))])
        self._vol_m = vol
        self._rho_cp = rho_cp

    def check_times(self, time_since_cut_s) -> np.ndarray:
        """Times as a float array; ValueError outside [0, max_time_s] or not finite."""
        return _check_times(time_since_cut_s, self.max_time_s)

    def surface_temp_C(self, time_since_cut_s):
        """Face temperature in °C at the given times since the cut (array in, array out)."""
        t = self.check_times(time_since_cut_s)
        return np.interp(t, self.times_s, self.surface_temps_C)

    def temp_at_depth_C(self, time_since_cut_s, depth_mm):
        """Temperature at ``depth_mm`` beneath the face (bilinear in time and depth, broadcasting)."""
        t = self.check_times(time_since_cut_s)
        d = np.asarray(depth_mm, dtype=float)
        t, d = np.broadcast_arrays(t, d)
        it, wt = _bracket(self.times_s, t)
        ix, wx = _bracket(self.depths_mm, d)
        T = self.temps_C
        lo = T[it, ix] * (1 - wx) + T[it, ix + 1] * wx
        hi = T[it + 1, ix] * (1 - wx) + T[it + 1, ix + 1] * wx
        return lo * (1 - wt) + hi * wt

    def surface_heat_flux_W_m2(self, time_since_cut_s):
        """Heat flux leaving the face at the given times, W/m²."""
        return surface_heat_flux_W_m2(self.surface_temp_C(time_since_cut_s), self.ambient_C,
                                      self.emissivity, self.h_conv_W_m2K)

    def heat_released_J_m2(self) -> np.ndarray:
        """Heat the steel column under 1 m² of face has given up since the cut, per stored time step.

        Computed from the stored profiles (Σ ρ·cp·V·(T0 − T)); equals
        ``heat_lost_J_m2`` up to the Newton tolerance — the energy check.
        """
        return self._rho_cp * ((self.face_temp_at_cut_C - self.temps_C) @ self._vol_m)


class SurfaceCoolingTable:
    """Face temperature T_s(t, T0) for a range of initial face temperatures T0.

    Billets differ: the skin temperature at the cut scatters with casting
    speed and spray water. The table solves the cooling once for initial
    temperatures ``face_temps_at_cut_C`` (an increasing grid, e.g. every 25 K)
    and interpolates bilinearly in time and T0; with a 25 K grid the
    interpolation error is < 0.2 K (see the tests).

    ``surface_temps_C`` has shape (n_t, K); the other arguments are those of
    :class:`SurfaceCooling`.
    """

    def __init__(self, steel: SteelGrade, face_temps_at_cut_C, ambient_C: float = 25.0,
                 emissivity: float | None = None, h_conv_W_m2K: float = 10.0, max_time_s: float = 3600.0,
                 **numerics):
        grid = np.asarray(face_temps_at_cut_C, dtype=float)
        if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0):
            raise ValueError("face_temps_at_cut_C must be an increasing 1-D grid of at least two temperatures")
        eps = steel.emissivity if emissivity is None else float(emissivity)
        self.steel = steel
        self.face_temps_at_cut_C = grid
        self.ambient_C = float(ambient_C)
        self.emissivity = eps
        self.h_conv_W_m2K = float(h_conv_W_m2K)
        self.max_time_s = float(max_time_s)
        times, depths, temps, _, _ = solve_face_cooling(
            steel, grid, self.ambient_C, eps, self.h_conv_W_m2K, self.max_time_s, **numerics)
        self.times_s = times
        self.surface_temps_C = temps[:, 0, :].copy()

    def check_times(self, time_since_cut_s) -> np.ndarray:
        """Times as a float array; ValueError outside [0, max_time_s] or not finite."""
        return _check_times(time_since_cut_s, self.max_time_s)

    def check_face_temps(self, face_temp_at_cut_C) -> np.ndarray:
        """Initial temperatures as a float array; ValueError outside the table's grid."""
        T0 = np.asarray(face_temp_at_cut_C, dtype=float)
        lo, hi = self.face_temps_at_cut_C[0], self.face_temps_at_cut_C[-1]
        if np.any(~np.isfinite(T0)) or np.any(T0 < lo) or np.any(T0 > hi):
            raise ValueError(f"face temperature at the cut must be within [{lo:g}, {hi:g}] °C, "
                             f"got min {np.min(T0):g}, max {np.max(T0):g}")
        return T0

    def interpolate(self, table: np.ndarray, time_since_cut_s, face_temp_at_cut_C):
        """Bilinear interpolation of any (n_t, K) table on this grid (e.g. a scale history)."""
        t = self.check_times(time_since_cut_s)
        T0 = self.check_face_temps(face_temp_at_cut_C)
        t, T0 = np.broadcast_arrays(t, T0)
        it, wt = _bracket(self.times_s, t)
        ik, wk = _bracket(self.face_temps_at_cut_C, T0)
        lo = table[it, ik] * (1 - wk) + table[it, ik + 1] * wk
        hi = table[it + 1, ik] * (1 - wk) + table[it + 1, ik + 1] * wk
        return lo * (1 - wt) + hi * wt

    def surface_temp_C(self, time_since_cut_s, face_temp_at_cut_C):
        """Face temperature in °C for billets with the given time since the cut and initial temperature."""
        return self.interpolate(self.surface_temps_C, time_since_cut_s, face_temp_at_cut_C)


def _check_times(time_since_cut_s, max_time_s):
    t = np.asarray(time_since_cut_s, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0) or np.any(t > max_time_s):
        raise ValueError(f"time since cut must be within [0, {max_time_s:g}] s "
                         f"(raise max_time_s to go further); got min {np.min(t):g}, max {np.max(t):g}")
    return t


def _bracket(grid, x):
    """Index i and weight w with x = (1 − w)·grid[i] + w·grid[i+1], clamped to the grid."""
    i = np.clip(np.searchsorted(grid, x) - 1, 0, grid.size - 2)
    w = np.clip((x - grid[i]) / (grid[i + 1] - grid[i]), 0.0, 1.0)
    return i, w
