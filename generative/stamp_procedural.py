"""The cGAN's second input channel: the procedural rendering of each training pair's mask.

In the twin, the stamp cGAN sees what the billet renderer hands to its
texture hook: the character's mask and the face around it as the physics
shaded it (groove walls, rim, occlusion, shadow; real or procedural steel
under it). To train it on (mask, photo) pairs, each pair needs that same
procedural view of *its* character. It is made here:

1. **paint out** the character from the photo (:func:`paint_out`): the
   stamp and a margin around it (where walls and rim show) are filled from
   the surrounding metal by normalised convolution, i.e. a blur that only
   averages pixels outside the hole, coarse enough to bridge the hole;
2. **render** the mask onto that background with the renderer's physics
   (:func:`physics.billet_render.stamp_texture.render_stamp_patch`): a
   random camera site, lamp turn, groove depth and groove tone per variant.

So the cGAN learns what separates a physics groove from a photographed
stamp on the *same* metal, and leaves the metal away from the stroke as
it was — which is what makes its output blend into a rendered face.
``variants`` renderings per pair (different depth and light) make the map
robust to the twin's range of depths and sites. All draws come from
``numpy.random.default_rng([seed, crc32(pair name), variant])``: a pair's
renderings do not depend on the order or number of the other pairs.
"""
from __future__ import annotations

import zlib

import numpy as np
from scipy import ndimage

from generative.stamp_pairs import StampPairs
from physics.billet_render.stamp_texture import render_stamp_patch

__all__ = ["paint_out", "procedural_inputs"]


def paint_out(image: np.ndarray, mask: np.ndarray, margin_frac: float = 0.06) -> np.ndarray:
    """``image`` with the footprint of ``mask`` (grown by ``margin_frac`` of the patch side) filled in.

    The fill is ``blur(image * keep) / blur(keep)`` at a scale of a quarter
    of the patch (then an eighth, for detail near the hole's edge), i.e. a
    smooth continuation of the metal around the hole.
    """
    img = np.asarray(image, dtype=np.float64)
    side = max(img.shape)
    grow = max(1, int(round(margin_frac * side)))
    hole = ndimage.binary_dilation(np.asarray(mask) >= 0.5, iterations=grow)
    keep = (~hole).astype(np.float64)
    if keep.sum() < 1:
        return np.full(img.shape, float(img.mean()), np.float32)
    fill = np.full(img.shape, float((img * keep).sum() / keep.sum()))
    for frac in (0.25, 0.125):
        sigma = max(1.0, frac * side)
        num = ndimage.gaussian_filter(img * keep, sigma, mode="reflect")
        den = ndimage.gaussian_filter(keep, sigma, mode="reflect")
        ok = den > 1e-3
        fill[ok] = num[ok] / den[ok]
    out = np.where(hole, fill, img)
    return out.astype(np.float32)


def procedural_inputs(pairs: StampPairs, variants: int = 2, seed: int = 0,
                      char_height_mm: float = 15.0) -> np.ndarray:
    """uint8 (N, variants, S, S): each pair's mask rendered procedurally on its painted-out photo."""
    n, s = len(pairs), pairs.size
    out = np.empty((n, int(variants), s, s), np.uint8)
    for i in range(n):
        bg = paint_out(pairs.images[i], pairs.masks[i])
        for v in range(int(variants)):
            rng = np.random.default_rng([int(seed), zlib.crc32(pairs.names[i].encode()), v])
            patch = render_stamp_patch(pairs.masks[i], rng, background=bg, char_height_mm=char_height_mm)
            out[i, v] = np.clip(patch * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out
