"""A saved SensorTextureGAN as the twin's :class:`twin.curve_texture.CurveTexture`.

The twin does not import torch; the CLI edge turns the config key
``curves.texture_model`` into an object with ``channels``, ``checkpoint``
and ``apply(channel, values, dt_s, rng)`` and hands it to
``simulate_molding(..., curve_texture=...)``::

    texture = load_curve_texture("runs/tex/model.ckpt")        # or the training folder
    simulate_molding(cfg, out, cycles=500, curve_texture=texture)

Every ``apply`` call draws one seed from the machine's texture generator and
textures the curves with :meth:`SensorTextureGAN.texture_curves` (low-pass,
windows, overlap-add, lattice), so a run is reproducible from its seed.
Channels the model did not learn are returned unchanged. A sample interval
other than the one the model learned is an error: texture is not
resampled, since what is noise at 10 ms is signal at 100 ms.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from generative.checkpoint import CheckpointError
from generative.sensor_texture import SensorTextureGAN

__all__ = ["SensorTextureAdapter", "load_curve_texture", "MODEL_FILE"]

#: The model file inside a training folder (``twinloop train gan sensor --out DIR``).
MODEL_FILE = "model.ckpt"


class SensorTextureAdapter:
    """Implements :class:`twin.curve_texture.CurveTexture` with a fitted :class:`SensorTextureGAN`."""

    def __init__(self, model: SensorTextureGAN, checkpoint: str = ""):
        model._check_fitted()
        self.model = model
        self.checkpoint = checkpoint or "in-memory SensorTextureGAN"
        self.channels = tuple(model.channels_)

    def check_sample_interval(self, dt_s: float) -> None:
        """Raise ValueError (naming the checkpoint) unless the model learned curves sampled every ``dt_s``."""
        if abs(float(dt_s) - self.model.dt_s_) > 1e-9 * self.model.dt_s_:
            raise ValueError(f"{self.checkpoint}: the texture model learned curves sampled every "
                             f"{self.model.dt_s_ * 1000:g} ms, the twin renders every {float(dt_s) * 1000:g} ms "
                             f"(set curves.sample_interval_ms = {self.model.dt_s_ * 1000:g} or retrain)")

    def apply(self, channel: str, values: np.ndarray, dt_s: float, rng: np.random.Generator) -> np.ndarray:
        if channel not in self.channels:
            return np.asarray(values, dtype=np.float32)
        self.check_sample_interval(dt_s)
        seed = int(rng.integers(0, 2**63 - 1))
        return self.model.texture_curves(channel, values, seed=seed)


def load_curve_texture(path: Path | str) -> SensorTextureAdapter:
    """The adapter of a saved model: a ``.ckpt`` file or a folder holding ``model.ckpt``.

    Raises :class:`~generative.checkpoint.CheckpointError` naming the file
    when it is missing, not a checkpoint, corrupt or of another model class.
    """
    p = Path(path)
    if p.is_dir():
        p = p / MODEL_FILE
        if not p.is_file():
            raise CheckpointError(f"{p}: no such checkpoint file (expected {MODEL_FILE} in the folder {path})")
    model = SensorTextureGAN.load(p)
    return SensorTextureAdapter(model, str(p))
