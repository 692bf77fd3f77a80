"""The copy-paste baseline: cut a real defect out of a defect image and paste it onto a normal image.

The simplest way to get more defect images: the pixels of a real defect
image inside its mask replace the normal image's pixels at the same place
(``feather_px`` > 0 softens the seam with a Gaussian-blurred mask). Its
defect texture is real by construction — what it cannot do is produce a
defect shape, place or class mix that no real image had (unless the mask is
moved with it: ``shift``). The scenario scores it against the synthesizers
with the same metrics.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["copy_paste", "copy_paste_set"]


def copy_paste(normal: np.ndarray, donors: np.ndarray, donor_masks: np.ndarray, *, feather_px: float = 0.0,
               shift: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Paste ``donors`` (N, S, S) inside ``donor_masks`` onto ``normal`` (N, S, S); returns (images, masks).

    ``shift`` (N, 2) integer (rows, cols) moves each donor and its mask
    (pixels shifted out of the image are lost). The returned masks are
    where the pasted defect now is.
    """
    normal = np.asarray(normal, np.uint8)
    donors = np.asarray(donors, np.uint8)
    masks = np.asarray(donor_masks, bool)
    if not (normal.shape == donors.shape == masks.shape):
        raise ValueError(f"normal {normal.shape}, donors {donors.shape} and masks {masks.shape} must match")
    out = normal.astype(np.float64).copy()
    new_masks = np.zeros_like(masks)
    for i in range(len(normal)):
        d, m = donors[i].astype(np.float64), masks[i]
        if shift is not None:
            dy, dx = (int(v) for v in shift[i])
            d = ndimage.shift(d, (dy, dx), order=0, mode="constant")
            m = ndimage.shift(m.astype(np.uint8), (dy, dx), order=0, mode="constant").astype(bool)
        a = m.astype(np.float64)
        if feather_px > 0:
            a = np.maximum(a, ndimage.gaussian_filter(a, feather_px))
        out[i] = a * d + (1 - a) * out[i]
        new_masks[i] = m
    return np.clip(np.round(out), 0, 255).astype(np.uint8), new_masks


def copy_paste_set(normal: np.ndarray, classes: np.ndarray, donor_images: np.ndarray, donor_masks: np.ndarray,
                   donor_labels: np.ndarray, rng: np.random.Generator, **kw) -> tuple[np.ndarray, np.ndarray]:
    """For each normal image, a random donor of the wanted class (``classes`` (N,)) pasted onto it."""
    donor_labels = np.asarray(donor_labels)
    has = np.asarray(donor_masks, bool).reshape(len(donor_labels), -1).any(1)
    pick = []
    for k in np.asarray(classes):
        pool = np.flatnonzero((donor_labels == k) & has)
        if pool.size == 0:
            raise ValueError(f"no donor image of class {k} with a non-empty mask")
        pick.append(int(rng.choice(pool)))
    pick = np.array(pick)
    return copy_paste(normal, donor_images[pick], donor_masks[pick], **kw)
