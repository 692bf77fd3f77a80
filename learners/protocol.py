"""One protocol for every learner on the molding stream (River-like, scikit-learn-shaped).

A learner consumes *records* — one dict per cycle, as a row of
``cycles.parquet`` (plus the cycle's curves for curve learners) — and
labels taken from the record's ``target`` column::

    learner.learn_one(x, y)          # one labelled record
    learner.predict_one(x)           # -> label
    learner.predict_proba_one(x)     # -> {label: probability}
    learner.learn_many(X, y)         # a mini-batch: pyarrow Table, list of dicts or dict of columns
    learner.predict_many(X)          # -> list of labels
    learner.predict_scored_many(X)   # -> (labels, P(not good) per record), in one pass
    learner.fit(X, y)                # forget everything, then learn X (scikit-learn's fit)
    learner.save(path)               # atomic; Learner.load(path) / ThatClass.load(path)

As in River, ``learn_*`` returns nothing useful (``self``) and a learner
predicts from the first call on (before it has seen a label it predicts
``good``: the prior of a running process). As in scikit-learn,
``__init__`` only stores its arguments (``get_params`` / ``clone`` work),
everything learned is in trailing-underscore attributes, and randomness
comes from an explicit ``seed``.

Targets (:attr:`Learner.target`): ``"good"`` (bool: is the part good?) or
``"defect_type"`` (``"good"`` or a defect name, see
:func:`learners.records.label_of`). :func:`learners.records.to_good` maps a
label of either kind to good / not good, which is what the online runner's
binary metrics use. The positive class of those metrics is the *bad* part
(recall of fails = the share of bad parts the learner flags).

Files: :mod:`learners.storage` (a checked envelope; a corrupt, truncated,
foreign or incompatible file is a :class:`~learners.storage.LearnerFileError`
naming the file).
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from sklearn.base import BaseEstimator

from learners.records import as_rows, label_of
from learners.storage import (LearnerFileError, pickle_payload, read_learner_file, unpickle_payload,
                              write_learner_file)

__all__ = ["Learner", "load_learner", "fail_probability", "qualified_name"]


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class Learner(BaseEstimator):
    """Base class of the stream learners; see the module docstring for the protocol.

    Subclasses implement :meth:`learn_one` and :meth:`predict_proba_one`
    (or the ``*_many`` versions for mini-batch learners) and may override
    :meth:`_dump` / :meth:`_restore` to save something other than a pickle
    of themselves.
    """

    #: The record column labels come from: ``"good"`` or ``"defect_type"``.
    target: str = "good"
    #: True when the records must carry the cycle's sensor curves.
    needs_curves: bool = False

    # -- learning -----------------------------------------------------------
    def learn_one(self, x: dict, y: Any) -> "Learner":
        return self.learn_many([x], [y])

    def learn_many(self, X: Any, y: Any = None) -> "Learner":
        """Learn a mini-batch; ``y`` defaults to the records' own labels (rows without a label are skipped)."""
        if type(self).learn_one is Learner.learn_one:
            raise NotImplementedError(f"{type(self).__name__} implements neither learn_one nor learn_many")
        rows, labels = self._rows_and_labels(X, y)
        for r, lab in zip(rows, labels):
            self.learn_one(r, lab)
        return self

    def fit(self, X: Any, y: Any = None) -> "Learner":
        """Forget what was learned, then learn ``X`` (scikit-learn's ``fit``)."""
        self._reset()
        return self.learn_many(X, y)

    def _reset(self) -> None:
        """Drop every learned (trailing-underscore) attribute."""
        for k in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, k)

    # -- predicting ---------------------------------------------------------
    def predict_proba_one(self, x: dict) -> dict:
        return self.predict_proba_many([x])[0]

    def predict_proba_many(self, X: Any) -> list[dict]:
        if type(self).predict_proba_one is Learner.predict_proba_one:
            raise NotImplementedError(f"{type(self).__name__} implements neither predict_proba_one nor "
                                      "predict_proba_many")
        return [self.predict_proba_one(r) for r in as_rows(X)]

    def predict_one(self, x: dict) -> Any:
        return self.predict_many([x])[0]

    def predict_many(self, X: Any) -> list:
        return [max(p, key=p.get) for p in self.predict_proba_many(X)]

    def predict_scored_many(self, X: Any) -> tuple[list, list[float]]:
        """Labels and P(not good) of a mini-batch in one pass (what the online runner calls).

        The default calls :meth:`predict_many` and :meth:`predict_proba_many`;
        learners whose prediction is expensive compute both at once.
        """
        return self.predict_many(X), [fail_probability(p) for p in self.predict_proba_many(X)]

    # -- files ----------------------------------------------------------------
    def save(self, path: Path | str) -> Path:
        """Write the learner to ``path`` atomically (temporary file + rename); returns the path."""
        kind, payload = self._dump()
        return write_learner_file(path, qualified_name(type(self)), kind, payload,
                                  extra={"params": _plain(self.get_params())})

    @classmethod
    def load(cls, path: Path | str) -> "Learner":
        """Read a learner written by :meth:`save`.

        ``Learner.load`` reads any learner class of this package;
        ``SomeLearner.load`` insists on that class.
        """
        expected = None if cls is Learner else qualified_name(cls)
        header, payload = read_learner_file(path, expected)
        target = cls if expected is not None else _import_class(header.get("class"), path)
        return target._restore(header, payload, Path(path))

    def _dump(self) -> tuple[str, bytes]:
        return "pickle", pickle_payload(self)

    @classmethod
    def _restore(cls, header: dict, payload: bytes, path: Path) -> "Learner":
        if header.get("payload") != "pickle":
            raise LearnerFileError(f"{path}: incompatible learner file: payload {header.get('payload')!r} for {cls}")
        obj = unpickle_payload(payload, path)
        if not isinstance(obj, cls):
            raise LearnerFileError(f"{path}: incompatible learner file: holds a {type(obj).__name__}, "
                                   f"not a {cls.__name__}")
        return obj

    # -- helpers ----------------------------------------------------------------
    def _rows_and_labels(self, X: Any, y: Any) -> tuple[list[dict], list]:
        """Rows of ``X`` with their labels (from ``y`` or the rows), dropping unlabelled rows."""
        rows = as_rows(X)
        if y is None:
            labels = [label_of(r, self.target) for r in rows]
        else:
            labels = list(y.to_pylist() if hasattr(y, "to_pylist") else y)
            if len(labels) != len(rows):
                raise ValueError(f"{len(rows)} records but {len(labels)} labels")
        keep = [i for i, lab in enumerate(labels) if lab is not None]
        if len(keep) == len(rows):
            return rows, labels
        return [rows[i] for i in keep], [labels[i] for i in keep]


def load_learner(path: Path | str) -> Learner:
    """Read any learner file written by :meth:`Learner.save`."""
    return Learner.load(path)


def fail_probability(proba: dict) -> float:
    """P(not good) from a ``predict_proba_one`` dict of either target kind."""
    if not proba:
        return 0.0
    keys = set(proba)
    if keys <= {True, False}:
        return float(proba.get(False, 0.0))
    return float(1.0 - proba.get("good", 0.0))


def _import_class(name: Any, path: Path | str) -> type:
    if not isinstance(name, str) or not name.startswith("learners.") or "." not in name:
        raise LearnerFileError(f"{path}: incompatible learner file: unknown learner class {name!r}")
    module, _, attr = name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise LearnerFileError(f"{path}: incompatible learner file: class {name} is not available ({exc})") from None
    if not (isinstance(cls, type) and issubclass(cls, Learner)):
        raise LearnerFileError(f"{path}: incompatible learner file: {name} is not a learner")
    return cls


def _plain(params: dict) -> dict:
    out = {}
    for k, v in params.items():
        if v is None or isinstance(v, (bool, int, float, str)):
            out[k] = v
        elif isinstance(v, (list, tuple)) and all(isinstance(e, (bool, int, float, str)) for e in v):
            out[k] = list(v)
        else:
            out[k] = repr(v)
    return out
