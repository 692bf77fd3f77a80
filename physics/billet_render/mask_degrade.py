"""Random degradation and deformation of per-character stamp masks.

Why: a detector trained on ideal glyph contours overfits to them (billet
stamp study, shared/studies/billet_stamp_cgan.txt §2.2.4: masks "randomly
degraded by erasing individual parts and deformed"). Here both steps follow
what happens at a hot-stamping station:

* **Erasing** (:func:`erase_to_fraction`) removes the parts of a character
  that did not indent. A tilted stamp head leaves one side of the ID
  shallower, so erasure follows a *direction* (a linear ramp across the
  glyph); scale trapped under the die or flaking off afterwards removes
  *blobs* (a smooth random field). The two are mixed by ``tilt_weight``
  and cut at the quantile that leaves ``visible_fraction`` of the glyph's
  area, so "partial" and "poor" characters keep the share the physics
  asked for.
* **Deforming** (:func:`deform_mask`) applies a small random affine map
  (shear, anisotropic scale, rotation: die wear, billet face not square to
  the stamp) and a smooth elastic displacement (hot metal flowing
  unevenly) about the patch centre.

All functions take and return float32 coverage masks (values in [0, 1],
``>= 0.5`` is the footprint) of one fixed patch shape, and draw only from
the ``rng`` they are given. Smooth random fields are built by bilinear
up-sampling of a coarse normal grid with two small matrices (cached per
shape), which costs microseconds on a glyph patch.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import map_coordinates


@dataclass(frozen=True)
class DegradeParams:
    """Magnitudes of the random deformation and erasure of one character mask.

    Lengths in ``*_em`` are fractions of the character height (em).
    """

    shear_max: float = 0.08          #: uniform shear in [-max, max] (x shifted by shear * y)
    scale_sd: float = 0.03           #: sd of the relative scale change, per axis
    rotation_max_deg: float = 2.5    #: uniform rotation in [-max, max] degrees
    elastic_em: float = 0.012        #: sd of the smooth elastic displacement, em
    elastic_cells: int = 3           #: control points of the displacement field along the glyph height
    blob_cells: int = 5              #: control points of the erasure blob field along the glyph height
    erase_soft: float = 0.2          #: width of the soft fade at an erasure cut, in field sd units

    def __post_init__(self) -> None:
        for name in ("shear_max", "scale_sd", "rotation_max_deg", "elastic_em", "erase_soft"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"DegradeParams.{name} must be finite and >= 0, got {v!r}")
        for name in ("elastic_cells", "blob_cells"):
            v = getattr(self, name)
            if int(v) != v or v < 2:
                raise ValueError(f"DegradeParams.{name} must be an integer >= 2, got {v!r}")


@lru_cache(maxsize=64)
def _interp_matrix(n_out: int, n_grid: int) -> np.ndarray:
    """(n_out, n_grid) float32 matrix: linear interpolation of n_grid control points onto n_out pixels."""
    pos = (np.arange(n_out) + 0.5) / n_out * (n_grid - 1)
    i0 = np.clip(np.floor(pos).astype(int), 0, n_grid - 2)
    t = pos - i0
    m = np.zeros((n_out, n_grid), dtype=np.float32)
    m[np.arange(n_out), i0] = 1.0 - t
    m[np.arange(n_out), i0 + 1] = t
    m.setflags(write=False)
    return m


def smooth_field(shape: tuple[int, int], cells: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth zero-mean random field of ``shape``: N(0, 1) on a ``cells`` grid, bilinearly up-sampled."""
    gy, gx = max(2, int(cells[0])), max(2, int(cells[1]))
    coarse = rng.standard_normal((gy, gx)).astype(np.float32)
    return _interp_matrix(shape[0], gy) @ coarse @ _interp_matrix(shape[1], gx).T


def _cells(shape: tuple[int, int], glyph_height_px: float, per_em: int) -> tuple[int, int]:
    """Control-point grid for a patch: ``per_em`` points per glyph height, same spacing across."""
    step = glyph_height_px / (per_em - 1)
    return (max(2, int(round(shape[0] / step)) + 1), max(2, int(round(shape[1] / step)) + 1))


@lru_cache(maxsize=16)
def _pixel_grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    cy, cx = (shape[0] - 1) / 2.0, (shape[1] - 1) / 2.0
    yy -= cy
    xx -= cx
    yy.setflags(write=False)
    xx.setflags(write=False)
    return yy, xx


def deform_mask(mask: np.ndarray, glyph_height_px: float, rng: np.random.Generator,
                params: DegradeParams = DegradeParams()) -> np.ndarray:
    """Randomly sheared, scaled, rotated and elastically displaced copy of a coverage mask.

    The map acts about the patch centre; anything pushed past the patch edge
    is cut off (patches carry a margin for this). ``glyph_height_px`` sets
    the physical scale of the elastic field. Draws a fixed number of random
    numbers, whatever the parameters.
    """
    m = np.asarray(mask, dtype=np.float32)
    shape = m.shape
    shear = rng.uniform(-1.0, 1.0) * params.shear_max
    sx, sy = np.exp(rng.standard_normal(2) * params.scale_sd)
    rot = np.radians(rng.uniform(-1.0, 1.0) * params.rotation_max_deg)
    cells = _cells(shape, glyph_height_px, params.elastic_cells)
    amp = params.elastic_em * glyph_height_px
    dy = smooth_field(shape, cells, rng) * amp
    dx = smooth_field(shape, cells, rng) * amp
    # Forward map A = R @ S @ Shear; sample the source at A^-1 (out - centre) - displacement.
    c, s = np.cos(rot), np.sin(rot)
    a = np.array([[c, -s], [s, c]]) @ np.diag([sx, sy]) @ np.array([[1.0, shear], [0.0, 1.0]])
    inv = np.linalg.inv(a).astype(np.float32)
    yy, xx = _pixel_grid(shape)
    cy, cx = (shape[0] - 1) / 2.0, (shape[1] - 1) / 2.0
    src_x = inv[0, 0] * xx + inv[0, 1] * yy + (cx - dx)
    src_y = inv[1, 0] * xx + inv[1, 1] * yy + (cy - dy)
    out = map_coordinates(m, (src_y, src_x), order=1, mode="constant", cval=0.0, prefilter=False)
    return np.clip(out, 0.0, 1.0, out=out)


def erase_to_fraction(mask: np.ndarray, visible_fraction: float, glyph_height_px: float,
                      rng: np.random.Generator, direction_rad: float | None = None,
                      tilt_weight: float = 0.5, params: DegradeParams = DegradeParams()) -> np.ndarray:
    """Erase parts of a coverage mask so that about ``visible_fraction`` of its area remains.

    The erased parts are where a field ``tilt_weight * ramp + (1 - tilt_weight) * blobs``
    is lowest: ``ramp`` rises along ``direction_rad`` (radians, 0 = +x, pi/2 = +y;
    drawn from ``rng`` when None), i.e. the erasure eats in from the opposite
    side as a tilted die would; ``blobs`` is a smooth random field (scale).
    The cut sits at the quantile of the field over the footprint
    (coverage >= 0.5) that leaves ``visible_fraction`` of its pixels, and
    fades over ``params.erase_soft`` (in sd of the field), symmetric about
    the cut, so the kept footprint matches ``visible_fraction`` to within the
    fade. Fractions >= 1 return the mask unchanged (no draws), <= 0 an
    empty mask.
    """
    m = np.asarray(mask, dtype=np.float32)
    f = float(visible_fraction)
    if not np.isfinite(f):
        raise ValueError(f"visible_fraction must be finite, got {visible_fraction!r}")
    if not 0.0 <= tilt_weight <= 1.0:
        raise ValueError(f"tilt_weight must be in [0, 1], got {tilt_weight!r}")
    if f >= 1.0:
        return m.copy()
    if f <= 0.0:
        return np.zeros_like(m)
    if direction_rad is None:
        direction_rad = rng.uniform(0.0, 2.0 * np.pi)
    blobs = smooth_field(m.shape, _cells(m.shape, glyph_height_px, params.blob_cells), rng)
    yy, xx = _pixel_grid(m.shape)
    ramp = (np.float32(np.cos(direction_rad)) * xx + np.float32(np.sin(direction_rad)) * yy) \
        * np.float32(2.0 / glyph_height_px)
    # ramp spans about +-1 over the glyph (sd ~0.5); scale blobs to a comparable spread.
    field = np.float32(tilt_weight) * ramp + np.float32(0.6 * (1.0 - tilt_weight)) * blobs
    vals = field[m >= 0.5]
    if vals.size == 0:
        return m.copy()
    k = min(vals.size - 1, int(round((1.0 - f) * vals.size)))
    thr = np.partition(vals, k)[k]
    soft = np.float32(max(params.erase_soft * float(vals.std()), 1e-6))
    keep = field - thr
    keep /= soft
    keep += np.float32(0.5)
    np.clip(keep, 0.0, 1.0, out=keep)
    keep *= m
    return keep
