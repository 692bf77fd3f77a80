"""Classifier two-sample test (C2ST): can a classifier tell sim rows from real rows?

Procedure (Lopez-Paz & Oquab, "Revisiting classifier two-sample tests",
ICLR 2017; here with cross-validation instead of one held-out split):

1. drop rows with NaN (counted), then *balance* the classes: the larger set
   is subsampled (seeded) to the size of the smaller one, at most
   ``max_per_side`` rows each. With equal classes an uninformed classifier
   has accuracy 0.5 and AUC 0.5, which makes 0.5 the null value of both;
2. label sim 0 and real 1, and get an out-of-fold probability of "real" for
   every row with stratified k-fold :func:`sklearn.model_selection.cross_val_predict`
   (each row is scored by a model that did not see it);
3. AUC of those scores (:func:`sklearn.metrics.roc_auc_score`): the
   probability that a random real row is scored more "real" than a random
   sim row. 0.5 = indistinguishable, 1.0 = perfectly separable; below 0.5
   is noise (the classifier cannot do worse than chance on average).

Confidence interval: **DeLong's method** (DeLong, DeLong & Clarke-Pearson,
Biometrics 44, 1988; fast algorithm of Sun & Xu, IEEE SPL 21, 2014) on the
pooled out-of-fold scores, AUC +/- z * se, clipped to [0, 1]. It treats the
scores as given, so it ignores the variability of the fitted models across
folds; it is therefore slightly narrow (the tests measure how often it
covers 0.5 when both sets come from one distribution). At perfect
separation its width is zero. (A stratified bootstrap of the out-of-fold
scores estimates the same quantity, at 1000 times the cost.)

p-values. ``accuracy_p_value_``: one-sided binomial test of the
out-of-fold accuracy (threshold 0.5) against 0.5, as in Lopez-Paz & Oquab.
It treats the rows' correct/incorrect outcomes as independent, which
cross-validation makes only approximately true: measured on two samples
from one distribution (n = 100 per side, 4 features) it falls below 0.05
about 7 % of the time instead of 5 %. ``permutation_p_value_`` (only with
``n_perm > 0``): the whole cross-validation is repeated on ``n_perm``
random relabellings of the rows, p = (1 + #{permuted AUC >= AUC}) /
(1 + n_perm); exact under exchangeable rows, at n_perm times the cost.
Either p says how surprising this much separability would be if sim and
real came from one distribution, not how large the gap is: the AUC says
that.

Under the null, cross-validated AUCs scatter slightly *below* 0.5 on
average (each fold's model is fitted to noise, and the folds' models share
training rows), and more widely than DeLong's variance says: the measured
coverage of the 95 % interval for two samples from one distribution is
about 85-90 % with the default classifier. Read the interval as "the
uncertainty from the finite number of scored rows", a lower bound on the
total uncertainty.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from learners.gap.classifiers import make_classifier
from learners.gap.mmd import subsample_rows
from learners.gap.records import drop_nan_rows

__all__ = ["C2ST", "delong_auc", "wilson_interval"]


def delong_auc(y_true: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """AUC and its DeLong variance, by midranks (O(N log N)); ``y_true`` in {0, 1}, 1 = positive.

    Structural components: V10_i = P(score of positive i > random negative)
    (+1/2 for ties), V01_j likewise for negative j;
    var(AUC) = var(V10) / m + var(V01) / n.
    """
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    pos, neg = s[y], s[~y]
    m, n = pos.size, neg.size
    if m < 2 or n < 2:
        raise ValueError(f"DeLong needs at least 2 positives and 2 negatives, got {m} and {n}")
    tx = stats.rankdata(pos)
    ty = stats.rankdata(neg)
    tz = stats.rankdata(np.concatenate([pos, neg]))
    auc = float((tz[:m].sum() - m * (m + 1) / 2.0) / (m * n))
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - ty) / m
    var = float(np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n)
    return auc, var


def wilson_interval(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k / n at confidence 1 - alpha."""
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=1.0 - alpha, method="wilson")
    return float(ci.low), float(ci.high)


class C2ST:
    """Classifier two-sample test, sim (label 0) vs real (label 1); see the module docstring.

    Parameters
    ----------
    classifier : "quadratic" (default), "logreg", "hgb" or a scikit-learn classifier
        (:mod:`learners.gap.classifiers`).
    n_splits : folds of the stratified cross-validation (reduced if a class has fewer rows).
    max_per_side : at most this many rows per class after balancing (None: no cap).
    alpha : 1 - confidence level of the intervals.
    n_perm : if > 0, also a permutation p-value from this many relabelled cross-validations.
    seed : seeds the balancing subsample, the fold assignment, the classifier and the permutations.

    Attributes after :meth:`fit`
    ----------------------------
    auc_, auc_se_, auc_ci_ (lo, hi), accuracy_, accuracy_ci_ (Wilson), accuracy_p_value_,
    permutation_p_value_ (None unless n_perm > 0), n_per_class_, n_splits_, n_nan_rows_ ((sim, real)), subsampled_,
    y_ and oof_proba_ (labels and out-of-fold P(real), in the order sim rows then real rows),
    roc_ ((fpr, tpr) arrays), ci_method_.
    """

    def __init__(self, classifier: str | BaseEstimator = "quadratic", n_splits: int = 5,
                 max_per_side: int | None = 5000, alpha: float = 0.05, n_perm: int = 0, seed: int = 0):
        self.classifier = classifier
        self.n_splits = n_splits
        self.max_per_side = max_per_side
        self.alpha = alpha
        self.n_perm = n_perm
        self.seed = seed

    def fit(self, X_sim: np.ndarray, X_real: np.ndarray) -> "C2ST":
        """Cross-validate the classifier on the balanced, labelled union of ``X_sim`` and ``X_real``."""
        rng = np.random.default_rng(self.seed)
        X = np.asarray(X_sim, dtype=np.float64)
        Y = np.asarray(X_real, dtype=np.float64)
        X, nan_x = drop_nan_rows(X.reshape(X.shape[0], int(np.prod(X.shape[1:]))))
        Y, nan_y = drop_nan_rows(Y.reshape(Y.shape[0], int(np.prod(Y.shape[1:]))))
        self.n_nan_rows_ = (nan_x, nan_y)
        n = min(X.shape[0], Y.shape[0])
        if self.max_per_side is not None:
            n = min(n, self.max_per_side)
        if n < 2:
            raise ValueError(f"C2ST needs at least 2 rows per side without NaN, got {X.shape[0]} and {Y.shape[0]}")
        self.subsampled_ = bool(n < max(X.shape[0], Y.shape[0]))
        X, Y = subsample_rows(X, n, rng), subsample_rows(Y, n, rng)
        Z = np.vstack([X, Y])
        y = np.concatenate([np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)])
        self.n_per_class_ = n
        self.n_splits_ = int(min(self.n_splits, n))
        split_seed = int(rng.integers(2 ** 31 - 1))
        model_seed = int(rng.integers(2 ** 31 - 1))
        est = make_classifier(self.classifier, Z.shape[1], model_seed, n_rows=Z.shape[0])
        proba = self._oof_proba(est, Z, y, split_seed)
        self.y_, self.oof_proba_ = y, proba
        self.classifier_name_ = self.classifier if isinstance(self.classifier, str) else type(self.classifier).__name__
        self._score(y, proba)
        self.permutation_p_value_ = None
        if self.n_perm > 0:
            null = [roc_auc_score(yp, self._oof_proba(est, Z, yp, split_seed))
                    for yp in (rng.permutation(y) for _ in range(self.n_perm))]
            self.permutation_p_value_ = float((1 + np.sum(np.asarray(null) >= self.auc_)) / (1 + self.n_perm))
        return self

    def _oof_proba(self, est: BaseEstimator, Z: np.ndarray, y: np.ndarray, split_seed: int) -> np.ndarray:
        cv = StratifiedKFold(n_splits=self.n_splits_, shuffle=True, random_state=split_seed)
        return cross_val_predict(est, Z, y, cv=cv, method="predict_proba")[:, 1]

    def _score(self, y: np.ndarray, proba: np.ndarray) -> None:
        z = float(stats.norm.ppf(1.0 - self.alpha / 2.0))
        self.auc_ = float(roc_auc_score(y, proba))
        _, var = delong_auc(y, proba)
        self.auc_se_ = math.sqrt(max(var, 0.0))
        self.auc_ci_ = (max(0.0, self.auc_ - z * self.auc_se_), min(1.0, self.auc_ + z * self.auc_se_))
        correct = int(np.sum((proba > 0.5) == (y == 1)))
        self.accuracy_ = correct / y.size
        self.accuracy_ci_ = wilson_interval(correct, y.size, self.alpha)
        self.accuracy_p_value_ = float(stats.binomtest(correct, y.size, 0.5, alternative="greater").pvalue)
        fpr, tpr, _ = roc_curve(y, proba)
        self.roc_ = (fpr, tpr)
        self.ci_method_ = (f"DeLong (fast midrank algorithm) on the pooled out-of-fold scores, "
                           f"{100 * (1 - self.alpha):g} % normal interval clipped to [0, 1]")

    def to_dict(self) -> dict:
        """The results as plain JSON values (the ROC curve is left out)."""
        return {"auc": self.auc_, "auc_ci": list(self.auc_ci_), "auc_se": self.auc_se_, "ci_method": self.ci_method_,
                "permutation_p_value": self.permutation_p_value_, "n_perm": int(self.n_perm),
                "accuracy": self.accuracy_, "accuracy_ci": list(self.accuracy_ci_),
                "accuracy_p_value": self.accuracy_p_value_, "accuracy_p_value_method": "one-sided binomial vs 0.5",
                "classifier": self.classifier_name_, "n_splits": self.n_splits_, "n_per_class": self.n_per_class_,
                "nan_rows_dropped": list(self.n_nan_rows_), "subsampled": self.subsampled_,
                "max_per_side": self.max_per_side}
