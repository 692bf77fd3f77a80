"""Channel-wise robust scaling of sensor curves: (x - median) / IQR, fitted on training data only.

The 34 channels differ by orders of magnitude (a pressure of 1,000 bar, a
screw position of 30 mm, a strain of 100 microstrain, a phase code of 0-6)
and an LSTM with saturating gates learns nothing from unscaled inputs (the
study's "zero learning" failure). Per channel, over every sample of every
training cycle::

    center = median,  scale = Q75 - Q25

Median and interquartile range rather than mean and sd: a handful of
outlying cycles (a breakdown, a cold start) would otherwise set the scale.
But a curve is mostly plateaus with short pulses, and a channel that sits
on one plateau most of the time (the screw velocity: 0 except for the
injection pulse; the mold opening: 0 while the mold is closed) has the IQR
of its sensor noise — a pulse would scale to thousands and saturate the
LSTM's gates. So the scale has a floor, ``spread_floor`` (0.1) times the
channel's central 99 % range (Q99.5 - Q0.5)::

    scale = max(Q75 - Q25, spread_floor * (Q99.5 - Q0.5))

and scaled values are clipped at ±``clip`` (20). A channel with neither
spread (constant) falls back to its sd, then to 1. NaN samples (a channel
a machine does not log) are ignored in the fit and become 0 (the median)
after scaling.

The statistics are fitted on the *training* cycles only and stored with
the model: a test or stream cycle is scaled with the training statistics,
never its own, so nothing of the held-out data leaks into the model.
"""
from __future__ import annotations

import numpy as np

__all__ = ["RobustChannelScaler"]


class RobustChannelScaler:
    """Per-channel median/IQR scaling of ``(N, C, T)`` arrays (module docstring); ``fit`` sets ``center_`` and ``scale_``."""

    def __init__(self, spread_floor: float = 0.1, clip: float | None = 20.0, max_samples: int = 2_000_000,
                 seed: int = 0):
        self.spread_floor = spread_floor
        self.clip = clip
        self.max_samples = max_samples
        self.seed = seed

    def fit(self, values: np.ndarray) -> "RobustChannelScaler":
        """Fit on ``(N, C, T)`` training curves (at most ``max_samples`` samples per channel, seeded subsample)."""
        values = np.asarray(values)
        if values.ndim != 3 or values.shape[0] == 0:
            raise ValueError(f"expected (cycles, channels, samples) with at least one cycle, got {values.shape}")
        N, C, T = values.shape
        flat = np.moveaxis(values, 1, 0).reshape(C, N * T)
        if N * T > self.max_samples:
            idx = np.random.default_rng(self.seed).choice(N * T, self.max_samples, replace=False)
            flat = flat[:, np.sort(idx)]
        flat = flat.astype(np.float64)
        qs = [0.5, 25, 50, 75, 99.5]
        with np.errstate(all="ignore"):
            q005, q25, med, q75, q995 = np.nanpercentile(flat, qs, axis=1) if np.isnan(flat).any() else \
                np.percentile(flat, qs, axis=1)
            sd = np.nanstd(flat, axis=1)
        med = np.where(np.isfinite(med), med, 0.0)
        scale = np.maximum(q75 - q25, float(self.spread_floor) * (q995 - q005))
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, np.where(np.isfinite(sd) & (sd > 0), sd, 1.0))
        self.center_ = med.astype(np.float32)
        self.scale_ = scale.astype(np.float32)
        return self

    def transform(self, values: np.ndarray) -> np.ndarray:
        """``(values - center) / scale`` per channel (axis 1), NaN -> 0; float32, a new array."""
        if not hasattr(self, "center_"):
            raise RuntimeError("RobustChannelScaler is not fitted")
        values = np.asarray(values, dtype=np.float32)
        if values.shape[1] != self.center_.shape[0]:
            raise ValueError(f"expected {self.center_.shape[0]} channels, got {values.shape[1]}")
        out = values - self.center_[None, :, None]
        out /= self.scale_[None, :, None]
        if self.clip is not None:
            np.clip(out, -float(self.clip), float(self.clip), out=out)  # NaN stays NaN
        if np.isnan(out.sum(dtype=np.float64)) or (self.clip is None and not np.isfinite(out).all()):
            np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        return out

    def fit_transform(self, values: np.ndarray) -> np.ndarray:
        return self.fit(values).transform(values)
