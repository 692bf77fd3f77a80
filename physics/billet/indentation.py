"""Depth of one character punch pressed into the hot face.

Geometry. A character punch carries its glyph as a raised ridge of
wedge-shaped section: flanks at the tip half-angle θ (45° by default) and a
flat land of width w at the tip. New punches have a narrow land; wear rounds
and flattens the ridge, so w grows with wear. The ridge runs along the
glyph's strokes, total length L (:mod:`physics.billet.characters`). Pressed
to depth h, the ridge touches the steel over the width w + 2·h·tanθ, so the
projected contact area is

    A(h) = L · (w + 2·h·tanθ).

Force balance. Fully plastic indentation carries a mean contact pressure of
c·σ_f, with σ_f the flow stress and c the constraint factor:

    F = c · σ_f · L · (w + 2·h·tanθ)  ⇒  h = (F / (c·σ_f·L) − w) / (2·tanθ)

(h = 0 when F/(c·σ_f·L) < w: the land alone carries the force without
sinking in). c ≈ 3: Tabor's hardness rule H ≈ 3·Y (D. Tabor, *The Hardness
of Metals*, 1951), which for plane strain is Prandtl's flat-punch pressure
p = (2 + π)·k with k = σ_f/√3 (von Mises), i.e. 2.97·σ_f (R. Hill, *The
Mathematical Theory of Plasticity*, 1950, ch. VIII). A long ridge is a
plane-strain indenter, so the Prandtl value applies; sharp wedges give
somewhat less (Hill, Lee & Tupper 1947), friction on the flanks somewhat
more — 3 is the middle. The elastic part of the deformation is negligible
(E/σ_f ≈ 1000 for hot steel).

Which σ_f. Hensel–Spittel (:mod:`physics.billet.flow_stress`) at
* the face temperature at the moment of stamping (:mod:`physics.billet.surface_cooling`;
  1 mm under the face it is ≈ 7 K hotter 90 s after the cut, i.e. σ_f is
  overestimated by ≈ 2 % — ignored);
* a representative strain φ_r = 0.2·cot θ: Johnson's representative strain
  of a conical/wedge indenter, ε_r ≈ 0.2·tan β with β = 90° − θ the
  inclination of the flank to the surface (K. L. Johnson, *Contact
  Mechanics*, 1985, §6.4; Tabor's 0.08 for the Vickers pyramid is the same
  rule at β = 22°). For θ = 45°: φ_r = 0.2;
* a strain rate φ̇ ≈ v / h, the punch speed over the depth (the plastic zone
  scales with h, so its strain changes by O(1) while the punch travels h).
  σ_f depends on φ̇ and φ̇ on h, so h solves h = G(h) with
  G(h) = (F/(c·σ_f(v/h)·L) − w)/(2·tanθ). G rises with h (deeper → slower →
  softer) with slope ≈ m·W_F/(W_F − w), m = m8·ϑ ≈ 0.15 the rate
  sensitivity: four fixed-point steps from h = 0 and then Newton steps on
  h − G(h) (vectorised, fixed iteration count) reach the root to < 1e-9.

Tilt. A rhomboid billet or a skew cut leaves the face at an angle α to the
punch. The punch is force-controlled, so where the whole glyph makes contact
its mean depth is the untilted h and the depth varies linearly by
± (e/2)·tan α across the glyph extent e along the tilt (taken as the glyph
height: the worst direction). When h < (e/2)·tan α part of the glyph does
not touch at all; with the stroke length spread evenly over the extent, the
contact length ℓ ≤ e then satisfies
    e·(F/(c·σ_f·L)) = w·ℓ + tanθ·tanα·ℓ²
and the deepest point is ℓ·tan α. :func:`tilted_depths_mm` returns the mean
depth over the glyph (zero where there is no contact), the deepest point and
the contact fraction ℓ/e.
"""
from __future__ import annotations

import numpy as np

from physics.billet.characters import stroke_length_mm
from physics.billet.flow_stress import hensel_spittel_MPa
from physics.billet.steel import SteelGrade

#: Constraint factor c (Tabor 1951; Prandtl/Hill plane-strain (2+π)/√3 = 2.97).
CONSTRAINT_FACTOR = 3.0
#: Johnson's representative-strain coefficient: φ_r = 0.2·cot θ (Contact Mechanics §6.4).
REPRESENTATIVE_STRAIN_COEFF = 0.2
#: Floor on the depth used in φ̇ = v/h, mm. It keeps the rate finite for a punch that barely sinks in,
#: and keeps the force F(h) monotone (so the depth unique) for lands up to ≈ 2 mm: below 0.2 mm the
#: φ̇ = v/h estimate means little anyway (the land, not the flanks, carries the load there).
MIN_RATE_DEPTH_MM = 0.2
#: Fixed-point steps from h = 0, then Newton steps (see the module docstring).
FIXED_POINT_STEPS = 4
NEWTON_STEPS = 5

__all__ = ["contact_width_mm", "depth_for_flow_stress_mm", "force_for_depth_kN", "indentation_depth_mm",
           "representative_strain", "stroke_length_mm", "tilted_depths_mm"]


def representative_strain(tip_half_angle_deg, coeff: float = REPRESENTATIVE_STRAIN_COEFF):
    """φ_r = coeff·cot θ (Johnson): 0.2 for a 90° included-angle ridge."""
    theta = np.deg2rad(np.asarray(tip_half_angle_deg, dtype=float))
    return coeff / np.tan(theta)


def contact_width_mm(depth_mm, land_width_mm, tip_half_angle_deg):
    """Width of the ridge in contact at depth h: w + 2·h·tanθ."""
    return np.asarray(land_width_mm) + 2.0 * np.asarray(depth_mm) * np.tan(np.deg2rad(tip_half_angle_deg))


def depth_for_flow_stress_mm(force_kN, flow_stress_MPa, ridge_length_mm, land_width_mm,
                             tip_half_angle_deg, constraint_factor=CONSTRAINT_FACTOR):
    """Closed-form h = (F/(c·σ_f·L) − w)/(2·tanθ), clipped at 0, for a known σ_f."""
    force_width_mm = (np.asarray(force_kN, dtype=float) * 1e3
                      / (constraint_factor * np.asarray(flow_stress_MPa) * np.asarray(ridge_length_mm)))
    h = (force_width_mm - land_width_mm) / (2.0 * np.tan(np.deg2rad(tip_half_angle_deg)))
    return np.maximum(h, 0.0)


def force_for_depth_kN(depth_mm, flow_stress_MPa, ridge_length_mm, land_width_mm,
                       tip_half_angle_deg, constraint_factor=CONSTRAINT_FACTOR):
    """Inverse of :func:`depth_for_flow_stress_mm`: F = c·σ_f·L·(w + 2·h·tanθ) in kN."""
    return (constraint_factor * np.asarray(flow_stress_MPa) * np.asarray(ridge_length_mm)
            * contact_width_mm(depth_mm, land_width_mm, tip_half_angle_deg)) * 1e-3


def indentation_depth_mm(steel: SteelGrade, force_kN, ridge_length_mm, land_width_mm, temp_C,
                         tip_half_angle_deg=45.0, punch_speed_mm_s=50.0,
                         constraint_factor=CONSTRAINT_FACTOR,
                         strain_coeff=REPRESENTATIVE_STRAIN_COEFF):
    """Depth of a flat (untilted) indentation, solving the rate-dependent force balance.

    All array arguments broadcast together (e.g. force (B, 1) with stroke
    length (B, N)). Returns ``(depth_mm, flow_stress_MPa, strain_rate_1_s)``.
    """
    F = np.asarray(force_kN, dtype=float)
    L = np.asarray(ridge_length_mm, dtype=float)
    w = np.asarray(land_width_mm, dtype=float)
    T = np.asarray(temp_C, dtype=float)
    if np.any(F < 0):
        raise ValueError("force_kN must be >= 0")
    if np.any(L <= 0):
        raise ValueError("ridge_length_mm must be > 0")
    if np.any(w < 0):
        raise ValueError("land_width_mm must be >= 0")
    if not 0.0 < float(tip_half_angle_deg) < 90.0:
        raise ValueError(f"tip_half_angle_deg must be in (0, 90), got {tip_half_angle_deg!r}")
    if not punch_speed_mm_s > 0:
        raise ValueError(f"punch_speed_mm_s must be > 0, got {punch_speed_mm_s!r}")
    phi = representative_strain(tip_half_angle_deg, strain_coeff)
    tan_t = np.tan(np.deg2rad(tip_half_angle_deg))
    shape = np.broadcast_shapes(F.shape, L.shape, w.shape, T.shape)

    def depth_map(h):
        """G(h): the depth the force balance gives for σ_f at φ̇ = v/h, and dG/dh."""
        rate = punch_speed_mm_s / np.maximum(h, MIN_RATE_DEPTH_MM)
        sigma = hensel_spittel_MPa(steel, T, phi, rate)
        force_width = F * 1e3 / (constraint_factor * sigma * L)
        g = np.maximum((force_width - w) / (2.0 * tan_t), 0.0)
        # dG/dh = (W_F/(2 tanθ))·m8·ϑ·(φ̇/(φ̇+0.1))/h above the rate floor, 0 below it and where G = 0.
        dlog_sigma = -steel.m8 * T * rate / (rate + 0.1) / np.maximum(h, MIN_RATE_DEPTH_MM)
        dg = np.where((h > MIN_RATE_DEPTH_MM) & (g > 0), -force_width / (2.0 * tan_t) * dlog_sigma, 0.0)
        return g, dg, sigma, rate

    # G is increasing in h, so fixed-point steps from the stiffest case (rate at the floor) climb
    # monotonically towards the root; Newton on h − G(h) then converges quadratically.
    h = np.zeros(shape)
    for _ in range(FIXED_POINT_STEPS):
        h = depth_map(h)[0]
    for _ in range(NEWTON_STEPS):
        g, dg, _, _ = depth_map(h)
        slope = 1.0 - dg
        newton = h - (h - g) / np.where(slope > 0.05, slope, 1.0)
        h = np.maximum(np.where(slope > 0.05, newton, g), 0.0)
    g, _, sigma, rate = depth_map(h)
    return g, sigma, rate


def tilted_depths_mm(flat_depth_mm, tilt_deg, extent_mm, land_width_mm, tip_half_angle_deg=45.0):
    """Depth profile of a glyph stamped into a face tilted by ``tilt_deg``.

    Returns ``(mean_depth_mm, max_depth_mm, contact_fraction)``, all
    broadcast to the inputs' shape; the depth falls linearly from
    ``max_depth_mm`` at the deep end at the slope tan α (see the module
    docstring). With no tilt: (h, h, 1).
    """
    h = np.asarray(flat_depth_mm, dtype=float)
    tan_a = np.tan(np.deg2rad(np.abs(np.asarray(tilt_deg, dtype=float))))
    e = np.asarray(extent_mm, dtype=float)
    w = np.asarray(land_width_mm, dtype=float)
    tan_t = np.tan(np.deg2rad(tip_half_angle_deg))
    half_drop = 0.5 * e * tan_a
    full = h >= half_drop
    # Partial contact: solve tanθ·tanα·ℓ² + w·ℓ − e·(w + 2h·tanθ) = 0 for ℓ ∈ [0, e].
    force_width = w + 2.0 * h * tan_t
    a = tan_t * tan_a
    disc = np.sqrt(w**2 + 4.0 * a * e * force_width)
    with np.errstate(divide="ignore", invalid="ignore"):
        ell = np.where(a > 0, 2.0 * e * force_width / (w + disc), e)  # stable root form
    ell = np.where(h > 0, np.clip(ell, 0.0, e), 0.0)
    max_partial = ell * tan_a
    mean_partial = np.where(e > 0, 0.5 * max_partial * ell / np.where(e > 0, e, 1.0), 0.0)
    mean = np.where(full, h, mean_partial)
    deepest = np.where(full, h + half_drop, max_partial)
    contact = np.where(full, 1.0, np.where(e > 0, ell / np.where(e > 0, e, 1.0), 1.0))
    return mean, deepest, contact
