"""Is each stamped character well, partially or poorly visible to the camera?

The camera reads a character by the shading of its groove. Three things
take readability away:

1. Depth, minus what the scale hides. The stamp pushes the face's scale
   (thickness x at stamping, :mod:`physics.billet.scale`) down into the groove
   bottom, and by the time the camera looks, fresh scale of about the same
   thickness has grown on both flanks of the V groove. A layer x on each
   flank of a groove with half-angle θ raises the visible bottom by x/sin θ,
   so [D, geometry]
       d_eff = d − x·(1 + 1/sin θ)          (≈ 2.4·x at θ = 45°).
2. Tilt. On a tilted face the depth falls linearly across the glyph from
   its deepest point d_max at the slope tan α
   (:func:`physics.billet.indentation.tilted_depths_mm`). The share of the
   glyph deeper than the readable depth d_r is
       f_tilt = clip((d_max − x·(1 + 1/sin θ) − d_r) / (e·tan α), 0, 1).
3. Occlusion. Scale flakes that spall on the face, a torch-cut burr, water
   marks from the spray: a random share of a glyph is covered. A character
   is hit with probability
       p = 1 − (1 − p0)·exp(−(x / x_ref)^n)
   — p0 for the causes that do not depend on scale (burr, water), and a
   Weibull spalling term in the scale thickness x. Why it rises steeply:
   the elastic energy a cooling scale stores per unit area grows in
   proportion to its thickness, and the scale spalls where that exceeds the
   local adhesion energy (Evans' spallation criterion); adhesion scatters
   from place to place, and a Weibull law with modulus n is the usual way
   to write such a weakest-link failure probability. The covered share of a
   hit character is Beta(a, b).

Classification per character (``VISIBILITY`` codes 0, 1, 2):
* ``poor``: f_tilt = 0 — the effective depth is below d_r over the whole glyph;
* ``partial``: not poor, and the missing share by tilt (1 − f_tilt) or the
  occluded share exceeds ``partial_threshold``;
* ``well``: otherwise.
The visible fraction f_tilt·(1 − occluded) is returned so that a renderer
can erase that share of the glyph.

Defaults — engineering assumptions (NOT FOUND in the references):
* d_r = 0.3 mm: a groove must be at least 1-2 pixels deep in shading
  contrast for a camera at ≈ 0.2 mm/pixel; 0.3 mm is 1.5 pixels.
* partial_threshold = 0.2: a fifth of a glyph missing is what a human
  labeller would call "partially visible".
* p0 = 0.005, x_ref = 0.4 mm, n = 4, Beta(2, 2): chosen so that a nominal
  billet (x ≈ 0.12-0.15 mm at 60-120 s after the cut) has ≈ 2 % of its
  characters occluded and one stamped 10 min late (x ≈ 0.22 mm) ≈ 9 %. The anchor is the billet study
  (shared/studies/billet_stamp_cgan.txt): 24 % of the real training billets
  show at least one partial or poor character, "slightly more frequent than
  in the real world" — ≈ 15-20 % of billets, i.e. ≈ 1.5-2 % of characters for
  11 independent characters. Calibrate p0 and x_ref against logged images.
"""
from __future__ import annotations

import numpy as np

VISIBILITY = ("well", "partial", "poor")
WELL, PARTIAL, POOR = 0, 1, 2

READABLE_DEPTH_MM = 0.3
PARTIAL_THRESHOLD = 0.2
OCCLUSION_BASE_PROBABILITY = 0.005
OCCLUSION_SCALE_REF_MM = 0.4
OCCLUSION_WEIBULL_MODULUS = 4.0
OCCLUSION_BETA_A = 2.0
OCCLUSION_BETA_B = 2.0


def scale_hidden_depth_mm(scale_thickness_mm, tip_half_angle_deg=45.0):
    """Depth the scale hides in a V groove: x·(1 + 1/sin θ)."""
    return np.asarray(scale_thickness_mm, dtype=float) * (1.0 + 1.0 / np.sin(np.deg2rad(tip_half_angle_deg)))


def occlusion_probability(scale_thickness_mm, base_probability=OCCLUSION_BASE_PROBABILITY,
                          scale_ref_mm=OCCLUSION_SCALE_REF_MM, weibull_modulus=OCCLUSION_WEIBULL_MODULUS):
    """p = 1 − (1 − p0)·exp(−(x/x_ref)^n): chance that a character is partly covered."""
    x = np.asarray(scale_thickness_mm, dtype=float)
    return 1.0 - (1.0 - base_probability) * np.exp(-((x / scale_ref_mm) ** weibull_modulus))


def draw_occlusion(scale_thickness_mm, n_chars: int, rng: np.random.Generator,
                   base_probability=OCCLUSION_BASE_PROBABILITY, scale_ref_mm=OCCLUSION_SCALE_REF_MM,
                   weibull_modulus=OCCLUSION_WEIBULL_MODULUS, beta_a=OCCLUSION_BETA_A, beta_b=OCCLUSION_BETA_B):
    """Occluded share per character, shape (B, n_chars), from one rng.

    Always draws B·n uniforms and then B·n Beta variates, whatever the
    inputs, so two calls with equally seeded generators use the same random
    numbers (common random numbers: a what-if changes the physics, not the dice).
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed))")
    x = np.asarray(scale_thickness_mm, dtype=float).reshape(-1, 1)
    shape = (x.shape[0], int(n_chars))
    u = rng.random(shape)
    share = rng.beta(beta_a, beta_b, shape)
    hit = u < occlusion_probability(x, base_probability, scale_ref_mm, weibull_modulus)
    return np.where(hit, share, 0.0)


def tilt_visible_fraction(max_depth_mm, hidden_mm, tilt_deg, extent_mm, readable_depth_mm=READABLE_DEPTH_MM):
    """Share of the glyph whose effective depth is at least the readable depth."""
    margin = np.asarray(max_depth_mm, dtype=float) - np.asarray(hidden_mm, dtype=float) - readable_depth_mm
    drop = np.asarray(extent_mm, dtype=float) * np.tan(np.deg2rad(np.abs(np.asarray(tilt_deg, dtype=float))))
    frac = np.where(drop > 1e-12, margin / np.where(drop > 1e-12, drop, 1.0), np.where(margin >= 0, 1.0, 0.0))
    return np.clip(frac, 0.0, 1.0)


def classify(tilt_fraction, occluded_fraction, partial_threshold=PARTIAL_THRESHOLD):
    """Visibility codes (int8, indices into ``VISIBILITY``) and the visible fraction."""
    f_t = np.asarray(tilt_fraction, dtype=float)
    occ = np.asarray(occluded_fraction, dtype=float)
    poor = f_t <= 0.0
    partial = ~poor & (((1.0 - f_t) > partial_threshold) | (occ > partial_threshold))
    codes = np.where(poor, POOR, np.where(partial, PARTIAL, WELL)).astype(np.int8)
    return codes, f_t * (1.0 - occ)
