"""Discriminative score on raw curves: how well a classifier tells sim curves from real ones.

The convention of TimeGAN (Yoon, Jarrett & van der Schaar, NeurIPS 2019):
train a post-hoc classifier to separate real from synthetic sequences and
report

    discriminative score = |accuracy - 0.5|

0 means the classifier does no better than a coin (the curves are
indistinguishable to it), 0.5 means it separates them perfectly. TimeGAN
uses a 2-layer RNN and one held-out split; here the classifier is a
scikit-learn model (see :mod:`learners.gap.classifiers`; the default
"quadratic" model uses each grid point and its square, so it sees both
shifted levels and changed noise/spread of the curves) on the curves
resampled onto a common grid (:func:`learners.gap.curves.resample_curves`),
flattened channel after channel, with the cross-validated, class-balanced
procedure of :class:`learners.gap.c2st.C2ST`. A small 1-D CNN would see
local shapes better; torch is not a dependency of the project yet.

The interval: Wilson interval of the out-of-fold accuracy (a binomial
proportion over the 2n scored curves), mapped through |a - 0.5| — it
contains 0 whenever the accuracy interval contains 0.5. Because of the
absolute value the score is biased upwards near 0, and cross-validation
adds a slight below-chance bias: two sets of 150 curves from one
generator give out-of-fold accuracies around 0.49 +/- 0.03, i.e. scores of
0.01-0.07, and the accuracy interval misses 0.5 in roughly one case in six.
Compare the score with its interval and with the score of two sim runs
against each other, not with 0.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from learners.gap.c2st import C2ST

__all__ = ["DiscriminativeScore", "score_interval"]


def score_interval(acc_ci: tuple[float, float]) -> tuple[float, float]:
    """The interval of |a - 0.5| for a in ``acc_ci``."""
    lo, hi = acc_ci
    ends = (abs(lo - 0.5), abs(hi - 0.5))
    return (0.0 if lo <= 0.5 <= hi else min(ends)), max(ends)


class DiscriminativeScore:
    """|cross-validated accuracy - 0.5| of a sim-vs-real classifier on resampled curves.

    Parameters
    ----------
    classifier, n_splits, max_per_side, alpha, seed : as in :class:`learners.gap.c2st.C2ST`.

    Attributes after :meth:`fit`
    ----------------------------
    score_, score_ci_, accuracy_, accuracy_ci_, auc_, n_per_class_, n_inputs_ (values per curve
    row), c2st_ (the fitted :class:`~learners.gap.c2st.C2ST`).
    """

    def __init__(self, classifier: str | BaseEstimator = "quadratic", n_splits: int = 5,
                 max_per_side: int | None = 1000, alpha: float = 0.05, seed: int = 0):
        self.classifier = classifier
        self.n_splits = n_splits
        self.max_per_side = max_per_side
        self.alpha = alpha
        self.seed = seed

    def fit(self, curves_sim: np.ndarray, curves_real: np.ndarray) -> "DiscriminativeScore":
        """``curves_*``: ``(n, n_channels, n_points)`` (or ``(n, n_points)``) arrays on one common grid."""
        a = np.asarray(curves_sim, dtype=np.float64)
        b = np.asarray(curves_real, dtype=np.float64)
        if a.shape[1:] != b.shape[1:]:
            raise ValueError(f"curves must share one grid: {a.shape[1:]} vs {b.shape[1:]}")
        width = int(np.prod(a.shape[1:]))
        a, b = a.reshape(a.shape[0], width), b.reshape(b.shape[0], width)
        self.n_inputs_ = int(a.shape[1])
        c = C2ST(classifier=self.classifier, n_splits=self.n_splits, max_per_side=self.max_per_side,
                 alpha=self.alpha, seed=self.seed).fit(a, b)
        self.c2st_ = c
        self.accuracy_, self.accuracy_ci_ = c.accuracy_, c.accuracy_ci_
        self.score_ = abs(c.accuracy_ - 0.5)
        self.score_ci_ = score_interval(c.accuracy_ci_)
        self.auc_ = c.auc_
        self.n_per_class_ = c.n_per_class_
        return self

    def to_dict(self) -> dict:
        return {"score": self.score_, "score_ci": list(self.score_ci_), "accuracy": self.accuracy_,
                "accuracy_ci": list(self.accuracy_ci_), "auc": self.auc_, "n_per_class": self.n_per_class_,
                "inputs_per_curve_row": self.n_inputs_, "classifier": self.c2st_.classifier_name_,
                "n_splits": self.c2st_.n_splits_, "nan_rows_dropped": list(self.c2st_.n_nan_rows_),
                "ci_method": "Wilson interval of the out-of-fold accuracy, mapped through |a - 0.5|",
                "convention": "TimeGAN: |accuracy - 0.5|; 0 = indistinguishable, 0.5 = perfectly separable"}
