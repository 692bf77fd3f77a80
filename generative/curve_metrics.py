"""Curve metrics of a generator: discriminative score and predictive score on windows.

Both come from TimeGAN (Yoon, Jarrett & van der Schaar, NeurIPS 2019) and
work on sets of windows (:class:`~generative.curve_windows.CurveWindows`).

**Discriminative score** (:class:`CurveDiscriminativeScore`): a post-hoc
classifier learns to tell synthetic windows from real ones;

    score = |held-out accuracy - 0.5|

0 = the classifier does no better than a coin, 0.5 = perfectly separable.
The sets are balanced first (per channel, so the channel mix carries no
information), every window is scored out-of-fold by stratified k-fold
cross-validation (each by a model that did not see it), and the interval
is the Wilson interval of that accuracy over the 2n scored windows,
mapped through |a - 0.5| (:func:`learners.gap.discriminative.score_interval`).
The classifier is the small 1-D CNN of :mod:`generative.curve_classifier`
(``classifier="cnn"``), or any scikit-learn classifier or name known to
:mod:`learners.gap.classifiers` on the flattened windows (e.g.
``"quadratic"``), which reuses :class:`learners.gap.discriminative.DiscriminativeScore`.
Overlapping windows are not independent, so feed it windows that do not
overlap, or the interval will be too narrow.

**Predictive score** (:class:`CurvePredictiveScore`): train-on-synthetic,
test-on-real (TSTR). A small model per channel is trained on synthetic
windows and scored by its mean absolute error on real windows; the same
model trained on real windows (disjoint from the test windows) is the
reference (TRTR). Tasks: predict a window's texture amplitude from the
shape of its smooth part (default: what a conditional texture model must
get right), or the next increment of the curve from its recent past (the
local dynamics, shape and texture together). A synthetic set with the
real structure gives an MAE close to the reference. The interval is a
percentile bootstrap over the test windows.

What the classifier and the predictor see (:func:`window_inputs`):

* ``view="texture"``: the window's texture, ``target - condition`` (the
  curve minus its low-passed part, computed on the whole curve), divided
  by a fixed per-channel scale: the part of the curve that a texture model
  is responsible for;
* ``view="raw"``: the logged window itself, centred and scaled per channel
  by fixed constants: shape and texture together.

Both add one constant one-hot input per channel. Scales are fixed numbers
(e.g. from the real training windows), never fitted on the compared sets,
so they cannot leak the label.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import Ridge
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from generative.curve_classifier import WindowCNN
from generative.curve_windows import CurveWindows

__all__ = ["window_inputs", "balance_by_channel", "CurveDiscriminativeScore", "CurvePredictiveScore"]


def window_inputs(windows: CurveWindows, view: str, scale: dict[str, float], center: dict[str, float] | None = None,
                  channels: Sequence[str] | None = None) -> np.ndarray:
    """``(n, 1 + n_channels, L)`` float32 classifier inputs of ``windows`` (see the module docstring)."""
    channels = tuple(channels or sorted(scale))
    ch = np.asarray([str(c) for c in windows.channel])
    s = np.array([scale[c] for c in ch], dtype=np.float64)[:, None]
    if view == "texture":
        x = windows.residual / s
    elif view == "raw":
        if windows.target is None:
            raise ValueError("raw view needs windows with a target")
        c0 = np.array([(center or {}).get(c, 0.0) for c in ch], dtype=np.float64)[:, None]
        x = (windows.target - c0) / s
    else:
        raise ValueError(f"view must be 'texture' or 'raw', got {view!r}")
    onehot = np.zeros((len(ch), len(channels), windows.length), dtype=np.float32)
    for j, c in enumerate(channels):
        onehot[ch == c, j, :] = 1.0
    return np.concatenate([x[:, None].astype(np.float32), onehot], axis=1)


def balance_by_channel(a: CurveWindows, b: CurveWindows, rng: np.random.Generator,
                       max_per_channel: int | None = None) -> tuple[CurveWindows, CurveWindows]:
    """Equal numbers of windows of each shared channel in ``a`` and ``b`` (random subsets, seeded by ``rng``)."""
    ia, ib = [], []
    for ch in sorted(set(a.channels) & set(b.channels)):
        xa, xb = np.flatnonzero(a.channel == ch), np.flatnonzero(b.channel == ch)
        n = min(xa.size, xb.size, max_per_channel or np.iinfo(np.int64).max)
        ia.append(np.sort(rng.choice(xa, n, replace=False)))
        ib.append(np.sort(rng.choice(xb, n, replace=False)))
    if not ia:
        raise ValueError(f"no channel in common: {a.channels} vs {b.channels}")
    return a.select(np.concatenate(ia)), b.select(np.concatenate(ib))


def _score_interval(acc_ci: tuple[float, float]) -> tuple[float, float]:
    from learners.gap.discriminative import score_interval

    return score_interval(acc_ci)


def _wilson(k: int, n: int, alpha: float) -> tuple[float, float]:
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=1.0 - alpha, method="wilson")
    return float(ci.low), float(ci.high)


class CurveDiscriminativeScore:
    """|out-of-fold accuracy - 0.5| of a synthetic-vs-real classifier on windows; see the module docstring.

    Parameters
    ----------
    classifier : "cnn" (default, :class:`~generative.curve_classifier.WindowCNN`), a name of
        :mod:`learners.gap.classifiers` ("quadratic", "logreg", "hgb") or a scikit-learn classifier
        (the last two on flattened windows).
    n_splits : folds (reduced if a class has fewer windows).
    epochs, min_steps, hidden : of the CNN (:class:`~generative.curve_classifier.WindowCNN`).
    alpha : 1 - confidence level of the interval.
    seed : seeds the folds and the classifiers.

    Attributes after :meth:`fit`
    ----------------------------
    score_, score_ci_, accuracy_, accuracy_ci_, auc_, n_per_class_ (summed over strata), n_splits_, n_strata_,
    oof_proba_, y_ (pooled, stratum after stratum; within one, synthetic then real).
    """

    def __init__(self, classifier: str | BaseEstimator = "cnn", n_splits: int = 5, epochs: int = 40,
                 min_steps: int = 150, hidden: int = 16, alpha: float = 0.05, seed: int = 0):
        self.classifier = classifier
        self.n_splits = n_splits
        self.epochs = epochs
        self.min_steps = min_steps
        self.hidden = hidden
        self.alpha = alpha
        self.seed = seed

    def fit(self, synthetic: np.ndarray | Sequence[np.ndarray],
            real: np.ndarray | Sequence[np.ndarray]) -> "CurveDiscriminativeScore":
        """``synthetic``, ``real``: ``(n, L)`` or ``(n, channels, L)`` inputs of equal numbers of windows.

        Strata: lists of arrays (one pair per stratum, e.g. per cross-fitting
        fold of a generator) are cross-validated stratum by stratum — a
        classifier never mixes strata — and the out-of-fold predictions are
        pooled into one accuracy and interval.
        """
        if isinstance(synthetic, (list, tuple)) != isinstance(real, (list, tuple)):
            raise ValueError("give both sets as arrays or both as lists of strata")
        pairs = list(zip(synthetic, real)) if isinstance(synthetic, (list, tuple)) else [(synthetic, real)]
        if not pairs or (isinstance(synthetic, (list, tuple)) and len(synthetic) != len(real)):
            raise ValueError("need one real array per synthetic array")
        ys, probas, n_total = [], [], 0
        for s, (a, b) in enumerate(pairs):
            y, proba, n = self._stratum(np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32), s)
            ys.append(y)
            probas.append(proba)
            n_total += n
        self.n_strata_ = len(pairs)
        self._finish(np.concatenate(ys), np.concatenate(probas), n_total)
        return self

    def _stratum(self, a: np.ndarray, b: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Labels (synthetic 0, real 1) and out-of-fold P(real) of one stratum."""
        if a.shape[1:] != b.shape[1:]:
            raise ValueError(f"windows must have one shape: {a.shape[1:]} vs {b.shape[1:]}")
        if a.shape[0] != b.shape[0]:
            raise ValueError(f"balance the sets first (balance_by_channel): {a.shape[0]} vs {b.shape[0]} windows")
        n = a.shape[0]
        if n < 4:
            raise ValueError(f"need at least 4 windows per side, got {n}")
        seed = int(self.seed) + 7919 * s
        if not isinstance(self.classifier, str) or self.classifier != "cnn":
            from learners.gap.discriminative import DiscriminativeScore

            clf = self.classifier if isinstance(self.classifier, str) else clone(self.classifier)
            c = DiscriminativeScore(classifier=clf, n_splits=self.n_splits, max_per_side=None, alpha=self.alpha,
                                    seed=seed).fit(a, b).c2st_
            self.n_splits_, self.classifier_name_ = c.n_splits_, c.classifier_name_
            return c.y_, c.oof_proba_, int(c.n_per_class_)
        X = np.concatenate([a, b])
        y = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
        self.n_splits_, self.classifier_name_ = int(min(self.n_splits, n)), "cnn"
        folds = StratifiedKFold(n_splits=self.n_splits_, shuffle=True, random_state=seed)
        proba = np.zeros(2 * n)
        for k, (tr, te) in enumerate(folds.split(X, y)):
            model = WindowCNN(hidden=self.hidden, epochs=self.epochs, min_steps=self.min_steps,
                              seed=seed * 1000 + k).fit(X[tr], y[tr])
            proba[te] = model.predict_proba(X[te])[:, 1]
        return y, proba, n

    def _finish(self, y: np.ndarray, proba: np.ndarray, n: int) -> None:
        self.y_, self.oof_proba_ = y, proba
        correct = int(np.sum((proba > 0.5) == (y == 1)))
        self.accuracy_ = correct / y.size
        self.accuracy_ci_ = _wilson(correct, y.size, self.alpha)
        self.score_ = abs(self.accuracy_ - 0.5)
        self.score_ci_ = _score_interval(self.accuracy_ci_)
        self.auc_ = float(roc_auc_score(y, proba))
        self.n_per_class_ = int(n)

    def to_dict(self) -> dict:
        return {"score": self.score_, "score_ci": list(self.score_ci_), "accuracy": self.accuracy_,
                "accuracy_ci": list(self.accuracy_ci_), "auc": self.auc_, "n_per_class": self.n_per_class_,
                "n_splits": self.n_splits_, "n_strata": self.n_strata_, "classifier": self.classifier_name_,
                "ci_method": "Wilson interval of the out-of-fold accuracy, mapped through |a - 0.5|",
                "convention": "TimeGAN: |accuracy - 0.5|; 0 = indistinguishable, 0.5 = perfectly separable"}


class CurvePredictiveScore:
    """Train-on-X, test-on-real error of a small per-channel model; see the module docstring.

    Two tasks (``task``):

    * ``"texture_amplitude"`` (default): from the shape of a window's smooth
      part (mean and largest slope, largest curvature, spread and level, all
      in units of the channel ``scale`` and ``asinh``-compressed) predict
      the log of its texture amplitude, ``log(sd(target - condition) / scale
      + 0.001)``, with a small gradient-boosted tree model
      (:class:`sklearn.ensemble.HistGradientBoostingRegressor`, depth 3).
      The error is in natural-log units (0.1 = 10 % off). This asks exactly
      what a conditional texture model claims to know: how rough a curve is
      where it moves like this.
    * ``"next_increment"``: ridge regression of the next increment
      ``x[t] - x[t-1]`` on the ``lags`` previous samples taken relative to
      ``x[t-1]`` (blind to the level, sees only the local dynamics, shape
      and texture together), in units of ``scale``.

    Parameters
    ----------
    task : "texture_amplitude" or "next_increment".
    lags, ridge_alpha : of the next-increment model.
    n_boot : bootstrap resamples (over test windows) of the interval; alpha : 1 - confidence level.
    seed : seeds the tree model and the bootstrap.

    Attributes after :meth:`fit`
    ----------------------------
    mae_ (mean over channels of the per-channel MAE), mae_ci_,
    per_channel_ ({channel: {"mae", "n_train_windows", "n_test_windows"}}).
    """

    TASKS = ("texture_amplitude", "next_increment")

    def __init__(self, task: str = "texture_amplitude", lags: int = 16, ridge_alpha: float = 1.0, n_boot: int = 500,
                 alpha: float = 0.05, seed: int = 0):
        self.task = task
        self.lags = lags
        self.ridge_alpha = ridge_alpha
        self.n_boot = n_boot
        self.alpha = alpha
        self.seed = seed

    # -- next increment --------------------------------------------------------------------------
    def _xy(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Design ``(n * (L - lags), lags)`` relative to the last seen sample, and the next increments."""
        p = int(self.lags)
        if w.shape[1] <= p:
            raise ValueError(f"windows of {w.shape[1]} samples are too short for {p} lags")
        idx = np.arange(w.shape[1] - p)[:, None] + np.arange(p)[None, :]
        past = w[:, idx]                                   # (n, L - p, p)
        last = past[..., -1:]
        return (past - last).reshape(-1, p), (w[:, p:] - last[..., 0]).reshape(-1)

    def _increment_errors(self, train: CurveWindows, test: CurveWindows, s: float) -> np.ndarray:
        Xtr, ytr = self._xy(np.asarray(train.target, dtype=np.float64) / s)
        model = Ridge(alpha=float(self.ridge_alpha)).fit(Xtr, ytr)
        wt = np.asarray(test.target, dtype=np.float64) / s
        Xte, yte = self._xy(wt)
        return np.abs(model.predict(Xte) - yte).reshape(wt.shape[0], -1).mean(axis=1)

    # -- texture amplitude -------------------------------------------------------------------------
    @staticmethod
    def shape_features(condition: np.ndarray, s: float) -> np.ndarray:
        """Per window: asinh of mean |slope|, max |slope|, max |curvature|, sd and mean, in units of ``s``."""
        c = np.asarray(condition, dtype=np.float64) / s
        d1 = np.abs(np.diff(c, axis=1))
        d2 = np.abs(np.diff(c, n=2, axis=1))
        return np.arcsinh(np.column_stack([d1.mean(1), d1.max(1), d2.max(1), c.std(1), c.mean(1)]))

    @staticmethod
    def log_amplitude(windows: CurveWindows, s: float) -> np.ndarray:
        return np.log(np.std(np.asarray(windows.residual, dtype=np.float64) / s, axis=1) + 1e-3)

    def _amplitude_errors(self, train: CurveWindows, test: CurveWindows, s: float) -> np.ndarray:
        from sklearn.ensemble import HistGradientBoostingRegressor

        model = HistGradientBoostingRegressor(max_depth=3, max_iter=100, learning_rate=0.1,
                                              min_samples_leaf=max(2, min(20, len(train) // 5)),
                                              random_state=int(self.seed))
        model.fit(self.shape_features(train.condition, s), self.log_amplitude(train, s))
        return np.abs(model.predict(self.shape_features(test.condition, s)) - self.log_amplitude(test, s))

    def fit(self, train: CurveWindows | Sequence[CurveWindows], test: CurveWindows | Sequence[CurveWindows],
            scale: dict[str, float] | Sequence[dict[str, float]]) -> "CurvePredictiveScore":
        """Train on ``train`` windows, score on the real ``test`` windows, channel by channel.

        Strata (e.g. cross-fitting folds): lists of windows (and of scales),
        one model per stratum and channel, test errors pooled.
        """
        if self.task not in self.TASKS:
            raise ValueError(f"task must be one of {self.TASKS}, got {self.task!r}")
        many = isinstance(train, (list, tuple))
        trains, tests = (list(train), list(test)) if many else ([train], [test])
        scales = list(scale) if isinstance(scale, (list, tuple)) else [scale] * len(trains)
        if not (len(trains) == len(tests) == len(scales)) or not trains:
            raise ValueError("train, test and scale need one entry per stratum")
        rng = np.random.default_rng(self.seed)
        errs: dict[str, list[np.ndarray]] = {}
        n_train: dict[str, int] = {}
        for tr, te, sc in zip(trains, tests, scales):
            for ch in sorted(set(tr.channels) & set(te.channels)):
                a, b = tr.of_channel(ch), te.of_channel(ch)
                e = (self._amplitude_errors if self.task == "texture_amplitude" else self._increment_errors)(
                    a, b, float(sc[ch]))
                errs.setdefault(ch, []).append(e)
                n_train[ch] = n_train.get(ch, 0) + len(a)
        if not errs:
            raise ValueError("no channel in both train and test windows")
        pooled = {ch: np.concatenate(v) for ch, v in errs.items()}
        channels = sorted(pooled)
        self.per_channel_ = {ch: {"mae": float(pooled[ch].mean()), "n_train_windows": n_train[ch],
                                  "n_test_windows": int(pooled[ch].size)} for ch in channels}
        self.mae_ = float(np.mean([pooled[c].mean() for c in channels]))
        boots = np.array([np.mean([rng.choice(pooled[c], pooled[c].size).mean() for c in channels])
                          for _ in range(int(self.n_boot))])
        self.mae_ci_ = (float(np.quantile(boots, self.alpha / 2)), float(np.quantile(boots, 1 - self.alpha / 2)))
        self.channels_ = tuple(channels)
        return self

    def to_dict(self) -> dict:
        model = ("gradient-boosted trees (depth 3) of log texture amplitude on the smooth part's shape"
                 if self.task == "texture_amplitude" else
                 f"ridge(alpha={self.ridge_alpha}) of the next increment on {self.lags} lags")
        unit = "natural log of the amplitude" if self.task == "texture_amplitude" else "channel scale"
        return {"task": self.task, "mae": self.mae_, "mae_ci": list(self.mae_ci_), "mae_unit": unit,
                "per_channel": self.per_channel_, "model": model + ", one per channel",
                "ci_method": f"percentile bootstrap over test windows ({self.n_boot} resamples)"}
