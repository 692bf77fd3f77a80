"""New defect masks from real ones: moved, scaled, rotated (and mirrored) copies.

The synthesizer is asked for defects where no real image had one. A new
mask is a real mask of the wanted class put through a random similarity
transform about its centroid — rotation by up to ``rotation_deg``, scale in
``scale_range``, a mirror image with probability ``p_flip`` — and then moved
so that its bounding box lands at a uniformly drawn place inside the
image (when it is larger than the image, its centre lands inside).
Rasterised by inverse mapping with nearest-neighbour lookup
(``scipy.ndimage.affine_transform(order=0)``): no holes.

:func:`novel_masks` draws such masks and keeps one only when its IoU with
**every** real mask given is below ``max_iou``: a mask no real image had.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["transform_mask", "novel_masks", "mask_iou"]


def _similarity(theta: float, scale: float, flip: bool) -> np.ndarray:
    """2x2 forward matrix in (row, col) coordinates."""
    c, s = np.cos(theta), np.sin(theta)
    rot = np.array([[c, -s], [s, c]])
    mirror = np.diag([1.0, -1.0]) if flip else np.eye(2)
    return scale * rot @ mirror


def transform_mask(mask: np.ndarray, rng: np.random.Generator, *, rotation_deg: float = 30.0,
                   scale_range: tuple[float, float] = (0.7, 1.3), p_flip: float = 0.5,
                   max_shift: float = 0.25) -> np.ndarray:
    """A moved, scaled, rotated, maybe mirrored copy of ``mask`` (S, S) bool (see the module docstring)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    pts = np.argwhere(mask).astype(np.float64)
    if len(pts) == 0:
        return mask.copy()
    h, w = mask.shape
    theta = np.deg2rad(rng.uniform(-rotation_deg, rotation_deg))
    scale = float(np.exp(rng.uniform(np.log(scale_range[0]), np.log(scale_range[1]))))
    flip = bool(rng.random() < p_flip)
    a = _similarity(theta, scale, flip)
    centre = pts.mean(0)
    moved = (pts - centre) @ a.T  # about the centroid
    lo, hi = moved.min(0), moved.max(0)
    target = centre.copy()
    for d, size in enumerate((h, w)):
        low, high = -lo[d], size - 1 - hi[d]  # centre positions that keep the box inside
        if low > high:
            low, high = 0.0, size - 1.0
        reach = float(max_shift) * size
        first, last = max(low, centre[d] - reach), min(high, centre[d] + reach)
        target[d] = rng.uniform(first, last) if first <= last else float(np.clip(centre[d], low, high))
    # output pixel p -> input pixel centre + A^-1 (p - target)
    inv = np.linalg.inv(a)
    offset = centre - inv @ target
    out = ndimage.affine_transform(mask.astype(np.float32), inv, offset=offset, order=0, mode="constant", cval=0.0)
    out = out > 0.5
    if not out.any():  # a tiny mask lost between pixel centres: keep its transformed centroid pixel
        r, c = np.clip(np.round(target).astype(int), 0, [h - 1, w - 1])
        out[r, c] = True
    return out


def mask_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of mask ``a`` (S, S) with each of masks ``b`` (M, S, S)."""
    a = np.asarray(a, dtype=bool).reshape(1, -1)
    b = np.asarray(b, dtype=bool).reshape(len(b), -1)
    inter = (a & b).sum(1)
    union = (a | b).sum(1)
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)


def novel_masks(masks: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator, *,
                classes: np.ndarray | None = None, max_iou: float = 0.5, tries: int = 50,
                **transform) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` new masks from the real ``masks`` (M, S, S) with ``labels`` (M,) (defect labels >= 1).

    ``classes`` (n,) fixes the class of each new mask (default: classes in
    turn, so every class is drawn). Returns ``(masks, labels, source,
    max_iou_with_real)``: the new masks, their classes, the index of the
    real mask each came from, and each one's largest IoU with any real mask
    (below ``max_iou`` unless ``tries`` draws all failed: then the least
    similar draw is kept, and its IoU says so).
    """
    masks = np.asarray(masks, dtype=bool)
    labels = np.asarray(labels, dtype=np.int64)
    has = masks.reshape(len(masks), -1).any(1)
    present = np.unique(labels[has & (labels > 0)])
    if present.size == 0:
        raise ValueError("novel_masks needs at least one non-empty defect mask")
    if classes is None:
        classes = present[np.arange(n) % len(present)]
    classes = np.asarray(classes, dtype=np.int64)
    out = np.zeros((n,) + masks.shape[1:], dtype=bool)
    src = np.zeros(n, dtype=np.int64)
    best_iou = np.zeros(n)
    for i, k in enumerate(classes):
        pool = np.flatnonzero(has & (labels == k))
        if pool.size == 0:
            raise ValueError(f"no real mask of class {k} to transform")
        best = None
        for _ in range(int(tries)):
            j = int(rng.choice(pool))
            cand = transform_mask(masks[j], rng, **transform)
            iou = float(mask_iou(cand, masks[has]).max())
            if best is None or iou < best[0]:
                best = (iou, cand, j)
            if iou < max_iou:
                break
        best_iou[i], out[i], src[i] = best
    return out, classes, src, best_iou
