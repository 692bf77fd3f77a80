"""The quantisation lattice of a logged sensor channel: detect it, snap values onto it.

A machine logs each channel through an A/D converter and a fixed-point
scaling, so every logged value is ``offset + k * step`` for an integer k.
The Kassel upper-workpiece export, for example, logs injection pressure on
a 0.0814 bar lattice, melt volume on 0.00285 cm3 (0.0040 mm of a 30 mm
screw) and injection flow on 0.1423 cm3/s — the flow then reads exactly 0
whenever the screw stands still. A GAN's output is continuous; snapping it
onto the channel's lattice afterwards reproduces that part of the texture
exactly (the GAN learns the continuous rest).

Detection (:func:`estimate_lattice`): the smallest clearly positive step
between consecutive samples is the candidate ``step`` (the 1st percentile
of the positive steps, so one float-rounding outlier does not decide); the
channel is quantised if at least ``min_on_lattice`` (95 %) of all positive
steps are within 10 % of an integer multiple of it. The ``offset`` is the
circular mean of ``x / step`` (float32 rounding scatters large values by a
fraction of a step, so the plain remainder is unreliable).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Lattice", "estimate_lattice"]


@dataclass(frozen=True)
class Lattice:
    """``offset + k * step``; ``step == 0`` means no quantisation."""

    step: float = 0.0
    offset: float = 0.0

    def snap(self, values: np.ndarray) -> np.ndarray:
        """``values`` rounded to the nearest lattice point (unchanged when ``step == 0``), float32."""
        x = np.asarray(values, dtype=np.float32)
        if self.step <= 0:
            return x
        q = np.float64(self.step)
        return (np.round((x - self.offset) / q) * q + self.offset).astype(np.float32)

    def to_dict(self) -> dict:
        return {"step": float(self.step), "offset": float(self.offset)}

    @classmethod
    def from_dict(cls, d: dict) -> "Lattice":
        return cls(float(d["step"]), float(d["offset"]))


def estimate_lattice(curves: list[np.ndarray] | np.ndarray, min_on_lattice: float = 0.95,
                     min_steps: int = 20) -> Lattice:
    """The lattice of the logged values in ``curves`` (one array or a list of 1-D arrays); see the module docstring."""
    rows = [np.asarray(c, dtype=np.float64).ravel() for c in (curves if isinstance(curves, list) else [curves])]
    steps = np.concatenate([np.abs(np.diff(r[np.isfinite(r)])) for r in rows]) if rows else np.zeros(0)
    values = np.concatenate([r[np.isfinite(r)] for r in rows]) if rows else np.zeros(0)
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    pos = steps[steps > max(scale, 1.0) * 1e-6]
    if pos.size < min_steps:
        return Lattice()
    step = float(np.percentile(pos, 1.0))
    ratio = pos / step
    if np.mean(np.abs(ratio - np.round(ratio)) < 0.1) < min_on_lattice:
        return Lattice()
    phase = 2.0 * np.pi * values / step
    offset = float(np.angle(np.mean(np.exp(1j * phase))) / (2.0 * np.pi) * step) % step
    return Lattice(step, offset)
