"""Image grids for reports: tile grey or RGB images into one picture, encode it as a PNG data URI.

Deterministic: the same arrays give the same PNG bytes (PIL writes no
timestamps), so a report built from them is byte-identical between runs.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

__all__ = ["tile", "png_data_uri", "to_rgb"]


def to_rgb(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) grey or (N, H, W, 3) RGB → (N, H, W, 3)."""
    a = np.asarray(images, dtype=np.uint8)
    return np.repeat(a[..., None], 3, axis=-1) if a.ndim == 3 else a


def tile(columns: list[np.ndarray], pad: int = 2, background: int = 255) -> np.ndarray:
    """A grid with one column per entry of ``columns`` (each (rows, H, W) grey or (rows, H, W, 3)); RGB uint8."""
    cols = [to_rgb(c) for c in columns]
    rows = len(cols[0])
    if any(len(c) != rows for c in cols):
        raise ValueError("every column must have the same number of images")
    h, w = cols[0].shape[1:3]
    out = np.full((rows * (h + pad) + pad, len(cols) * (w + pad) + pad, 3), background, dtype=np.uint8)
    for j, c in enumerate(cols):
        for i in range(rows):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            out[y:y + h, x:x + w] = c[i]
    return out


def png_data_uri(image: np.ndarray, scale: int = 1) -> str:
    """``data:image/png;base64,...`` of an RGB or grey uint8 image (nearest-neighbour upscaled by ``scale``)."""
    a = np.asarray(image, dtype=np.uint8)
    if scale > 1:
        a = a.repeat(scale, 0).repeat(scale, 1)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
