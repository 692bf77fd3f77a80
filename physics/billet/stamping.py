"""Hot stamping of a billet ID: the model the SimPy twin calls.

One :class:`StampingModel` per line configuration (:class:`StampParams`):
it solves the face cooling and the scale growth once at construction (for
initial face temperatures from 600 to 1500 °C every 25 K, ≈ 0.2 s) and then
stamps whole batches of billets with numpy — a batch of 1000 billets × 11
characters takes a few milliseconds, a single billet under a millisecond.

Per billet (inputs: time since the torch cut, stamp force, per-character pin
wear, face tilt; optionally the billet's own skin and core temperatures at
the cut) the chain is

    time since cut ─► face temperature T_s      (surface_cooling: radiation + convection + conduction)
                  └► scale thickness x          (scale: parabolic law along T_s(t))
    T_s, punch speed, depth ─► flow stress σ_f  (flow_stress: Hensel–Spittel)
    F, σ_f, stroke length L, land w(wear) ─► depth h   (indentation: F = c·σ_f·L·(w + 2h·tanθ))
    h, tilt ─► depth profile across the glyph    (indentation.tilted_depths_mm)
    profile, x, occlusion(rng, x) ─► well / partial / poor + visible share   (visibility)

Cold billets (stamped late), low force and worn pins all make the stamp
shallower through these equations; the only dice are the occlusions
(scale flakes, burr, water marks), whose probability rises with the scale.

Defaults (see :class:`StampParams`) and what they rest on:
* section 150 mm, skin 1000 °C and core 1350 °C at the cut — NOT FOUND as
  measured values; see :mod:`physics.billet.surface_cooling` (straightening
  rule "surface above 900 °C", PHYSICS_REFERENCES §5).
* ID position: one row of 11 characters 15 mm high across the face, centres
  from −55 to +55 mm; their RMS distance from the axis is 55/√3 ≈ 32 mm,
  0.42 of the 75 mm half-section, rounded to ``marking_radius_fraction`` 0.45
  because the row is seldom exactly central [D]. Character height: billet
  markers write 20-50 mm characters (IEL billet/bloom marking page,
  identequip.com [IND], spray markers); punches are smaller, and 11
  characters of 15 mm (pitch ≈ 11 mm) fit one row of a 150 mm face [D].
* punch speed 50 mm/s at contact — an engineering assumption for a
  hydraulic stamping head (approach speeds of hydraulic presses are tens to
  a few hundred mm/s); it enters only through φ̇^0.16, so ×2 changes σ_f by ≈ 12 %.
* land width 0.3 mm new, +1.2 mm at end of life (1.5 mm flat at wear 1) —
  engineering assumption: a new ridge is ground to a small flat so it does
  not chip; an end-of-life punch whose 45° ridge has lost ≈ 0.6 mm of height
  has a flat of ≈ 1.2 mm more.
* nominal force :data:`NOMINAL_STAMP_FORCE_KN` = 50 kN — derived [D]: the
  force that stamps a typical character (L = 2.40·H = 36 mm, the alphabet's
  mean) 1.5 mm deep into C45 90 s after the cut with new pins. The face is
  then at ≈ 1100 °C and φ̇ = 50/1.5 ≈ 33 s⁻¹, so σ_f ≈ 139 MPa and
  F = 3 · 139 MPa · 36 mm · (0.3 + 2·1.5·tan 45°) mm ≈ 49.6 kN
  (``test_nominal_force_derivation`` recomputes it). A hydraulic cylinder of
  80 mm bore at 100 bar delivers 50 kN. At that force "1" and "I" (short
  ridges) go ≈ 3.5-4.7 mm deep and "W" and "B" only ≈ 0.7-0.9 mm: a
  constant force spreads over very different ridge lengths. Pass a (B, N)
  force to model a head that scales its force per character.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from physics.billet import visibility as vis
from physics.billet.characters import ALPHABET, MEAN_STROKE_LENGTH_PER_HEIGHT, char_indices, stroke_lengths_mm
from physics.billet.flow_stress import hensel_spittel_MPa
from physics.billet.indentation import (CONSTRAINT_FACTOR, MIN_RATE_DEPTH_MM, REPRESENTATIVE_STRAIN_COEFF,
                                        force_for_depth_kN, indentation_depth_mm, representative_strain,
                                        tilted_depths_mm)
from physics.billet.scale import scale_thickness_history_mm
from physics.billet.steel import get_steel
from physics.billet.surface_cooling import SurfaceCoolingTable, section_temp_at_cut_C

#: Maximum |tilt| accepted, degrees (beyond this the face is not a stamping face).
MAX_TILT_DEG = 30.0
#: Initial face temperatures the cooling table covers, °C: every 25 K from 600 to 1500 °C
#: (interpolation error < 0.1 K; a billet outside this range raises a ValueError).
FACE_TEMP_GRID_C = np.arange(600.0, 1500.0 + 1e-9, 25.0)


@dataclass(frozen=True)
class StampParams:
    """Settings of the billet stamping physics. Units are in the names.

    Sources and reasoning for each default: module docstrings of
    :mod:`physics.billet.stamping`, ``surface_cooling``, ``indentation``,
    ``visibility``, ``scale``. "[A]" marks an engineering assumption
    (NOT FOUND in shared/PHYSICS_REFERENCES.md).
    """

    #: Steel grade (:data:`physics.billet.steel.STEELS`).
    steel: str = "C45"
    #: Billet section edge, mm (150 × 150 mm billets, PHYSICS_REFERENCES §5).
    section_mm: float = 150.0
    #: Skin temperature at the torch cut, °C [A; straightening rule keeps it > 900 °C].
    surface_temp_at_cut_C: float = 1000.0
    #: Core temperature at the cut, °C [A; just below the solidus].
    core_temp_at_cut_C: float = 1350.0
    #: RMS distance of the ID from the billet axis over the half-section [D].
    marking_radius_fraction: float = 0.45
    #: Air / surroundings temperature, °C.
    ambient_C: float = 25.0
    #: Total emissivity of the oxidised face (FLIR 0.8-0.9 [IND]).
    emissivity: float = 0.85
    #: Natural convection at the face, W/(m²·K) (Churchill–Chu, ≈ 9 [D]).
    h_conv_W_m2K: float = 10.0
    #: Glyph height, mm [A/D].
    char_height_mm: float = 15.0
    #: Punch speed at contact, mm/s [A].
    punch_speed_mm_s: float = 50.0
    #: Half-angle of the ridge flanks, degrees.
    tip_half_angle_deg: float = 45.0
    #: Flat land at the ridge tip of a new punch, mm [A].
    land_width_new_mm: float = 0.3
    #: Extra land width per unit of wear (wear 1 = end of life), mm [A].
    land_width_per_wear_mm: float = 1.2
    #: Mean contact pressure over flow stress (Tabor; Prandtl/Hill 2.97).
    constraint_factor: float = CONSTRAINT_FACTOR
    #: φ_r = coeff·cot θ (Johnson, Contact Mechanics §6.4).
    representative_strain_coeff: float = REPRESENTATIVE_STRAIN_COEFF
    #: Scale already on the face when the cut ends, mm [A: the cut face is fresh].
    scale_at_cut_mm: float = 0.0
    #: Minimum effective depth the camera reads, mm [A: 1.5 px at 0.2 mm/px].
    readable_depth_mm: float = vis.READABLE_DEPTH_MM
    #: Missing share above which a character is "partial" [A].
    partial_threshold: float = vis.PARTIAL_THRESHOLD
    #: Occlusion probability without scale (burr, water marks) [A].
    occlusion_base_probability: float = vis.OCCLUSION_BASE_PROBABILITY
    #: Scale thickness at which spalling occlusion reaches 1 − 1/e, mm [A].
    occlusion_scale_ref_mm: float = vis.OCCLUSION_SCALE_REF_MM
    #: Weibull modulus of the spalling probability in the scale thickness [A].
    occlusion_weibull_modulus: float = vis.OCCLUSION_WEIBULL_MODULUS
    #: Beta(a, b) of the covered share of an occluded character [A].
    occlusion_beta_a: float = vis.OCCLUSION_BETA_A
    occlusion_beta_b: float = vis.OCCLUSION_BETA_B
    #: Longest time since the cut the model accepts, s.
    max_time_since_cut_s: float = 3600.0

    def __post_init__(self):
        get_steel(self.steel)  # raises a ValueError naming the known grades
        for f in fields(self):
            if f.name == "steel":
                continue
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not np.isfinite(v):
                raise ValueError(f"StampParams.{f.name} must be a finite number, got {v!r}")
        positive = ("section_mm", "char_height_mm", "punch_speed_mm_s", "constraint_factor",
                    "representative_strain_coeff", "readable_depth_mm", "occlusion_scale_ref_mm",
                    "occlusion_weibull_modulus", "occlusion_beta_a", "occlusion_beta_b", "max_time_since_cut_s")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"StampParams.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("land_width_new_mm", "land_width_per_wear_mm", "h_conv_W_m2K", "scale_at_cut_mm"):
            if getattr(self, name) < 0:
                raise ValueError(f"StampParams.{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("marking_radius_fraction", "partial_threshold", "occlusion_base_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"StampParams.{name} must be in [0, 1], got {getattr(self, name)!r}")
        if not 0.0 < self.emissivity <= 1.0:
            raise ValueError(f"StampParams.emissivity must be in (0, 1], got {self.emissivity!r}")
        if not 0.0 < self.tip_half_angle_deg < 90.0:
            raise ValueError(f"StampParams.tip_half_angle_deg must be in (0, 90), got {self.tip_half_angle_deg!r}")
        if self.core_temp_at_cut_C < self.surface_temp_at_cut_C:
            raise ValueError("StampParams.core_temp_at_cut_C must be >= surface_temp_at_cut_C "
                             f"({self.core_temp_at_cut_C} < {self.surface_temp_at_cut_C})")
        if not self.surface_temp_at_cut_C > self.ambient_C:
            raise ValueError("StampParams.surface_temp_at_cut_C must exceed ambient_C")

    def to_dict(self) -> dict:
        return asdict(self)


#: Nominal stamp force, kN [D] (see the module docstring; checked by a test).
NOMINAL_STAMP_FORCE_KN = 50.0


@dataclass
class StampResult:
    """Outcome of stamping a batch of B billets with N characters each (numpy arrays).

    ``visibility`` holds int8 codes into :data:`VISIBILITY` ("well",
    "partial", "poor"); ``visible_fraction`` is the share of each glyph a
    renderer should keep (1 − erased share).
    """

    surface_temp_C: np.ndarray        # (B,) face temperature when stamped
    scale_thickness_mm: np.ndarray    # (B,) oxide scale on the face when stamped
    flow_stress_MPa: np.ndarray       # (B, N)
    strain_rate_1_s: np.ndarray       # (B, N)
    depth_mm: np.ndarray              # (B, N) mean indentation depth over the glyph
    max_depth_mm: np.ndarray          # (B, N) deepest point (tilted faces)
    contact_fraction: np.ndarray      # (B, N) share of the glyph the punch touched
    effective_depth_mm: np.ndarray    # (B, N) mean depth minus what the scale hides
    occluded_fraction: np.ndarray     # (B, N)
    visible_fraction: np.ndarray      # (B, N)
    visibility: np.ndarray            # (B, N) int8 codes into VISIBILITY

    @property
    def visibility_labels(self) -> np.ndarray:
        """Visibility as strings, (B, N)."""
        return np.asarray(vis.VISIBILITY)[self.visibility]

    def rates(self) -> dict[str, float]:
        """Share of characters in each visibility class."""
        n = self.visibility.size
        return {name: float(np.count_nonzero(self.visibility == k)) / n for k, name in enumerate(vis.VISIBILITY)}


VISIBILITY = vis.VISIBILITY


def _per_billet(name, value, B):
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        a = np.full(B, float(a))
    if a.shape != (B,):
        raise ValueError(f"{name} must have shape ({B},) (one value per billet), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


class StampingModel:
    """Billet hot-stamping physics for one configuration; see the module docstring."""

    def __init__(self, params: StampParams | None = None):
        self.params = params = params if params is not None else StampParams()
        self.steel = get_steel(params.steel)
        self.face_temp_at_cut_C = float(self.face_temps_at_cut_C(params.surface_temp_at_cut_C,
                                                                  params.core_temp_at_cut_C))
        self.cooling = SurfaceCoolingTable(self.steel, FACE_TEMP_GRID_C, ambient_C=params.ambient_C,
                                           emissivity=params.emissivity, h_conv_W_m2K=params.h_conv_W_m2K,
                                           max_time_s=params.max_time_since_cut_s)
        self.cooling.check_face_temps(self.face_temp_at_cut_C)
        self._scale_mm = scale_thickness_history_mm(self.cooling.times_s, self.cooling.surface_temps_C,
                                                    params.scale_at_cut_mm)

    # -- single quantities -------------------------------------------------
    def face_temps_at_cut_C(self, surface_temp_at_cut_C, core_temp_at_cut_C):
        """Temperature of the face at the ID right after the cut, from the section's skin and core."""
        return section_temp_at_cut_C(surface_temp_at_cut_C, core_temp_at_cut_C, self.params.marking_radius_fraction)

    def surface_temp_C(self, time_since_cut_s, face_temp_at_cut_C=None):
        """Face temperature at the marking, °C (``face_temp_at_cut_C`` None → the nominal billet)."""
        T0 = self.face_temp_at_cut_C if face_temp_at_cut_C is None else face_temp_at_cut_C
        return self.cooling.surface_temp_C(time_since_cut_s, T0)

    def scale_thickness_mm(self, time_since_cut_s, face_temp_at_cut_C=None):
        """Scale on the face, mm (``face_temp_at_cut_C`` None → the nominal billet)."""
        T0 = self.face_temp_at_cut_C if face_temp_at_cut_C is None else face_temp_at_cut_C
        return self.cooling.interpolate(self._scale_mm, time_since_cut_s, T0)

    def force_for_depth_kN(self, depth_mm: float, time_since_cut_s: float, stroke_length_mm: float | None = None,
                           pin_wear: float = 0.0) -> float:
        """Force that stamps a flat face ``depth_mm`` deep (inverse of the force balance).

        ``stroke_length_mm`` defaults to the alphabet's mean character
        (2.40 × ``char_height_mm``).
        """
        p = self.params
        L = MEAN_STROKE_LENGTH_PER_HEIGHT * p.char_height_mm if stroke_length_mm is None else stroke_length_mm
        T = self.surface_temp_C(time_since_cut_s)
        rate = p.punch_speed_mm_s / max(depth_mm, MIN_RATE_DEPTH_MM)
        sigma = hensel_spittel_MPa(self.steel, T, representative_strain(p.tip_half_angle_deg,
                                                                        p.representative_strain_coeff), rate)
        w = p.land_width_new_mm + p.land_width_per_wear_mm * pin_wear
        return float(force_for_depth_kN(depth_mm, sigma, L, w, p.tip_half_angle_deg, p.constraint_factor))

    # -- the batch call ----------------------------------------------------
    def stamp(self, chars, time_since_cut_s, stamp_force_kN, pin_wear, tilt_deg,
              rng: np.random.Generator, surface_temp_at_cut_C=None, core_temp_at_cut_C=None) -> StampResult:
        """Stamp a batch of IDs.

        chars: list of B equal-length ID strings, or a (B, N) array of single
            characters from ``ALPHABET`` (0-9, A-Z).
        time_since_cut_s: (B,) seconds between the torch cut and the stamp.
        stamp_force_kN: (B,) punch force per billet, or (B, N) per character, ≥ 0.
        pin_wear: (B, N) wear of each character punch in [0, 1] (0 new, 1 end of life).
        tilt_deg: (B,) angle between the face normal and the punch axis.
        rng: numpy Generator; it draws the occlusions (always 2·B·N numbers).
        surface_temp_at_cut_C, core_temp_at_cut_C: optional (B,) skin and core
            temperatures of each billet at the cut (casting-speed or spray
            scatter); None → the values in ``params``.

        Scalars are accepted for the per-billet arrays and for ``pin_wear``.
        """
        p = self.params
        if not isinstance(rng, np.random.Generator):
            raise ValueError("rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed))")
        idx = char_indices(chars)
        B, N = idx.shape
        t = _per_billet("time_since_cut_s", time_since_cut_s, B)
        if np.any(t < 0) or np.any(t > p.max_time_since_cut_s):
            raise ValueError(f"time_since_cut_s must be within [0, {p.max_time_since_cut_s:g}] s, "
                             f"got min {t.min():g}, max {t.max():g}")
        F = np.asarray(stamp_force_kN, dtype=float)
        if F.ndim == 2:
            if F.shape != (B, N):
                raise ValueError(f"stamp_force_kN must have shape ({B},) or ({B}, {N}), got {F.shape}")
            if not np.all(np.isfinite(F)):
                raise ValueError("stamp_force_kN must be finite")
        else:
            F = _per_billet("stamp_force_kN", F, B)[:, None]
        if np.any(F < 0):
            raise ValueError(f"stamp_force_kN must be >= 0 (a press cannot pull), got min {F.min():g}")
        tilt = _per_billet("tilt_deg", tilt_deg, B)
        if np.any(np.abs(tilt) > MAX_TILT_DEG):
            raise ValueError(f"|tilt_deg| must be <= {MAX_TILT_DEG:g}, got max {np.abs(tilt).max():g}")
        wear = np.asarray(pin_wear, dtype=float)
        if wear.ndim == 0:
            wear = np.full((B, N), float(wear))
        if wear.shape != (B, N):
            raise ValueError(f"pin_wear must have shape ({B}, {N}) (one value per character), got {wear.shape}")
        if not np.all(np.isfinite(wear)) or np.any(wear < 0) or np.any(wear > 1):
            raise ValueError("pin_wear must be within [0, 1]")

        skin = _per_billet("surface_temp_at_cut_C",
                           p.surface_temp_at_cut_C if surface_temp_at_cut_C is None else surface_temp_at_cut_C, B)
        core = _per_billet("core_temp_at_cut_C",
                           p.core_temp_at_cut_C if core_temp_at_cut_C is None else core_temp_at_cut_C, B)
        if np.any(core < skin):
            raise ValueError("core_temp_at_cut_C must be >= surface_temp_at_cut_C for every billet")
        T0 = self.face_temps_at_cut_C(skin, core)
        T_s = self.cooling.surface_temp_C(t, T0)
        scale = self.cooling.interpolate(self._scale_mm, t, T0)
        L = stroke_lengths_mm(idx, p.char_height_mm)
        land = p.land_width_new_mm + p.land_width_per_wear_mm * wear
        h, sigma, rate = indentation_depth_mm(
            self.steel, F, L, land, T_s[:, None], tip_half_angle_deg=p.tip_half_angle_deg,
            punch_speed_mm_s=p.punch_speed_mm_s, constraint_factor=p.constraint_factor,
            strain_coeff=p.representative_strain_coeff)
        mean, deepest, contact = tilted_depths_mm(h, tilt[:, None], p.char_height_mm, land, p.tip_half_angle_deg)
        hidden = vis.scale_hidden_depth_mm(scale, p.tip_half_angle_deg)[:, None]
        occluded = vis.draw_occlusion(scale, N, rng, p.occlusion_base_probability, p.occlusion_scale_ref_mm,
                                      p.occlusion_weibull_modulus, p.occlusion_beta_a, p.occlusion_beta_b)
        f_tilt = vis.tilt_visible_fraction(deepest, hidden, tilt[:, None], p.char_height_mm, p.readable_depth_mm)
        codes, visible = vis.classify(f_tilt, occluded, p.partial_threshold)
        return StampResult(
            surface_temp_C=T_s, scale_thickness_mm=scale, flow_stress_MPa=sigma, strain_rate_1_s=rate,
            depth_mm=mean, max_depth_mm=deepest, contact_fraction=contact,
            effective_depth_mm=np.maximum(mean - hidden, 0.0), occluded_fraction=occluded,
            visible_fraction=visible, visibility=codes)


__all__ = ["ALPHABET", "NOMINAL_STAMP_FORCE_KN", "StampParams", "StampResult", "StampingModel", "VISIBILITY"]
