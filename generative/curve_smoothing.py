"""The low-pass that splits a sensor curve into a smooth part and its texture.

The sensor-texture GAN (:mod:`generative.sensor_texture`) learns the
*texture* of real curves — sensor noise, ripple, small transients,
quantisation — and adds it to the twin's curves. It needs pairs
(smooth curve, real curve). Ideally the smooth curve would be the twin
simulated at the real cycle's setpoints; with the real curves we have that
pairing is not possible (see :mod:`generative.sensor_texture` for why), so
the smooth partner of a real curve is the real curve itself, low-passed:

    smooth = gaussian_filter(median_filter(x, median_samples), sigma_samples)
    texture = x - smooth

Why this filter. The twin's curves (:mod:`physics.molding.curves`) are
``np.interp`` between the physics' filling and packing records: piecewise
linear, with corners and steps where the phases change (injection start,
switchover, hold end, dosing end), and no structure shorter than a few
samples. A running median of 5 samples (50 ms at 10 ms) keeps steps and
ramps where they are but removes isolated spikes; the Gaussian that
follows (sigma 2 samples, 20 ms; -3 dB near 9 Hz at 100 Hz sampling) takes
out the white noise, ripple and quantisation steps while leaving the
phase structure of a cycle (hundreds of milliseconds and longer) alone.
What the filter removes from a real curve is, by construction, what the
GAN must put back. The same filter is applied to the twin's curves before
the GAN textures them, so the twin's own white noise is *replaced* by the
learned texture rather than added to it.

Limits, measured on the Kassel upper-workpiece curve: near the sharpest
events (injection start and the pressure peak at switchover, a jump of
~170 bar in one sample) the Gaussian also rounds off the shape, so the
"texture" there includes a few samples of shape (residual sd ~12 bar in the
first 2.5 s against ~0.5 bar in the hold and dosing phases). The GAN learns
to put such corners back, conditioned on where the smooth curve bends.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

__all__ = ["CurveSmoothing"]


@dataclass(frozen=True)
class CurveSmoothing:
    """Median then Gaussian low-pass along the last axis (in samples, so it scales with the sample interval).

    ``median_samples`` (odd, 1 = off) and ``sigma_samples`` (0 = off). Edges
    are extended with the nearest value (``mode="nearest"``), so a curve's
    first and last samples are not pulled towards zero.
    """

    median_samples: int = 5
    sigma_samples: float = 2.0

    def __post_init__(self) -> None:
        if int(self.median_samples) < 1 or int(self.median_samples) % 2 == 0:
            raise ValueError(f"median_samples must be a positive odd integer, got {self.median_samples}")
        if not float(self.sigma_samples) >= 0.0:
            raise ValueError(f"sigma_samples must be >= 0, got {self.sigma_samples}")

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """The smooth part of ``values`` (``(..., T)``), float32, same shape."""
        x = np.asarray(values, dtype=np.float32)
        if x.shape[-1] == 0:
            return x.copy()
        if int(self.median_samples) > 1:
            size = (1,) * (x.ndim - 1) + (int(self.median_samples),)
            x = median_filter(x, size=size, mode="nearest")
        if float(self.sigma_samples) > 0:
            x = gaussian_filter1d(x, float(self.sigma_samples), axis=-1, mode="nearest")
        return np.asarray(x, dtype=np.float32)

    def to_dict(self) -> dict:
        return {"median_samples": int(self.median_samples), "sigma_samples": float(self.sigma_samples)}

    @classmethod
    def from_dict(cls, d: dict) -> "CurveSmoothing":
        return cls(int(d["median_samples"]), float(d["sigma_samples"]))

