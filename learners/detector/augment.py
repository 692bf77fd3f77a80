"""Photometric augmentation of billet faces for training (seeded, boxes unchanged).

A camera at the stamping line sees the same face under changing light,
scale and steam: brighter or darker, more or less contrast, sensor noise.
:func:`photometric_jitter` draws, per image, from an explicit
``torch.Generator``:

* gain (contrast) ``U(1 - contrast, 1 + contrast)`` around the image mean,
* offset (brightness) ``U(-brightness, +brightness)``,
* gamma ``exp(U(-log_gamma, +log_gamma))``,
* Gaussian noise with a standard deviation ``U(0, noise_sd)``,

then clips to [0, 1]. Nothing moves, so the boxes stay valid; geometry
(position, tilt, scale of the stamp) already varies in the twin's images.
"""
from __future__ import annotations

import torch

__all__ = ["photometric_jitter"]


def photometric_jitter(image: torch.Tensor, generator: torch.Generator, *, brightness: float = 0.12,
                       contrast: float = 0.35, log_gamma: float = 0.3, noise_sd: float = 0.04) -> torch.Tensor:
    """A jittered copy of a float ``(C, H, W)`` image in [0, 1] (see the module docstring)."""
    u = torch.rand(4, generator=generator, dtype=torch.float64).tolist()
    gain = 1.0 + contrast * (2.0 * u[0] - 1.0)
    offset = brightness * (2.0 * u[1] - 1.0)
    gamma = float(torch.exp(torch.tensor(log_gamma * (2.0 * u[2] - 1.0))))
    sd = noise_sd * u[3]
    mean = image.mean()
    x = ((image - mean) * gain + mean + offset).clamp(0.0, 1.0) ** gamma
    if sd > 0:
        x = x + sd * torch.randn(image.shape, generator=generator, dtype=image.dtype)
    return x.clamp(0.0, 1.0)
