"""Put a synthesized defect back into the normal image: keep the network's pixels only near the mask.

The synthesizer re-draws the whole image through its decoder, so the
background comes back close to, but not exactly, the input (see the
outside-mask change in :mod:`generative.image_metrics`). For a plant's
training set the untouched background is usually wanted: :func:`blend_into`
takes the synthesized pixels inside the mask grown by ``dilate_px``, the
normal image's pixels elsewhere, with a Gaussian feather of ``feather_px``
at the seam. The raw output is what measures the model; the blended one is
what a user gets from ``twinloop sample defect`` (``--blend mask``, the default).

:func:`erase_defects` does the opposite for a reference: it fills the masked
region of a real defect image from its surroundings (normalised Gaussian
convolution), i.e. the same image without its defect.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["blend_into", "blend_alpha", "erase_defects"]


def blend_alpha(masks: np.ndarray, dilate_px: int = 1, feather_px: float = 1.0) -> np.ndarray:
    """Weights (N, S, S) in [0, 1] of the synthesized image: 1 on the grown mask, fading out over ``feather_px``."""
    masks = np.asarray(masks, dtype=bool)
    st = ndimage.generate_binary_structure(2, 2)
    out = np.empty(masks.shape, dtype=np.float64)
    for i, m in enumerate(masks):
        g = ndimage.binary_dilation(m, st, iterations=int(dilate_px)) if dilate_px > 0 and m.any() else m
        a = g.astype(np.float64)
        if feather_px > 0:
            a = np.maximum(a, ndimage.gaussian_filter(a, float(feather_px)))
        out[i] = a
    return out


def blend_into(normal: np.ndarray, synthesized: np.ndarray, masks: np.ndarray, *, dilate_px: int = 1,
               feather_px: float = 1.0) -> np.ndarray:
    """uint8 (N, S, S): ``alpha * synthesized + (1 - alpha) * normal`` with :func:`blend_alpha`."""
    a = blend_alpha(masks, dilate_px, feather_px)
    out = a * np.asarray(synthesized, np.float64) + (1 - a) * np.asarray(normal, np.float64)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def erase_defects(images: np.ndarray, masks: np.ndarray, sigma: float = 3.0) -> np.ndarray:
    """uint8 (N, S, S): each image with its masked pixels replaced by a Gaussian-weighted mean of the
    unmasked pixels around them (normalised convolution, ``sigma`` px; wider where the mask is large)."""
    out = np.asarray(images, np.float64).copy()
    for i, m in enumerate(np.asarray(masks, bool)):
        if not m.any() or m.all():
            continue
        keep = (~m).astype(np.float64)
        s = float(sigma)
        filled = None
        while filled is None or not np.isfinite(filled[m]).all():
            num = ndimage.gaussian_filter(out[i] * keep, s)
            den = ndimage.gaussian_filter(keep, s)
            with np.errstate(invalid="ignore", divide="ignore"):
                filled = np.where(den > 1e-6, num / den, np.nan)
            s *= 2.0
        out[i][m] = filled[m]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
