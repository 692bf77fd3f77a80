"""One API for the generative models: ``fit``, ``sample``, ``save``, ``load``, exact resume.

Every GAN of the project (stamp texture, defect synthesis, sensor-curve
texture) is a :class:`GenerativeModel`::

    gan = SensorTextureGAN(steps=2000, checkpoint_every=500)
    gan.fit(data, seed=0, checkpoint_dir=run / "checkpoints")   # -> self
    x = gan.sample(16, condition=c, seed=1)                     # same seed, same samples
    gan.save(run / "model.ckpt"); gan = SensorTextureGAN.load(run / "model.ckpt")
    gan.fit(data, seed=0, resume_from=run / "checkpoints/step_000500.ckpt")  # continues exactly

As in scikit-learn, ``__init__`` only stores settings; what is learned lives
in trailing-underscore attributes. ``fit`` trains for ``steps`` optimiser
steps (counting from 0, or from the checkpoint's step when resuming).

Randomness and exact resume: all of a training run's random numbers come
from three sources, all seeded from ``seed`` and all saved in every
checkpoint: a numpy Generator (batch order, augmentation), a
``torch.Generator`` (latent noise, passed to the subclass), and the global
torch generator that ``nn.Dropout`` uses — run inside
``torch.random.fork_rng`` with its state loaded from and saved to the model,
so the caller's own global torch state is never touched. A run resumed
from the checkpoint of step k therefore produces the same weights at step
n as the run that was never stopped (tested).

Subclasses implement the small hooks below (``_prepare``, ``_networks``,
``_optimizers``, ``_train_step``, ``_sample`` and the state of what
``_prepare`` learned from the data).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from generative.checkpoint import CheckpointError, read_checkpoint, write_checkpoint

__all__ = ["GenerativeModel", "CheckpointError", "qualified_name"]


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class GenerativeModel:
    """Base class; see the module docstring. Settings common to all: ``steps``, ``checkpoint_every``."""

    #: Names of the constructor arguments (set by subclasses); saved with the model.
    _param_names: tuple[str, ...] = ("steps", "checkpoint_every")

    def __init__(self, steps: int = 1000, checkpoint_every: int = 0):
        self.steps = steps
        self.checkpoint_every = checkpoint_every

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in self._param_names}

    # -- hooks for subclasses -------------------------------------------------
    def _prepare(self, data: Any) -> None:
        """Learn what the networks' shapes and the data's scaling need (sets ``*_`` attributes)."""
        raise NotImplementedError

    def _prepared_state(self) -> dict:
        """What :meth:`_prepare` learned, as tensors / plain containers (saved in checkpoints)."""
        return {}

    def _restore_prepared(self, state: dict) -> None:
        pass

    def _networks(self) -> dict[str, nn.Module]:
        """Build the networks (random weights from the current global torch generator)."""
        raise NotImplementedError

    def _optimizers(self, nets: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def _train_step(self, data: Any, step: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, float]:
        """One optimiser step on a batch drawn with ``rng``; returns the losses as floats."""
        raise NotImplementedError

    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> Any:
        raise NotImplementedError

    # -- the API ----------------------------------------------------------------
    def fit(self, data: Any, *, seed: int = 0, checkpoint_dir: Path | str | None = None,
            resume_from: Path | str | None = None,
            progress: Callable[[int, int], None] | None = None) -> "GenerativeModel":
        if int(self.steps) < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")
        self._prepare(data)
        if resume_from is not None:
            self._load_training_state(Path(resume_from))
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self.nets_ = self._networks()
                self.torch_global_state_ = torch.get_rng_state()
            self.opts_ = self._optimizers(self.nets_)
            self.step_ = 0
            self.history_: list[dict] = []
            self.np_rng_ = np.random.default_rng(seed)
            self.gen_ = torch.Generator().manual_seed(int(seed) + 1)
            self.seed_ = int(seed)
        ckdir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        if ckdir is not None:
            ckdir.mkdir(parents=True, exist_ok=True)
        for net in self.nets_.values():
            net.train()
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self.torch_global_state_)
            while self.step_ < int(self.steps):
                losses = self._train_step(data, self.step_, self.np_rng_, self.gen_)
                self.step_ += 1
                self.history_.append({"step": self.step_, **{k: float(v) for k, v in losses.items()}})
                if ckdir is not None and self.checkpoint_every and self.step_ % int(self.checkpoint_every) == 0:
                    self.torch_global_state_ = torch.get_rng_state()
                    self.save(ckdir / f"step_{self.step_:06d}.ckpt")
                if progress is not None:
                    progress(self.step_, int(self.steps))
            self.torch_global_state_ = torch.get_rng_state()
        for net in self.nets_.values():
            net.eval()
        return self

    def sample(self, n: int, condition: Any = None, *, seed: int = 0) -> Any:
        """``n`` samples (for a conditional model: one per condition row); same seed, same samples."""
        self._check_fitted()
        if int(n) < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        for net in self.nets_.values():
            net.eval()
        with torch.no_grad():
            return self._sample(int(n), condition, torch.Generator().manual_seed(int(seed)))

    def save(self, path: Path | str) -> Path:
        self._check_fitted()
        state = {
            "params": json.dumps(self.get_params()), "prepared": self._prepared_state(),
            "nets": {k: v.state_dict() for k, v in self.nets_.items()},
            "opts": {k: v.state_dict() for k, v in self.opts_.items()},
            "step": int(self.step_), "seed": int(self.seed_), "history": json.dumps(self.history_),
            "torch_gen": self.gen_.get_state(), "torch_global": self.torch_global_state_,
            "np_rng": json.dumps(self.np_rng_.bit_generator.state),
        }
        return write_checkpoint(path, qualified_name(type(self)), self.step_, state)

    @classmethod
    def load(cls, path: Path | str) -> "GenerativeModel":
        path = Path(path)
        header, state = read_checkpoint(path, qualified_name(cls))
        try:
            obj = cls(**json.loads(state["params"]))
            obj._restore_prepared(state["prepared"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: incompatible checkpoint: {type(exc).__name__}: {exc}") from None
        obj._restore_training_state(state, path)
        for net in obj.nets_.values():
            net.eval()
        return obj

    # -- internals ----------------------------------------------------------------
    def _load_training_state(self, path: Path) -> None:
        header, state = read_checkpoint(path, qualified_name(type(self)))
        saved = json.loads(state["params"])
        mine = self.get_params()
        differ = {k for k in saved if k not in ("steps", "checkpoint_every") and saved.get(k) != mine.get(k)}
        if differ:
            raise CheckpointError(f"{path}: incompatible checkpoint: settings differ from this model's: "
                                  + ", ".join(f"{k}={saved[k]!r} (here {mine.get(k)!r})" for k in sorted(differ)))
        self._restore_training_state(state, path)

    def _restore_training_state(self, state: dict, path: Path) -> None:
        try:
            with torch.random.fork_rng(devices=[]):
                self.nets_ = self._networks()
            for k, net in self.nets_.items():
                net.load_state_dict(state["nets"][k])
            self.opts_ = self._optimizers(self.nets_)
            for k, opt in self.opts_.items():
                opt.load_state_dict(state["opts"][k])
            self.step_ = int(state["step"])
            self.seed_ = int(state["seed"])
            self.history_ = json.loads(state["history"])
            self.gen_ = torch.Generator()
            self.gen_.set_state(state["torch_gen"])
            self.torch_global_state_ = state["torch_global"]
            self.np_rng_ = np.random.default_rng()
            self.np_rng_.bit_generator.state = json.loads(state["np_rng"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{path}: incompatible checkpoint: {type(exc).__name__}: {exc}") from None

    def _check_fitted(self) -> None:
        if not hasattr(self, "nets_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() or load()")
