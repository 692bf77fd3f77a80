"""A batch baseline on scalar features: scikit-learn gradient boosting, refitted as labels arrive.

For logs that hold only per-cycle numbers (KAMP: times, cushion, pressures,
temperatures; no curves) the strong default of tabular data is gradient
boosting on trees. :class:`GradientBoostingScalar` wraps scikit-learn's
``HistGradientBoostingClassifier`` (handles missing values natively,
``class_weight="balanced"`` for the rare fails) behind the learner
protocol:

* ``fit(X, y)``: one batch fit;
* ``learn_one`` / ``learn_many``: the records are kept, and the model is
  refitted on everything kept (or the last ``max_rows``) once
  ``refit_every`` new labels have come in — a batch learner made usable on
  a stream, at a cost that grows with the data (about a second per refit
  on 5,000 rows). Between refits its predictions do not change.

Until both classes have been seen it predicts the class it has seen
(``good`` before any label), as the River learners do.

Threads: each fit and prediction runs with ``n_threads`` OpenMP threads
(default 1). On a stream the model predicts one record at a time and
refits on a few thousand rows; there, threads gain nothing and on a
shared machine cost a lot (measured on the KAMP stream with the other
core busy: 175 s with the default threads, 12 s with one).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from learners.protocol import Learner
from learners.records import as_rows, scalar_feature_names, to_good

__all__ = ["GradientBoostingScalar"]


class GradientBoostingScalar(Learner):
    """Good/not-good from scalar features with ``HistGradientBoostingClassifier``; see the module docstring.

    Parameters: ``features`` (None = logged features and setpoints present
    in the first records), ``refit_every`` (labels between refits on a
    stream), ``max_rows`` (fit on the last N labelled records; None = all),
    ``max_iter``, ``learning_rate``, ``max_leaf_nodes``, ``min_samples_leaf``,
    ``class_weight``, ``threshold`` (P(fail) that calls a part bad),
    ``n_threads`` (OpenMP threads of each fit and prediction; None = the
    library's default), ``seed``.
    """

    target = "good"

    def __init__(self, features: Sequence[str] | None = None, refit_every: int = 250, max_rows: int | None = None,
                 max_iter: int = 150, learning_rate: float = 0.1, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 10, class_weight: str | None = "balanced", threshold: float = 0.5,
                 n_threads: int | None = 1, seed: int = 0):
        self.features = features
        self.refit_every = refit_every
        self.max_rows = max_rows
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.class_weight = class_weight
        self.threshold = threshold
        self.n_threads = n_threads
        self.seed = seed

    # -- learning -----------------------------------------------------------
    def _matrix(self, rows: list[dict]) -> np.ndarray:
        X = np.full((len(rows), len(self.features_)), np.nan)
        for i, r in enumerate(rows):
            for j, f in enumerate(self.features_):
                v = r.get(f)
                if v is not None:
                    X[i, j] = float(v)
        X[~np.isfinite(X)] = np.nan
        return X

    def _start(self, rows: list[dict]) -> None:
        if hasattr(self, "features_"):
            return
        names = list(self.features) if self.features is not None else scalar_feature_names(rows[0])
        if not names:
            raise ValueError("no scalar feature in the records (expected logged features such as cycle_time_s)")
        self.features_ = names
        self.X_: list[np.ndarray] = []
        self.y_: list[np.ndarray] = []
        self.n_labels_ = 0
        self.n_at_fit_ = 0
        self.n_fits_ = 0

    def learn_one(self, x: dict, y: Any) -> "GradientBoostingScalar":
        return self.learn_many([x], [y])

    def learn_many(self, X: Any, y: Any = None, *, refit: bool | None = None) -> "GradientBoostingScalar":
        rows, labels = self._rows_and_labels(X, y)
        if not rows:
            return self
        self._start(rows)
        fails = np.array([not to_good(lab) for lab in labels], dtype=bool)
        self.X_.append(self._matrix(rows))
        self.y_.append(fails)
        self.n_labels_ += len(rows)
        due = self.n_labels_ - self.n_at_fit_ >= int(self.refit_every) or not hasattr(self, "model_")
        if refit if refit is not None else due:
            self._refit()
        return self

    def fit(self, X: Any, y: Any = None) -> "GradientBoostingScalar":
        self._reset()
        return self.learn_many(X, y, refit=True)

    def _refit(self) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        X = np.concatenate(self.X_)
        yf = np.concatenate(self.y_)
        if len(self.X_) > 64:  # keep the buffers few and large
            self.X_, self.y_ = [X], [yf]
        if self.max_rows is not None and X.shape[0] > self.max_rows:
            X, yf = X[-int(self.max_rows):], yf[-int(self.max_rows):]
            self.X_, self.y_ = [X], [yf]
        self.n_at_fit_ = self.n_labels_
        if yf.all() or not yf.any():
            self.model_ = bool(yf[0])  # one class seen: predict it (True = fail)
            return
        model = HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                               max_leaf_nodes=self.max_leaf_nodes,
                                               min_samples_leaf=self.min_samples_leaf,
                                               class_weight=self.class_weight, early_stopping=False,
                                               random_state=self.seed)
        # Columns without a single value (a setpoint the log lacks) say nothing, and break the binning.
        self.used_ = np.flatnonzero(np.isfinite(X).any(axis=0))
        with self._threads():
            model.fit(X[:, self.used_], yf)
        self.model_ = model
        self.n_fits_ += 1

    def _threads(self):
        from contextlib import nullcontext

        return nullcontext() if self.n_threads is None else _controller().limit(limits=int(self.n_threads),
                                                                               user_api="openmp")

    # -- predicting ---------------------------------------------------------
    def fail_probabilities(self, X: Any) -> np.ndarray:
        """P(fail) per record, vectorised."""
        rows = as_rows(X)
        if not hasattr(self, "model_"):
            return np.zeros(len(rows))
        if isinstance(self.model_, bool):
            return np.full(len(rows), 1.0 if self.model_ else 0.0)
        with self._threads():
            proba = self.model_.predict_proba(self._matrix(rows)[:, self.used_])
        col = list(self.model_.classes_).index(True)
        return proba[:, col]

    def predict_proba_many(self, X: Any) -> list[dict]:
        return [{True: 1.0 - p, False: p} for p in self.fail_probabilities(X).tolist()]

    def predict_many(self, X: Any) -> list:
        return [bool(p < self.threshold) for p in self.fail_probabilities(X)]

    def predict_scored_many(self, X: Any) -> tuple[list, list[float]]:
        p = self.fail_probabilities(X)
        return [bool(v < self.threshold) for v in p], p.tolist()

    def predict_one(self, x: dict) -> bool:
        return self.predict_many([x])[0]


_CONTROLLER = None


def _controller():
    """One threadpoolctl controller per process (finding the thread pools is the slow part)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER
