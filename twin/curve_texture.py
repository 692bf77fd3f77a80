"""The plug for learned sensor texture: how the twin lets a generative model touch its curves.

The twin renders smooth physics curves with white sensor noise
(:mod:`physics.molding.curves`). A generative model (e.g. the sensor-
texture GAN of :mod:`generative.sensor_texture`) can replace that noise by
texture learned from real curves. The twin must not import torch, so the
model comes in through this small protocol: any object with

* ``channels``: the channel names it textures (others are left alone);
* ``checkpoint``: a short text naming the model (its checkpoint path),
  written into the cycles' ``generator_checkpoint`` lineage column and
  into ``metrics.json``;
* ``apply(channel, values, dt_s, rng) -> ndarray``: ``values`` is a
  ``(B, T)`` float32 array of B curves of one channel sampled every
  ``dt_s`` seconds; it returns the textured curves, same shape. ``rng`` is
  a ``numpy.random.Generator`` the machine owns for this purpose (spawned
  by name, ``<machine>.texture``), so the texture is reproducible from the
  run's seed and draws nothing from the generators of the physics, the
  sensors or the curves: with or without texture, every other number of a
  run is the same.

``twin.simulate.simulate_molding(cfg, out, curve_texture=obj)`` passes it
to the machines; ``curve_texture=None`` (the default) leaves the curve code
path exactly as it was. The config key ``curves.texture_model`` names a
checkpoint; resolving it into an object is the caller's job (the CLI does
it with :func:`generative.sensor_texture_adapter.load_curve_texture`).

A texture changes the curves after rendering, so the exact agreement of
the curves' extremes with the logged scalars (max of the pressure curve =
``max_injection_pressure_bar``, min of the screw position = ``cushion_mm``;
:mod:`physics.molding.curves`) no longer holds exactly: the scalars stay
the physics' values and the curves carry the texture, as on a machine
whose scalars come from a separate measurement.
"""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

__all__ = ["CurveTexture", "apply_curve_texture", "CurveTextureError"]


class CurveTextureError(ValueError):
    """A texture object that broke the protocol (wrong shape, NaN); the message names it and the channel."""


@runtime_checkable
class CurveTexture(Protocol):
    """Learned sensor texture for the twin's curves; see the module docstring."""

    channels: Sequence[str]
    checkpoint: str

    def apply(self, channel: str, values: np.ndarray, dt_s: float, rng: np.random.Generator) -> np.ndarray:
        ...


def apply_curve_texture(texture: CurveTexture, curves: np.ndarray, channel_names: Sequence[str], dt_s: float,
                        rng: np.random.Generator) -> np.ndarray:
    """Texture the rows of ``curves`` (``(n_channels, T)`` float32, one cycle) that ``texture`` covers, in place.

    Channels are visited in ``channel_names`` order, so the draws from
    ``rng`` are reproducible. Returns ``curves``.
    """
    wanted = set(texture.channels)
    for j, name in enumerate(channel_names):
        if name not in wanted:
            continue
        row = curves[j]
        out = np.asarray(texture.apply(name, row[None, :], dt_s, rng))
        if out.shape != (1, row.size):
            raise CurveTextureError(f"curve texture {texture.checkpoint!r}: channel {name} returned shape "
                                    f"{out.shape}, expected {(1, row.size)}")
        if not np.all(np.isfinite(out)):
            raise CurveTextureError(f"curve texture {texture.checkpoint!r}: channel {name} returned NaN or inf")
        curves[j] = out[0]
    return curves
