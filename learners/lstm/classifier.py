"""The LSTM cycle classifier behind the learner protocol: curves in, good / defect type out.

:class:`LSTMCycleClassifier` reads a cycle's sensor curves (a record with
one array per channel, a ``curves.parquet`` row, or a prepared
:class:`~learners.lstm.dataset.CurveBatch`), puts them on the fine grid,
scales them with the training set's medians and IQRs, subsamples them
(offset sampling in training, :mod:`learners.lstm.dataset`) and runs the
two-headed network of :mod:`learners.lstm.model`.

Labels are of the ``defect_type`` kind (``"good"``, ``"sink_marks"``, ...;
a bool ``good`` is accepted and mapped to ``"good"`` / ``"not_good"``).
The prediction combines the heads so that they never disagree: a part is
``"good"`` when P(fail) from the binary head is below ``threshold``,
otherwise it is the most probable defect type of the defect head (``good``
excluded). ``predict_proba_*`` gives P(good) = 1 - P(fail) and
P(d) = P(fail) x q(d | not good).

* ``fit(X, y)``: fits the scaler on ``X`` only, builds the network, and
  trains ``epochs`` passes over the (augmented) training sequences with
  Adam, class-weighted losses and gradient clipping.
* ``learn_one`` / ``learn_many`` on a fitted model: ``online_epochs``
  passes over the new records (fine-tuning; the scaler stays fixed); on an
  unfitted one: ``fit``.
* ``predict_offsets="first"`` predicts from offset 0 (one sequence per
  cycle); ``"all"`` averages the probabilities over the k offsets (k x the
  cost).

Determinism: the weights are initialised and dropout drawn inside
``torch.random.fork_rng`` seeded from ``seed`` (the global torch RNG is
left as it was), batches are shuffled with a seeded ``torch.Generator``;
on CPU with the same thread count two fits give identical weights. The
thread count itself is the caller's (CLI, benchmark) business.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.nn import functional as F

from learners.lstm.dataset import CurveBatch, CurveGrid, curves_to_grid, offset_sample
from learners.lstm.model import CycleLSTM, class_weights
from learners.lstm.scaling import RobustChannelScaler
from learners.protocol import Learner, qualified_name
from learners.records import NOT_GOOD, LearnerInputError, as_rows, label_of
from learners.storage import LearnerFileError, torch_payload, untorch_payload

__all__ = ["LSTMCycleClassifier"]

_IGNORE = -100


def _seed_for(seed: int, *tags: int) -> int:
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *tags]).generate_state(1)[0])


class LSTMCycleClassifier(Learner):
    """Good / defect-type classifier of molding cycles from their sensor curves; see the module docstring.

    Parameters: ``channels`` (None = every curve channel of the training
    data), ``length`` (points per sequence), ``stride`` (k of offset
    sampling; the sequence spacing is k x ``sample_interval_ms``),
    ``offset_sampling`` (train on all k offsets, else offset 0 only),
    ``hidden_size``, ``num_layers``, ``dropout``, ``epochs``,
    ``batch_size``, ``lr``, ``weight_decay``, ``class_weight``
    (``"balanced"`` or None), ``defect_loss_weight`` (weight of the
    defect-type loss against the binary one), ``grad_clip``,
    ``online_epochs``, ``predict_offsets`` (``"first"`` or ``"all"``),
    ``threshold`` (P(fail) that calls a part bad), ``pooling`` (how the
    LSTM's outputs become one vector, :data:`~learners.lstm.model.POOLINGS`),
    ``seed``.

    Defaults measured on the twin (``scenarios/lstm_offset_sampling.py``,
    10 lots, 400 training cycles, 3 x 100, 8 epochs, no offsets): the
    final hidden state as readout (``pooling="last"``) underfits — the
    settings that decide a defect (hold, clamp) sit in the first half of the
    12 s window, 150 steps before its end — with held-out accuracy 0.55 at
    lr 1e-3 or 3e-3; the mean over time (``"mean"``) reaches 0.81 at lr 1e-3
    and 0.85 at lr 3e-3 (1e-2 diverges to 0.49).
    """

    target = "defect_type"
    needs_curves = True

    def __init__(self, channels: Sequence[str] | None = None, length: int = 300, stride: int = 4,
                 sample_interval_ms: float = 10.0, offset_sampling: bool = True, hidden_size: int = 100,
                 num_layers: int = 3, dropout: float = 0.2, epochs: int = 10, batch_size: int = 32,
                 lr: float = 3e-3, weight_decay: float = 0.0, class_weight: str | None = "balanced",
                 defect_loss_weight: float = 1.0, grad_clip: float = 1.0, online_epochs: int = 1,
                 predict_offsets: str = "first", threshold: float = 0.5, pooling: str = "mean", seed: int = 0):
        self.channels = channels
        self.length = length
        self.stride = stride
        self.sample_interval_ms = sample_interval_ms
        self.offset_sampling = offset_sampling
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.class_weight = class_weight
        self.defect_loss_weight = defect_loss_weight
        self.grad_clip = grad_clip
        self.online_epochs = online_epochs
        self.predict_offsets = predict_offsets
        self.threshold = threshold
        self.pooling = pooling
        self.seed = seed

    @property
    def grid(self) -> CurveGrid:
        return CurveGrid(int(self.length), int(self.stride), float(self.sample_interval_ms) / 1000.0)

    # -- inputs -------------------------------------------------------------
    def as_batch(self, X: Any, y: Any = None, *, need_labels: bool = False) -> CurveBatch:
        """``X`` (records, a curves Table or a CurveBatch) on this model's grid and channels, with labels."""
        grid = self.grid
        if isinstance(X, CurveBatch):
            batch = X
            if abs(batch.sample_interval_s - grid.sample_interval_s) > 1e-9 * grid.sample_interval_s:
                raise LearnerInputError(f"curve batch on a {batch.sample_interval_s * 1000:g} ms grid, the model "
                                        f"reads {grid.sample_interval_s * 1000:g} ms")
            if batch.values.shape[2] < grid.fine_points:
                raise LearnerInputError(f"curve batch of {batch.values.shape[2]} points, the model reads "
                                        f"{grid.fine_points}")
            channels = self._channels_for(batch.channels)
            idx = [batch.channels.index(c) for c in channels]
            values = batch.values[:, idx, :grid.fine_points] if (
                idx != list(range(len(batch.channels))) or batch.values.shape[2] != grid.fine_points) else batch.values
            labels = batch.labels
        else:
            rows = as_rows(X)
            if not rows:
                raise LearnerInputError("no records")
            channels = self._channels_for(_curve_keys(rows[0]))
            values = curves_to_grid(rows, channels, grid)
            labels = None if y is not None else [label_of(r, self.target) if "good" in r or "defect_type" in r
                                                 else None for r in rows]
        if y is not None:
            labels = [_as_defect_label(v) for v in (y.to_pylist() if hasattr(y, "to_pylist") else y)]
            if len(labels) != values.shape[0]:
                raise ValueError(f"{values.shape[0]} records but {len(labels)} labels")
        if need_labels:
            if labels is None or all(lab is None for lab in labels):
                raise LearnerInputError("no labels: give y, or records with 'good' / 'defect_type'")
            keep = [i for i, lab in enumerate(labels) if lab is not None]
            if len(keep) < len(labels):
                values, labels = values[keep], [labels[i] for i in keep]
        return CurveBatch(values, tuple(channels), grid.sample_interval_s, labels)

    def _channels_for(self, available: Sequence[str]) -> tuple[str, ...]:
        want = getattr(self, "channels_", None) or (tuple(self.channels) if self.channels is not None else None)
        if want is None:
            return tuple(available)
        missing = [c for c in want if c not in available]
        if missing:
            raise LearnerInputError(f"missing curve channel(s) {missing}")
        return tuple(want)

    # -- training -----------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, progress: Callable[[int, int], None] | None = None
            ) -> "LSTMCycleClassifier":
        """Fit scaler and network on ``X`` (see the module docstring); ``progress(epoch, epochs)`` per epoch."""
        if self.predict_offsets not in ("first", "all"):
            raise ValueError(f"predict_offsets must be 'first' or 'all', got {self.predict_offsets!r}")
        batch = self.as_batch(X, y, need_labels=True)
        self._reset()
        self.channels_ = batch.channels
        self.scaler_ = RobustChannelScaler(seed=self.seed).fit(batch.values)
        present = set(batch.labels)
        self.classes_ = ["good"] + sorted(present - {"good"})
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seed_for(self.seed, 0))
            self.model_ = CycleLSTM(len(self.channels_), len(self.classes_), self.hidden_size, self.num_layers,
                                    self.dropout, self.pooling)
        self.optimizer_ = torch.optim.Adam(self.model_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        fails = np.array([lab != "good" for lab in batch.labels])
        counts = torch.tensor([sum(lab == c for lab in batch.labels) for c in self.classes_])
        if self.class_weight == "balanced":
            n_fail, n_good = int(fails.sum()), int((~fails).sum())
            self.pos_weight_ = float(np.clip(n_good / n_fail, 0.01, 100.0)) if n_fail and n_good else 1.0
            self.class_weights_ = class_weights(counts)
        elif self.class_weight is None:
            self.pos_weight_ = 1.0
            self.class_weights_ = torch.ones(len(self.classes_))
        else:
            raise ValueError(f"class_weight must be 'balanced' or None, got {self.class_weight!r}")
        self.history_: list[dict] = []
        self.n_updates_ = 0
        self._train(batch.values, batch.labels, int(self.epochs), tag=0, progress=progress)
        return self

    def learn_many(self, X: Any, y: Any = None) -> "LSTMCycleClassifier":
        if not hasattr(self, "model_"):
            return self.fit(X, y)
        batch = self.as_batch(X, y, need_labels=False)
        keep = [i for i, lab in enumerate(batch.labels or []) if lab is not None]
        if not keep:
            return self
        self.n_updates_ += 1
        self._train(batch.values[keep], [batch.labels[i] for i in keep], int(self.online_epochs),
                    tag=self.n_updates_)
        return self

    def learn_one(self, x: dict, y: Any) -> "LSTMCycleClassifier":
        return self.learn_many([x], [y])

    def training_sequences(self, values: np.ndarray, offsets: Sequence[int] | None = None
                           ) -> tuple[torch.Tensor, np.ndarray]:
        """Scaled ``(M, length, C)`` float32 sequences of fine-grid ``values`` and each one's cycle index.

        ``offsets`` None: all k offsets if ``offset_sampling`` else offset 0.
        """
        if offsets is None:
            offsets = range(int(self.stride)) if self.offset_sampling else (0,)
        seqs, cyc = offset_sample(values, int(self.stride), offsets)  # scaling is per sample: subsample first
        seqs = self.scaler_.transform(seqs)
        return torch.from_numpy(np.ascontiguousarray(seqs.transpose(0, 2, 1))), cyc

    def _train(self, values: np.ndarray, labels: list, epochs: int, tag: int,
               progress: Callable[[int, int], None] | None = None) -> None:
        X, cyc = self.training_sequences(values)
        index = {c: i for i, c in enumerate(self.classes_)}
        y_fail = torch.tensor([lab != "good" for lab in labels], dtype=torch.float32)[cyc]
        y_cls = torch.tensor([index.get(lab, _IGNORE) for lab in labels], dtype=torch.long)[cyc]
        pos_weight = torch.tensor(self.pos_weight_)
        gen = torch.Generator().manual_seed(_seed_for(self.seed, 1, tag))
        M, bs = X.shape[0], max(1, int(self.batch_size))
        model, opt = self.model_, self.optimizer_
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seed_for(self.seed, 2, tag))
            model.train()
            try:
                for ep in range(epochs):
                    perm = torch.randperm(M, generator=gen)
                    total, n = 0.0, 0
                    for s in range(0, M, bs):
                        idx = perm[s:s + bs]
                        fail_logit, defect_logits = model(X[idx])
                        loss = F.binary_cross_entropy_with_logits(fail_logit, y_fail[idx], pos_weight=pos_weight)
                        yc = y_cls[idx]
                        if self.defect_loss_weight and bool((yc != _IGNORE).any()):
                            loss = loss + float(self.defect_loss_weight) * F.cross_entropy(
                                defect_logits, yc, weight=self.class_weights_, ignore_index=_IGNORE)
                        opt.zero_grad(set_to_none=True)
                        loss.backward()
                        if self.grad_clip:
                            torch.nn.utils.clip_grad_norm_(model.parameters(), float(self.grad_clip))
                        opt.step()
                        total += float(loss.detach()) * int(idx.shape[0])
                        n += int(idx.shape[0])
                    self.history_.append({"update": int(tag), "epoch": ep + 1, "loss": total / max(n, 1),
                                          "sequences": int(M)})
                    if progress is not None:
                        progress(ep + 1, epochs)
            finally:
                model.eval()

    # -- predicting ---------------------------------------------------------
    def probabilities(self, X: Any, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """``(p_fail (N,), q (N, K))``: P(not good) and the defect head's softmax over ``classes_``."""
        self._check_fitted()
        batch = self.as_batch(X)
        return self._probabilities(batch.values, batch_size)

    def _probabilities(self, values: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        N = values.shape[0]
        offsets = (0,) if self.predict_offsets == "first" else tuple(range(int(self.stride)))
        seqs, _ = self.training_sequences(values, offsets)
        model = self.model_
        model.eval()
        p_parts, q_parts = [], []
        with torch.inference_mode():
            for s in range(0, seqs.shape[0], batch_size):
                fl, dl = model(seqs[s:s + batch_size])
                p_parts.append(torch.sigmoid(fl))
                q_parts.append(torch.softmax(dl, dim=-1))
        k = len(offsets)
        p = torch.cat(p_parts).numpy().reshape(N, k).mean(axis=1) if N else np.zeros(0)
        q = torch.cat(q_parts).numpy().reshape(N, k, -1).mean(axis=1) if N else np.zeros((0, len(self.classes_)))
        return p.astype(np.float64), q.astype(np.float64)

    def _labels(self, p: np.ndarray, q: np.ndarray) -> list[str]:
        defects = [i for i, c in enumerate(self.classes_) if c != "good"]
        out = []
        for i in range(p.shape[0]):
            if p[i] < self.threshold:
                out.append("good")
            elif defects:
                out.append(self.classes_[defects[int(np.argmax(q[i, defects]))]])
            else:
                out.append(NOT_GOOD)
        return out

    def predict_many(self, X: Any) -> list[str]:
        if not hasattr(self, "model_"):
            return ["good"] * len(X if isinstance(X, CurveBatch) else as_rows(X))
        return self._labels(*self.probabilities(X))

    def predict_scored_many(self, X: Any) -> tuple[list[str], list[float]]:
        if not hasattr(self, "model_"):
            n = len(X if isinstance(X, CurveBatch) else as_rows(X))
            return ["good"] * n, [0.0] * n
        p, q = self.probabilities(X)
        return self._labels(p, q), p.tolist()

    def predict_one(self, x: dict) -> str:
        return self.predict_many([x])[0]

    def predict_proba_many(self, X: Any) -> list[dict]:
        if not hasattr(self, "model_"):
            return [{"good": 1.0} for _ in range(len(X if isinstance(X, CurveBatch) else as_rows(X)))]
        p, q = self.probabilities(X)
        defects = [i for i, c in enumerate(self.classes_) if c != "good"]
        out = []
        for i in range(p.shape[0]):
            d = {"good": float(1.0 - p[i])}
            if defects:
                qd = q[i, defects]
                qd = qd / qd.sum() if qd.sum() > 0 else np.full(len(defects), 1.0 / len(defects))
                for j, c in zip(defects, qd):
                    d[self.classes_[j]] = float(p[i] * c)
            else:
                d[NOT_GOOD] = float(p[i])
            out.append(d)
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("LSTMCycleClassifier is not fitted: call fit or learn_many first")

    # -- files ----------------------------------------------------------------
    def _dump(self) -> tuple[str, bytes]:
        self._check_fitted()
        params = self.get_params()
        if params["channels"] is not None:
            params["channels"] = list(params["channels"])
        state = {"params": params, "channels": list(self.channels_), "classes": list(self.classes_),
                 "center": torch.from_numpy(self.scaler_.center_), "scale": torch.from_numpy(self.scaler_.scale_),
                 "model": self.model_.state_dict(), "optimizer": self.optimizer_.state_dict(),
                 "pos_weight": float(self.pos_weight_), "class_weights": self.class_weights_,
                 "history": list(self.history_), "n_updates": int(self.n_updates_)}
        return "torch", torch_payload(state)

    @classmethod
    def _restore(cls, header: dict, payload: bytes, path: Path) -> "LSTMCycleClassifier":
        if header.get("payload") != "torch":
            raise LearnerFileError(f"{path}: incompatible learner file: payload {header.get('payload')!r}, "
                                   f"expected 'torch' for {qualified_name(cls)}")
        state = untorch_payload(payload, path)
        try:
            obj = cls(**state["params"])
            obj.channels_ = tuple(state["channels"])
            obj.classes_ = list(state["classes"])
            scaler = RobustChannelScaler(seed=obj.seed)
            scaler.center_ = state["center"].numpy().astype(np.float32)
            scaler.scale_ = state["scale"].numpy().astype(np.float32)
            obj.scaler_ = scaler
            obj.model_ = CycleLSTM(len(obj.channels_), len(obj.classes_), obj.hidden_size, obj.num_layers,
                                   obj.dropout, obj.pooling)
            obj.model_.load_state_dict(state["model"])
            obj.model_.eval()
            obj.optimizer_ = torch.optim.Adam(obj.model_.parameters(), lr=obj.lr, weight_decay=obj.weight_decay)
            obj.optimizer_.load_state_dict(state["optimizer"])
            obj.pos_weight_ = float(state["pos_weight"])
            obj.class_weights_ = state["class_weights"]
            obj.history_ = list(state["history"])
            obj.n_updates_ = int(state["n_updates"])
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise LearnerFileError(f"{path}: incompatible learner file: cannot rebuild the LSTM "
                                   f"({type(exc).__name__}: {exc})") from exc
        return obj


def _as_defect_label(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return "good" if v else NOT_GOOD
    return str(v)


def _curve_keys(row: dict) -> list[str]:
    """Keys of ``row`` that hold a curve (a sequence of numbers), in the schema's channel order first."""
    from twin.schema import CURVES_SCHEMA

    def is_curve(v: Any) -> bool:
        return isinstance(v, (np.ndarray, list, tuple)) and not isinstance(v, (str, bytes))

    known = [f.name for f in CURVES_SCHEMA if f.name in row and (row[f.name] is None or is_curve(row[f.name]))]
    extra = sorted(k for k, v in row.items() if k not in known and is_curve(v))
    return known + extra
