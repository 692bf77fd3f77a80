"""Sampling stamp textures from several checkpoints of the stamp cGAN, one picked per sample.

A pix2pix generator is deterministic for a given input (its dropout noise
is off when sampling), and one checkpoint tends to render every stroke the
same way. The billet stamp study draws from several checkpoints of one
training run for variety (shared/studies/billet_stamp_cgan.txt §2.2:
checkpoints every 5000 steps, textures sampled from several of them).
:class:`StampCheckpointPool` holds a list of loaded :class:`StampCGAN`
models and picks one per sample with the caller's generator::

    pool = StampCheckpointPool.load(["runs/stamp/checkpoints/step_004000.ckpt", "runs/stamp/model.ckpt"])
    patches, picks = pool.translate(masks, procedural, np.random.default_rng(0))

Paths may name ``.ckpt`` files, training folders (their ``model.ckpt``)
or glob patterns (``runs/stamp/checkpoints/*.ckpt``);
:func:`resolve_checkpoints` expands them in a fixed (sorted) order, and a
comma-separated string is accepted wherever a list is (the twin's config
key ``render.stamp_gan``). Every checkpoint must have one patch size.
"""
from __future__ import annotations

import glob
from pathlib import Path
from typing import Sequence

import numpy as np

from generative.checkpoint import CheckpointError
from generative.stamp_cgan import StampCGAN

__all__ = ["StampCheckpointPool", "resolve_checkpoints", "MODEL_FILE"]

#: The model file inside a training folder (``twinloop train gan stamp --out DIR``).
MODEL_FILE = "model.ckpt"


def resolve_checkpoints(spec: "str | Path | Sequence[str | Path]") -> list[Path]:
    """Checkpoint files named by ``spec``: files, training folders (``model.ckpt``), glob patterns.

    A string may list several, comma-separated. Raises
    :class:`~generative.checkpoint.CheckpointError` naming an entry that
    finds nothing (a missing file, a folder without ``model.ckpt``, a
    pattern that matches no file).
    """
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [str(s) for s in spec]
    items = [s for s in items if s]
    if not items:
        raise CheckpointError("no stamp cGAN checkpoint given (empty list)")
    out: list[Path] = []
    for item in items:
        if any(c in item for c in "*?["):
            found = sorted(Path(p) for p in glob.glob(item) if Path(p).is_file())
            if not found:
                raise CheckpointError(f"{item}: no checkpoint file matches this pattern")
            out.extend(found)
            continue
        p = Path(item)
        if p.is_dir():
            if not (p / MODEL_FILE).is_file():
                raise CheckpointError(f"{p}: folder without {MODEL_FILE} (give a .ckpt file or a training folder)")
            p = p / MODEL_FILE
        elif not p.is_file():
            raise CheckpointError(f"{p}: no such checkpoint file")
        out.append(p)
    return out


class StampCheckpointPool:
    """Several fitted :class:`StampCGAN` models; each sample is drawn from one picked with the rng."""

    def __init__(self, models: Sequence[StampCGAN], names: Sequence[str] | None = None):
        models = list(models)
        if not models:
            raise ValueError("a checkpoint pool needs at least one model")
        for m in models:
            m._check_fitted()
        sizes = {int(m.size_) for m in models}
        if len(sizes) != 1:
            raise ValueError(f"checkpoints of different patch sizes {sorted(sizes)} cannot be pooled")
        self.models = models
        self.names = [str(n) for n in names] if names is not None else [f"model {i}" for i in range(len(models))]
        self.size = sizes.pop()

    @classmethod
    def load(cls, spec: "str | Path | Sequence[str | Path]") -> "StampCheckpointPool":
        """Load every checkpoint :func:`resolve_checkpoints` finds (errors name the file)."""
        paths = resolve_checkpoints(spec)
        pool = cls([StampCGAN.load(p) for p in paths], [str(p) for p in paths])
        return pool

    def __len__(self) -> int:
        return len(self.models)

    def pick(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Which model renders each of ``n`` samples (uniform; one integer draw per sample)."""
        return rng.integers(0, len(self.models), size=int(n))

    def translate(self, masks, procedural, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(patches float32 (N, S, S) in [0, 1], picks int (N,)): each patch by the model picked for it."""
        masks = np.asarray(masks)
        procedural = np.asarray(procedural)
        if masks.ndim == 2:
            masks, procedural = masks[None], procedural[None]
        picks = self.pick(len(masks), rng)
        out = np.empty((len(masks), self.size, self.size), np.float32)
        for k in np.unique(picks):
            sel = np.flatnonzero(picks == k)
            out[sel] = self.models[int(k)].translate(masks[sel], procedural[sel])
        return out, picks

    def sample(self, n: int, condition, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`StampCGAN.sample` (procedural channel rendered when not given), one model per sample.

        Returns (patches, picks); the same seed gives the same picks and patches.
        """
        import torch

        masks, proc = self.models[0]._condition(int(n), condition, torch.Generator().manual_seed(int(seed)))
        return self.translate(masks, proc, np.random.default_rng(int(seed)))
