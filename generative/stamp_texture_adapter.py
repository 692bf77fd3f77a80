"""Saved stamp cGAN checkpoints as the billet renderer's per-character texture.

The twin does not import torch; the renderer only knows the protocol
:class:`physics.billet_render.stamp_texture.StampTexture`
(``apply(patch, mask, rng)``). The CLI edge turns the config key
``render.stamp_gan`` into an object that implements it::

    texture = load_stamp_texture("runs/stamp")          # or "a.ckpt,b.ckpt", or a glob
    BilletFaceRenderer(params, backgrounds, stamp_texture=texture)

What :meth:`StampTextureAdapter.apply` does with one character's patch
(``h x w`` shaded face pixels, its coverage mask):

1. pad the patch to a square around its centre (edge pixels; the mask
   with 0) and resize both to the model's size (64 px: a character of the
   default 512-px face is about 51 px high in an 87 x 67 patch, i.e. 0.58
   of the square, as in the training pairs);
2. pick a checkpoint with ``rng`` and translate (mask, patch) -> texture;
3. take the **change** (texture - patch) at model size back to the
   patch's size (bilinear) and add it, weighted by a mask that is 1 on
   and around the stroke (the footprint grown by ~6 % of the patch side,
   softened) and falls to 0 at the patch border — so the face keeps its
   own full-resolution pixels away from the character and no patch edge
   shows. ``strength`` scales the change (0 = off, 1 = as generated).

The label map and the boxes are not involved: the renderer builds them
from the masks alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image
from scipy import ndimage

from generative.stamp_cgan import StampCGAN
from generative.stamp_pairs import to_square
from generative.stamp_pool import MODEL_FILE, StampCheckpointPool

__all__ = ["StampTextureAdapter", "load_stamp_texture", "blend_weight", "MODEL_FILE"]


def _resize(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if a.shape == shape:
        return a.astype(np.float32)
    img = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32), "F")
    return np.asarray(img.resize((shape[1], shape[0]), Image.Resampling.BILINEAR), dtype=np.float32)


def blend_weight(mask: np.ndarray, grow_frac: float = 0.06, border_frac: float = 0.08) -> np.ndarray:
    """Where the cGAN's change is used: 1 on the footprint grown by ``grow_frac`` of the side, soft, 0 at the border."""
    m = np.asarray(mask) >= 0.5
    h, w = m.shape
    side = max(h, w)
    grow = max(1, int(round(grow_frac * side)))
    near = ndimage.binary_dilation(m, iterations=grow).astype(np.float32)
    near = ndimage.gaussian_filter(near, max(0.5, grow / 2.0))
    ramp = max(1.0, border_frac * side)
    y = np.minimum(np.arange(h) + 0.5, h - 0.5 - np.arange(h)) / ramp
    x = np.minimum(np.arange(w) + 0.5, w - 0.5 - np.arange(w)) / ramp
    border = np.minimum(np.clip(y, 0, 1)[:, None], np.clip(x, 0, 1)[None, :])
    return np.clip(np.minimum(near * 1.5, 1.0) * border, 0.0, 1.0).astype(np.float32)


class StampTextureAdapter:
    """Implements :class:`physics.billet_render.stamp_texture.StampTexture` with a checkpoint pool."""

    def __init__(self, pool: "StampCheckpointPool | StampCGAN", strength: float = 1.0):
        self.pool = pool if isinstance(pool, StampCheckpointPool) else StampCheckpointPool([pool])
        if not (np.isfinite(strength) and 0.0 <= strength <= 2.0):
            raise ValueError(f"strength must be in [0, 2], got {strength!r}")
        self.strength = float(strength)
        self.checkpoints = tuple(self.pool.names)

    def __repr__(self) -> str:
        return f"StampTextureAdapter(checkpoints={list(self.checkpoints)!r}, strength={self.strength})"

    def apply(self, patch: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        p = np.asarray(patch, dtype=np.float32)
        m = np.asarray(mask, dtype=np.float32)
        if p.ndim != 2 or p.shape != m.shape:
            raise ValueError(f"patch {p.shape} and mask {m.shape} must be one 2-D shape")
        if not (m >= 0.5).any() or self.strength == 0.0:
            return p.copy()
        s = self.pool.size
        h, w = p.shape
        side = max(h, w)
        sq_p, sq_m = to_square(p, "edge"), to_square(m, "zero")
        small_p, small_m = _resize(sq_p, (s, s)), np.clip(_resize(sq_m, (s, s)), 0, 1)
        out, _ = self.pool.translate(small_m[None], np.clip(small_p, 0, 1)[None], rng)
        delta = _resize(out[0] - small_p, (side, side))
        oy, ox = (side - h) // 2, (side - w) // 2
        delta = delta[oy:oy + h, ox:ox + w]
        return np.clip(p + np.float32(self.strength) * blend_weight(m) * delta, 0.0, 1.0)


def load_stamp_texture(spec: "str | Path | Sequence[str | Path]", strength: float = 1.0) -> StampTextureAdapter:
    """The adapter of saved checkpoints: ``.ckpt`` files, training folders (``model.ckpt``) or globs.

    ``spec`` may be a comma-separated string (``render.stamp_gan``). Raises
    :class:`~generative.checkpoint.CheckpointError` (a ValueError) naming
    the file that is missing, corrupt or not a stamp cGAN.
    """
    return StampTextureAdapter(StampCheckpointPool.load(spec), strength=strength)
