"""Process a long curve window by window and blend the windows back: overlap-add.

The texture GAN works on windows of a fixed length L; a cycle's curve is
thousands of samples long. :func:`overlap_starts` places windows every
``hop`` samples (default L/2) plus one flush with the end, so every sample
is covered; :func:`overlap_add` blends the per-window outputs with the
weight ``w(t) = sin^2(pi (t + 0.5) / L)``, normalised by the sum of the
weights at each sample: where two windows overlap, the output cross-fades
smoothly from one to the other, and a sample covered by a single window
(the curve's ends) takes that window's value.

Blending *stochastic* outputs averages them, and the average of two
independent noise draws has less variance than either (half, at the
midpoint of a cross-fade). The texture GAN avoids that by drawing one
noise sequence for the whole curve and giving each window its slice of
it: overlapping windows then see the same noise at the same sample and
produce (up to the receptive field at the window edges) the same texture
there, so blending does not dilute it.
"""
from __future__ import annotations

import numpy as np

__all__ = ["overlap_starts", "overlap_weight", "overlap_add"]


def overlap_starts(n_samples: int, length: int, hop: int | None = None) -> np.ndarray:
    """Window starts every ``hop`` (default ``length // 2``) plus one ending at the last sample; ``[0]`` if short."""
    hop = max(int(hop if hop is not None else length // 2), 1)
    if n_samples <= length:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, n_samples - length + 1, hop, dtype=np.int64)
    if starts[-1] != n_samples - length:
        starts = np.append(starts, n_samples - length)
    return starts


def overlap_weight(length: int) -> np.ndarray:
    """The cross-fade weight ``sin^2(pi (t + 0.5) / L)`` (positive everywhere)."""
    t = np.arange(length, dtype=np.float64)
    return np.sin(np.pi * (t + 0.5) / length) ** 2


def overlap_add(windows: np.ndarray, starts: np.ndarray, n_samples: int) -> np.ndarray:
    """Blend ``windows`` (``(..., n_windows, L)``) placed at ``starts`` into ``(..., n_samples)``."""
    w = np.asarray(windows, dtype=np.float64)
    L = w.shape[-1]
    weight = overlap_weight(L)
    total = max(int(n_samples), int(starts.max()) + L)
    acc = np.zeros(w.shape[:-2] + (total,))
    norm = np.zeros(total)
    for k, s in enumerate(starts):
        acc[..., s:s + L] += w[..., k, :] * weight
        norm[s:s + L] += weight
    return (acc / norm)[..., :n_samples]
