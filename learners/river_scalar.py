"""River's own online classifiers on the scalar features of a cycle.

:class:`RiverScalarClassifier` is a River pipeline
``preprocessing.StandardScaler() | model`` behind the learner protocol
(:mod:`learners.protocol`), predicting whether a part is good from the
numbers a machine logs per cycle (times, cushion, pressures,
temperatures, weights) and its setpoints — never ``hidden_*`` simulator
state. ``model``:

==========================  ===========================================================
``"logreg"``                ``linear_model.LogisticRegression`` (SGD, ``lr``, ``l2``)
``"hoeffding"``             ``tree.HoeffdingTreeClassifier`` (``grace_period``)
``"hoeffding_adaptive"``    ``tree.HoeffdingAdaptiveTreeClassifier``: replaces subtrees
                            when an ADWIN inside sees their error change (seeded)
==========================  ===========================================================

River learns one record at a time; the scaler's running mean and variance
are updated by ``learn_one`` only, so a prediction never sees its own
record. Missing values (None/NaN) are left out of the record's dict, which
River treats as "feature absent".

Imbalance: scrap is rare (1 % in the KAMP log), and a learner that always
says "good" is 99 % accurate. ``class_weight="balanced"`` weighs each
record by ``n / (2 n_class)`` of the labels seen so far (River's
``learn_one(x, y, w)``), capped at ``max_weight`` so the first rare label
does not blow up the SGD step. The positive class of the model is "not
good" (a fail); ``threshold`` is the P(fail) above which a part is called
bad.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from learners.protocol import Learner
from learners.records import scalar_feature_names, to_good

__all__ = ["RiverScalarClassifier", "RIVER_MODELS"]

RIVER_MODELS: tuple[str, ...] = ("logreg", "hoeffding", "hoeffding_adaptive")


class RiverScalarClassifier(Learner):
    """Online good/not-good classifier on scalar cycle features (a River pipeline).

    Parameters: ``model`` (see the module docstring), ``features`` (column
    names; None = the logged features and setpoints present in the first
    record learned), ``class_weight`` (``"balanced"`` or None),
    ``max_weight``, ``threshold`` (P(fail) that calls a part bad), ``lr``
    and ``l2`` (logistic regression), ``grace_period`` (trees), ``seed``
    (adaptive tree).
    """

    target = "good"

    def __init__(self, model: str = "logreg", features: Sequence[str] | None = None,
                 class_weight: str | None = "balanced", max_weight: float = 50.0, threshold: float = 0.5,
                 lr: float = 0.01, l2: float = 0.0, grace_period: int = 200, seed: int = 0):
        self.model = model
        self.features = features
        self.class_weight = class_weight
        self.max_weight = max_weight
        self.threshold = threshold
        self.lr = lr
        self.l2 = l2
        self.grace_period = grace_period
        self.seed = seed

    def _make_model(self):
        from river import linear_model, optim, tree

        if self.model == "logreg":
            return linear_model.LogisticRegression(optimizer=optim.SGD(self.lr), l2=self.l2)
        if self.model == "hoeffding":
            return tree.HoeffdingTreeClassifier(grace_period=self.grace_period)
        if self.model == "hoeffding_adaptive":
            return tree.HoeffdingAdaptiveTreeClassifier(grace_period=self.grace_period, seed=self.seed)
        raise ValueError(f"unknown River model {self.model!r}; expected one of {RIVER_MODELS}")

    def _build(self, x: dict) -> None:
        from river import preprocessing

        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be 'balanced' or None, got {self.class_weight!r}")
        self.pipeline_ = preprocessing.StandardScaler() | self._make_model()
        self.features_ = list(self.features) if self.features is not None else scalar_feature_names(x)
        if not self.features_:
            raise ValueError("no scalar feature in the record (expected logged features such as cycle_time_s)")
        self.counts_ = {True: 0, False: 0}  # by "fail"

    def _x(self, row: dict) -> dict:
        out = {}
        for f in self.features_:
            v = row.get(f)
            if v is None:
                continue
            v = float(v)
            if math.isfinite(v):
                out[f] = v
        return out

    def learn_one(self, x: dict, y: Any) -> "RiverScalarClassifier":
        good = to_good(y)
        if good is None:
            return self
        if not hasattr(self, "pipeline_"):
            self._build(x)
        fail = not good
        self.counts_[fail] += 1
        w = 1.0
        if self.class_weight == "balanced":
            n = self.counts_[True] + self.counts_[False]
            w = min(float(self.max_weight), n / (2.0 * self.counts_[fail]))
        self.pipeline_.learn_one(self._x(x), fail, w=w)
        return self

    def predict_proba_one(self, x: dict) -> dict:
        if not hasattr(self, "pipeline_") or min(self.counts_.values()) == 0:
            # Nothing learned yet, or only one class seen: the seen class (good before any label).
            fail_seen = hasattr(self, "counts_") and self.counts_[True] > 0 and self.counts_[False] == 0
            return {True: 0.0, False: 1.0} if fail_seen else {True: 1.0, False: 0.0}
        p = self.pipeline_.predict_proba_one(self._x(x))
        p_fail = float(p.get(True, 0.0)) if p else 0.0
        return {True: 1.0 - p_fail, False: p_fail}

    def predict_one(self, x: dict) -> bool:
        return self.predict_proba_one(x)[False] < self.threshold

    def predict_many(self, X: Any) -> list:
        return [p[False] < self.threshold for p in self.predict_proba_many(X)]

    def predict_scored_many(self, X: Any) -> tuple[list, list[float]]:
        p_fail = [p[False] for p in self.predict_proba_many(X)]
        return [p < self.threshold for p in p_fail], p_fail
