"""Defect maps: where the defect is (the shape) and which class it is (the colour / channel).

Three forms of one map, for an image of S x S pixels and K defect classes:

* **class map** ``(N, S, S)`` int64: 0 = no defect, k in 1..K = a defect of
  class k (``DefectData.classes[k]``) — what a user draws or a loader gives;
* **one-hot map** ``(N, K, S, S)`` float32: channel k-1 is 1 where the class
  map is k — what the networks read (the SFT layers compute gamma and beta
  from it; an empty map, all zeros, means "no defect here");
* **colour map** ``(N, S, S, 3)`` uint8: one colour per class (``PALETTE``),
  black elsewhere — what the SyNDGAN study overlays on the image, and what
  the report shows.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["PALETTE", "class_map", "one_hot_map", "colour_map", "overlay", "as_class_map"]

#: Display colours of defect classes 1, 2, ... (repeats after 8 classes).
PALETTE = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
                    [145, 30, 180], [70, 240, 240], [240, 50, 230]], dtype=np.uint8)


def class_map(masks: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Class map of masks (N, S, S) bool and per-image labels (N,): label inside the mask, 0 outside."""
    masks = np.asarray(masks, dtype=bool)
    labels = np.asarray(labels, dtype=np.int64)
    return np.where(masks, labels[:, None, None], 0).astype(np.int64)


def as_class_map(defect_maps, n_classes: int) -> np.ndarray:
    """Accept a class map (N, S, S) of ints or a one-hot map (N, K, S, S); return the class map (checked)."""
    m = defect_maps.detach().cpu().numpy() if isinstance(defect_maps, torch.Tensor) else np.asarray(defect_maps)
    if m.ndim == 4:
        if m.shape[1] != n_classes:
            raise ValueError(f"one-hot defect map must have {n_classes} channels, got {m.shape[1]}")
        on = m > 0.5
        return np.where(on.any(1), on.argmax(1) + 1, 0).astype(np.int64)
    if m.ndim != 3:
        raise ValueError(f"defect map must be (N, S, S) class indices or (N, K, S, S) one-hot, got shape {m.shape}")
    if not np.issubdtype(m.dtype, np.integer) and not np.all(m == np.round(m)):
        raise ValueError("a class map must hold integer class indices (0 = no defect)")
    m = m.astype(np.int64)
    if m.size and (m.min() < 0 or m.max() > n_classes):
        raise ValueError(f"class map values must be in 0..{n_classes} (0 = no defect), got {m.min()}..{m.max()}")
    return m


def one_hot_map(cmap, n_classes: int) -> torch.Tensor:
    """One-hot float map (N, K, S, S) of a class map (N, S, S) (numpy or tensor)."""
    c = torch.as_tensor(np.asarray(cmap) if not isinstance(cmap, torch.Tensor) else cmap, dtype=torch.int64)
    levels = torch.arange(1, n_classes + 1, dtype=torch.int64).view(1, -1, 1, 1)
    return (c.unsqueeze(1) == levels).to(torch.float32)


def colour_map(cmap: np.ndarray) -> np.ndarray:
    """RGB colour map (N, S, S, 3) uint8 of a class map: class k in ``PALETTE[k-1]``, black where no defect."""
    cmap = np.asarray(cmap, dtype=np.int64)
    out = np.zeros(cmap.shape + (3,), dtype=np.uint8)
    on = cmap > 0
    out[on] = PALETTE[(cmap[on] - 1) % len(PALETTE)]
    return out


def overlay(images: np.ndarray, cmap: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """Grey images (N, S, S) uint8 with the colour map blended in where there is a defect: (N, S, S, 3) uint8."""
    grey = np.repeat(np.asarray(images, dtype=np.float32)[..., None], 3, axis=-1)
    col = colour_map(cmap).astype(np.float32)
    on = (np.asarray(cmap) > 0)[..., None]
    return np.where(on, (1 - alpha) * grey + alpha * col, grey).round().clip(0, 255).astype(np.uint8)
