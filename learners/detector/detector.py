"""The digit detector behind the learner protocol: billet faces in, character detections out.

:class:`DigitDetector` trains the Faster R-CNN of :mod:`learners.detector.model`
from scratch (no pretrained weights) on billet records
(:mod:`learners.detector.dataset`) and predicts, per image, a
:class:`~learners.detector.detections.Detections` — boxes, characters,
scores and ranked alternatives per box.

* ``fit(X)``: ``X`` is a run folder (or several), a ``billets`` table, row
  dicts or :class:`~learners.detector.dataset.BilletImage` samples; the
  labels are the records' own boxes (``y`` must be None). Trains ``steps``
  optimiser steps of ``batch_size`` images with AdamW, a linear warm-up of
  ``warmup_steps`` and a cosine decay to ``final_lr_factor x lr``,
  gradient-norm clipping and photometric jitter
  (:mod:`learners.detector.augment`).
* ``sampling="balanced"`` (default) draws the images of a step with
  weights that favour rare characters (:func:`balanced_weights`);
  ``"epochs"`` goes through the images in shuffled passes.
* ``learn_many(X)`` on a fitted detector: ``online_steps`` steps on the new
  images at ``online_lr_factor x lr`` (fine-tuning); on an unfitted one:
  ``fit``.
* ``predict_many(X)``: one ``Detections`` per image, every group with a
  score >= the model's ``box_score_thresh`` (0.05) — alternatives for the ID
  decoder; ``Detections.above(score_threshold)`` is the detector's answer
  that the metrics score (``score_threshold`` default 0.5).

**Determinism and exact resume.** Training is a pure function of
``(seed, step)``: the images of step t are drawn (balanced sampling) from
a ``torch.Generator`` seeded with ``(seed, t)``, or (``"epochs"``) are
positions ``t*B .. t*B+B-1`` of an endless sequence of per-epoch
permutations seeded with ``(seed, epoch)``; the jitter of step t comes from
a generator seeded with ``(seed, t)``; the network's own random draws
(Faster R-CNN samples anchors and proposals with ``torch.randperm`` on the
global RNG) happen inside ``torch.random.fork_rng`` seeded with
``(seed, t)``, so the caller's global RNG is left as it was. The weights
are initialised the same way. A checkpoint (every ``checkpoint_every``
steps to ``checkpoint_path``, written atomically through
:func:`learners.storage.write_learner_file`) holds the weights, BatchNorm
statistics, optimiser moments, step and loss history; ``fit(X,
resume=True)`` continues from it and reaches bit-identical weights to an
uninterrupted run (same thread count, same torch). The checkpoint records a
fingerprint of the training images and the training settings; resuming on
other data or settings is an error naming the file.
"""
from __future__ import annotations

import logging
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from learners.detector.augment import photometric_jitter
from learners.detector.dataset import BilletImage, as_billet_images, data_fingerprint, label_char
from learners.detector.detections import Detections, group_detections
from learners.detector.model import DetectorSpec, build_faster_rcnn, resolve_spec
from learners.protocol import Learner, qualified_name
from learners.records import LearnerInputError
from learners.storage import LearnerFileError, torch_payload, untorch_payload

__all__ = ["DigitDetector", "balanced_weights"]

log = logging.getLogger(__name__)

#: Settings that must match for a checkpoint to be resumed.
_RESUME_KEYS = ("model", "model_overrides", "batch_size", "lr", "weight_decay", "warmup_steps", "final_lr_factor",
                "grad_clip", "augment", "sampling", "seed")


def _seed_for(seed: int, *tags: int) -> int:
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *[int(t) for t in tags]]).generate_state(1)[0])


@lru_cache(maxsize=64)
def _epoch_order(n: int, seed: int, tag: int, epoch: int) -> tuple[int, ...]:
    g = torch.Generator().manual_seed(_seed_for(seed, 1, tag, epoch))
    return tuple(torch.randperm(n, generator=g).tolist())


class DigitDetector(Learner):
    """Faster R-CNN character detector for billet faces; see the module docstring.

    Parameters: ``model`` (a preset of :data:`learners.detector.model.PRESETS`:
    ``"small_chars"``, ``"tiny"``, ``"torchvision"``), ``model_overrides``
    (dict of :class:`~learners.detector.model.DetectorSpec` settings),
    ``steps``, ``batch_size``, ``lr``, ``weight_decay``, ``warmup_steps``,
    ``final_lr_factor``, ``grad_clip``, ``augment``, ``sampling``, ``online_steps``,
    ``online_lr_factor``, ``score_threshold`` (the operating point of the
    reading), ``group_iou`` (merging per-class detections),
    ``predict_batch_size``, ``checkpoint_every`` (0: never),
    ``checkpoint_path``, ``seed``.
    """

    target = "boxes"
    needs_curves = False
    needs_images = True

    def __init__(self, model: str = "small_chars", model_overrides: dict | None = None, steps: int = 1500,
                 batch_size: int = 4, lr: float = 1e-3, weight_decay: float = 1e-4, warmup_steps: int = 100,
                 final_lr_factor: float = 0.05, grad_clip: float = 10.0, augment: bool = True,
                 online_steps: int = 10, online_lr_factor: float = 0.1, score_threshold: float = 0.5,
                 group_iou: float = 0.5, predict_batch_size: int = 8, sampling: str = "balanced",
                 checkpoint_every: int = 0, checkpoint_path: str | Path | None = None, seed: int = 0):
        self.model = model
        self.model_overrides = model_overrides
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_steps = warmup_steps
        self.final_lr_factor = final_lr_factor
        self.grad_clip = grad_clip
        self.augment = augment
        self.online_steps = online_steps
        self.online_lr_factor = online_lr_factor
        self.score_threshold = score_threshold
        self.group_iou = group_iou
        self.predict_batch_size = predict_batch_size
        self.sampling = sampling
        self.checkpoint_every = checkpoint_every
        self.checkpoint_path = checkpoint_path
        self.seed = seed

    # -- training -----------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, progress: Callable[[int, int], None] | None = None,
            resume: bool = False) -> "DigitDetector":
        """Train from scratch on ``X`` (or continue the checkpoint with ``resume=True``); see the module docstring.

        ``progress(step, steps)`` is called after every step.
        """
        samples = self._samples(X, y)
        if not samples:
            raise LearnerInputError("no billet images to train on")
        fingerprint = data_fingerprint(samples)
        if resume and self._resume_from_checkpoint(fingerprint):
            log.info("resuming from %s at step %d of %d", self.checkpoint_path, self.step_, self.steps)
        else:
            self._reset()
            self._init_state(fingerprint, len(samples))
        self._train(samples, self.step_, int(self.steps), tag=0, progress=progress)
        return self

    def learn_many(self, X: Any, y: Any = None) -> "DigitDetector":
        """Fine-tune a fitted detector on new images (``online_steps`` steps); ``fit`` when unfitted."""
        if not hasattr(self, "model_"):
            return self.fit(X, y)
        samples = self._samples(X, y)
        if not samples:
            return self
        self.n_updates_ += 1
        self._train(samples, 0, int(self.online_steps), tag=self.n_updates_)
        return self

    def learn_one(self, x: Any, y: Any = None) -> "DigitDetector":
        return self.learn_many([x] if not isinstance(x, (list, tuple)) else x, None)

    def _samples(self, X: Any, y: Any) -> list[BilletImage]:
        if y is not None and not (isinstance(y, (list, tuple)) and all(v is None for v in y)):
            raise ValueError("the detector's labels are the records' boxes: call fit(X) without y")
        return as_billet_images(X)

    def _init_state(self, fingerprint: str, n_images: int) -> None:
        if int(self.steps) < 0 or int(self.batch_size) < 1:
            raise ValueError(f"steps must be >= 0 and batch_size >= 1, got {self.steps}, {self.batch_size}")
        self.spec_ = resolve_spec(self.model, self.model_overrides)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seed_for(self.seed, 0))
            self.model_ = build_faster_rcnn(self.spec_)
        self.model_.eval()
        self.optimizer_ = torch.optim.AdamW([p for p in self.model_.parameters() if p.requires_grad],
                                            lr=float(self.lr), weight_decay=float(self.weight_decay))
        self.step_ = 0
        self.n_updates_ = 0
        self.history_: list[dict] = []
        self.data_fingerprint_ = fingerprint
        self.n_train_images_ = int(n_images)

    def lr_at(self, step: int) -> float:
        """Learning rate of step ``step`` (0-based): linear warm-up, then cosine to ``final_lr_factor x lr``."""
        warm = min(1.0, (step + 1) / max(1, int(self.warmup_steps)))
        t = min(1.0, step / max(1, int(self.steps)))
        f = float(self.final_lr_factor)
        return float(self.lr) * warm * (f + (1.0 - f) * 0.5 * (1.0 + math.cos(math.pi * t)))

    def _batch(self, n: int, step: int, tag: int, weights: torch.Tensor | None = None) -> list[int]:
        bs = int(self.batch_size)
        if weights is not None:
            g = torch.Generator().manual_seed(_seed_for(self.seed, 1, tag, 1 << 30, step))
            return torch.multinomial(weights, bs, replacement=True, generator=g).tolist()
        out = []
        for q in range(step * bs, step * bs + bs):
            epoch, r = divmod(q, n)
            out.append(_epoch_order(n, int(self.seed), int(tag), epoch)[r])
        return out

    def _train(self, samples: list[BilletImage], start: int, stop: int, tag: int,
               progress: Callable[[int, int], None] | None = None) -> None:
        model, opt = self.model_, self.optimizer_
        params = [p for p in model.parameters() if p.requires_grad]
        every = int(self.checkpoint_every or 0)
        if every and self.checkpoint_path is None:
            raise ValueError("checkpoint_every needs a checkpoint_path")
        if self.sampling not in ("epochs", "balanced"):
            raise ValueError(f"sampling must be 'epochs' or 'balanced', got {self.sampling!r}")
        weights = balanced_weights(samples) if self.sampling == "balanced" else None
        model.train()
        try:
            for step in range(start, stop):
                idx = self._batch(len(samples), step, tag, weights)
                gen = torch.Generator().manual_seed(_seed_for(self.seed, 2, tag, step))
                images = []
                for i in idx:
                    img = samples[i].float_image()
                    images.append(photometric_jitter(img, gen) if self.augment else img)
                targets = [samples[i].target() for i in idx]
                lr = self.lr_at(step) if tag == 0 else float(self.lr) * float(self.online_lr_factor)
                for group in opt.param_groups:
                    group["lr"] = lr
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(_seed_for(self.seed, 3, tag, step))
                    losses = model(images, targets)
                    loss = sum(losses.values())
                    if not torch.isfinite(loss):
                        raise FloatingPointError(f"training loss is not finite at step {step} "
                                                 f"({ {k: float(v) for k, v in losses.items()} }); lower lr")
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    if self.grad_clip:
                        torch.nn.utils.clip_grad_norm_(params, float(self.grad_clip))
                    opt.step()
                row = {"update": int(tag), "step": step + 1, "lr": lr, "loss": float(loss.detach())}
                row.update({k: float(v.detach()) for k, v in losses.items()})
                self.history_.append(row)
                if tag == 0:
                    self.step_ = step + 1
                    if every and self.step_ % every == 0 and self.step_ < stop:
                        self.save(self.checkpoint_path)
                if progress is not None:
                    progress(step + 1, stop)
        finally:
            model.eval()

    def _resume_from_checkpoint(self, fingerprint: str) -> bool:
        if self.checkpoint_path is None:
            raise ValueError("resume needs a checkpoint_path")
        path = Path(self.checkpoint_path)
        if not path.exists():
            log.info("no checkpoint at %s: training from scratch", path)
            return False
        ckpt = type(self).load(path)
        mine, theirs = self.get_params(), ckpt.get_params()
        diff = [k for k in _RESUME_KEYS if _norm(mine[k]) != _norm(theirs[k])]
        if diff:
            raise LearnerFileError(f"{path}: checkpoint was trained with other settings "
                                   f"({', '.join(f'{k}={theirs[k]!r} here {mine[k]!r}' for k in diff)})")
        if ckpt.data_fingerprint_ != fingerprint:
            raise LearnerFileError(f"{path}: checkpoint was trained on other images (fingerprint "
                                   f"{ckpt.data_fingerprint_}, these are {fingerprint})")
        if ckpt.step_ > int(self.steps):
            raise LearnerFileError(f"{path}: checkpoint is at step {ckpt.step_}, beyond steps={self.steps}")
        self._reset()
        for k in ("spec_", "model_", "optimizer_", "step_", "n_updates_", "history_", "data_fingerprint_",
                  "n_train_images_"):
            setattr(self, k, getattr(ckpt, k))
        return True

    # -- predicting ---------------------------------------------------------
    def predict_many(self, X: Any) -> list[Detections]:
        """One :class:`Detections` per image (all groups >= the model's ``box_score_thresh``)."""
        samples = as_billet_images(X)
        if not hasattr(self, "model_"):
            return [Detections.empty() for _ in samples]
        model = self.model_
        model.eval()
        out: list[Detections] = []
        bs = max(1, int(self.predict_batch_size))
        with torch.inference_mode():
            for s in range(0, len(samples), bs):
                res = model([x.float_image() for x in samples[s:s + bs]])
                for r in res:
                    chars = [label_char(int(v)) for v in r["labels"]]
                    out.append(group_detections(r["boxes"].numpy(), chars, r["scores"].numpy(), self.group_iou))
        return out

    def predict_one(self, x: Any) -> Detections:
        return self.predict_many([x] if not isinstance(x, (list, tuple)) else x)[0]

    def read_many(self, X: Any) -> list[Detections]:
        """The detector's answer at its operating point: ``predict_many`` filtered at ``score_threshold``."""
        return [d.above(float(self.score_threshold)) for d in self.predict_many(X)]

    def predict_proba_many(self, X: Any) -> list[dict]:
        raise NotImplementedError("the digit detector predicts boxes (predict_many), not class probabilities")

    def predict_scored_many(self, X: Any):
        raise NotImplementedError("the digit detector predicts boxes (predict_many), not good / not good")

    # -- files ----------------------------------------------------------------
    def _dump(self) -> tuple[str, bytes]:
        if not hasattr(self, "model_"):
            raise RuntimeError("DigitDetector is not fitted: call fit first")
        params = self.get_params()
        params["checkpoint_path"] = None if params["checkpoint_path"] is None else str(params["checkpoint_path"])
        state = {"params": params, "spec": self.spec_.to_dict(), "model": self.model_.state_dict(),
                 "optimizer": self.optimizer_.state_dict(), "step": int(self.step_),
                 "n_updates": int(self.n_updates_), "history": list(self.history_),
                 "data_fingerprint": self.data_fingerprint_, "n_train_images": int(self.n_train_images_)}
        return "torch", torch_payload(state)

    @classmethod
    def _restore(cls, header: dict, payload: bytes, path: Path) -> "DigitDetector":
        if header.get("payload") != "torch":
            raise LearnerFileError(f"{path}: incompatible learner file: payload {header.get('payload')!r}, "
                                   f"expected 'torch' for {qualified_name(cls)}")
        state = untorch_payload(payload, path)
        try:
            obj = cls(**state["params"])
            obj.spec_ = DetectorSpec.from_dict(state["spec"])
            obj.model_ = build_faster_rcnn(obj.spec_)
            obj.model_.load_state_dict(state["model"])
            obj.model_.eval()
            obj.optimizer_ = torch.optim.AdamW([p for p in obj.model_.parameters() if p.requires_grad],
                                               lr=float(obj.lr), weight_decay=float(obj.weight_decay))
            obj.optimizer_.load_state_dict(state["optimizer"])
            obj.step_ = int(state["step"])
            obj.n_updates_ = int(state["n_updates"])
            obj.history_ = [dict(h) for h in state["history"]]
            obj.data_fingerprint_ = str(state["data_fingerprint"])
            obj.n_train_images_ = int(state["n_train_images"])
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise LearnerFileError(f"{path}: incompatible learner file: cannot rebuild the detector "
                                   f"({type(exc).__name__}: {exc})") from exc
        return obj


def balanced_weights(samples: list[BilletImage], power: float = 0.5) -> torch.Tensor:
    """Sampling weight per image: ``max over its characters of count(char) ** -power``.

    The characters of billet IDs are far from balanced: the heat digits
    repeat for ~100 billets, a caster has one letter, and each of the 26
    letters turns up only as the occasional check character. Drawing
    images with these weights shows an image with a rare letter
    ``sqrt(count_common / count_rare)`` times more often (e.g. ~8x for a
    letter seen 17 times against a digit seen 1,000 times) — oversampling,
    which the study's conclusions recommend for under-represented classes.
    An image without characters gets the weight of the most common one.
    """
    from collections import Counter

    counts = Counter(c for s in samples for c in s.chars)
    floor = max(counts.values(), default=1)
    w = [max((counts[c] ** -power for c in s.chars), default=floor ** -power) for s in samples]
    return torch.tensor(w, dtype=torch.float64)


def _norm(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in sorted(v.items())}
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    return v
