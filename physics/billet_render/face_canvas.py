"""The face canvas: the per-pixel layers the stamped characters are pasted into before shading.

One canvas per photograph, ``size_px`` square, in face coordinates (before
the camera). It holds

* ``albedo`` (writable copy of the texture's) and the relief gradients
  ``gx``, ``gy`` (texture relief + every character's groove),
* ``ao`` and ``shadow``: ambient-occlusion and cast-shadow factors (1 = none),
* ``labels``: uint8, 0 = face, i + 1 = character i's footprint, and
  ``label_box``: the rows/columns any label touches (where the camera warp
  of the label map has to look).

Characters are pasted as small patches at integer offsets; parts outside
the canvas are cut off. Relief patches of neighbours may overlap at their
margins (heights add, occlusion and shadow take the minimum); footprints
never overwrite an earlier character's label, so the label map stays a
partition and every box is the box of exactly what carries its label.
"""
from __future__ import annotations

import numpy as np

from .shading import Light, cast_shadow_patch, gradient, occlusion_patch


def _clip(start: int, length: int, limit: int) -> tuple[slice, slice] | None:
    """Canvas slice and patch slice of a patch [start, start + length) on a canvas [0, limit)."""
    a, b = max(0, start), min(limit, start + length)
    if b <= a:
        return None
    return slice(a, b), slice(a - start, b - start)


class FaceCanvas:
    """Per-pixel layers of one face (see the module docstring)."""

    def __init__(self, albedo: np.ndarray, gx: np.ndarray, gy: np.ndarray):
        self.size = albedo.shape[0]
        self.albedo = np.array(albedo, dtype=np.float32)       # writable: the grooves tint it
        self.gx, self.gy = gx, gy
        self.ao = np.ones((self.size, self.size), dtype=np.float32)
        self.shadow = np.ones((self.size, self.size), dtype=np.float32)
        self.labels = np.zeros((self.size, self.size), dtype=np.uint8)
        self.label_box = [self.size, self.size, 0, 0]           # y0, x0, y1, x1 (ends exclusive)

    def add_relief(self, y0: int, x0: int, height: np.ndarray, depth_px: float, mm_per_px: float,
                   light: Light, groove_tone: float = 1.0) -> bool:
        """Add a groove's relief patch with its top-left corner at canvas (y0, x0).

        ``groove_tone`` scales the albedo at the groove bottom (broken scale or
        fresh metal), fading with the depth. Returns False if the patch misses the canvas.
        """
        ry = _clip(y0, height.shape[0], self.size)
        rx = _clip(x0, height.shape[1], self.size)
        if ry is None or rx is None:
            return False
        (ys, py), (xs, px) = ry, rx
        hgx, hgy = gradient(height)
        self.gx[ys, xs] += hgx[py, px]
        self.gy[ys, xs] += hgy[py, px]
        if groove_tone != 1.0 and depth_px > 0:
            tone = height[py, px] * np.float32((1.0 - groove_tone) / depth_px)
            tone += np.float32(1.0)
            self.albedo[ys, xs] *= np.maximum(tone, np.float32(0.3))
        np.minimum(self.ao[ys, xs], occlusion_patch(height, mm_per_px)[py, px], out=self.ao[ys, xs])
        np.minimum(self.shadow[ys, xs], cast_shadow_patch(height, light)[py, px], out=self.shadow[ys, xs])
        return True

    def add_label(self, y0: int, x0: int, footprint: np.ndarray, label: int) -> None:
        """Mark ``footprint`` (bool patch, top-left at canvas (y0, x0)) as ``label`` where still unlabelled."""
        ry = _clip(y0, footprint.shape[0], self.size)
        rx = _clip(x0, footprint.shape[1], self.size)
        if ry is None or rx is None:
            return
        (ys, py), (xs, px) = ry, rx
        lab = self.labels[ys, xs]
        lab[footprint[py, px] & (lab == 0)] = label
        b = self.label_box
        self.label_box = [min(b[0], ys.start), min(b[1], xs.start), max(b[2], ys.stop), max(b[3], xs.stop)]
