"""Classification metrics of a molding classifier: good / not good, and the defect type.

:func:`binary_metrics` scores labels of either target kind as good / not
good with the *fail* (a bad part) as the positive class — the plant's
question is "how many bad parts do we catch, and how many good ones do we
throw away":

==========================  ===========================================================
``accuracy``                share of parts classified right
``balanced_accuracy``       mean of recall of fails and recall of good parts
                            (0.5 for a classifier that always says "good")
``recall_fail``             share of bad parts flagged (sensitivity); None without fails
``precision_fail``          share of flagged parts that are bad; None if none flagged
``f1_fail``                 harmonic mean of the two; None if either is None
``false_alarm_rate``        share of good parts flagged (1 - specificity)
``confusion``               ``{"tp", "fn", "fp", "tn"}`` counts (positive = fail)
==========================  ===========================================================

:func:`multiclass_metrics` scores defect-type labels: accuracy, macro-F1
(unweighted mean of the per-class F1 over the classes in the truth or the
predictions: a rare defect counts as much as a common one), per-class
precision / recall / F1 / support and the confusion matrix.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from learners.records import to_good

__all__ = ["binary_metrics", "multiclass_metrics", "safe_ratio"]


def safe_ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def binary_metrics(y_true: Sequence[Any], y_pred: Sequence[Any], p_fail: Sequence[float] | None = None) -> dict:
    """Good / not-good metrics (positive = fail); see the module docstring. Unlabelled rows are skipped.

    With ``p_fail`` (P(not good) per row) also ``auc_fail`` (ROC AUC, None with one class only).
    """
    t = [to_good(v) for v in y_true]
    p = [to_good(v) for v in y_pred]
    keep = [i for i, v in enumerate(t) if v is not None and p[i] is not None]
    tf = np.array([not t[i] for i in keep], dtype=bool)
    pf = np.array([not p[i] for i in keep], dtype=bool)
    tp, fn = int(np.sum(tf & pf)), int(np.sum(tf & ~pf))
    fp, tn = int(np.sum(~tf & pf)), int(np.sum(~tf & ~pf))
    n = tp + fn + fp + tn
    rec, prec = safe_ratio(tp, tp + fn), safe_ratio(tp, tp + fp)
    spec = safe_ratio(tn, tn + fp)
    f1 = None if rec is None or prec is None or rec + prec == 0 else 2 * rec * prec / (rec + prec)
    bal = None if rec is None or spec is None else (rec + spec) / 2
    out = {"n": n, "accuracy": safe_ratio(tp + tn, n), "balanced_accuracy": bal, "recall_fail": rec,
           "precision_fail": prec, "f1_fail": f1, "false_alarm_rate": None if spec is None else 1 - spec,
           "fail_rate_true": safe_ratio(tp + fn, n), "fail_rate_pred": safe_ratio(tp + fp, n),
           "confusion": {"tp": tp, "fn": fn, "fp": fp, "tn": tn}}
    if p_fail is not None:
        from sklearn.metrics import roc_auc_score

        s = np.asarray([p_fail[i] for i in keep], dtype=float)
        out["auc_fail"] = float(roc_auc_score(tf, s)) if 0 < tf.sum() < tf.size else None
    return out


def multiclass_metrics(y_true: Sequence[Any], y_pred: Sequence[Any]) -> dict:
    """Defect-type metrics: accuracy, macro-F1, per-class scores, confusion matrix (rows = truth)."""
    keep = [i for i, v in enumerate(y_true) if v is not None and y_pred[i] is not None]
    t = [str(y_true[i]) for i in keep]
    p = [str(y_pred[i]) for i in keep]
    classes = sorted(set(t) | set(p), key=lambda c: (c != "good", c))
    idx = {c: i for i, c in enumerate(classes)}
    cm = np.zeros((len(classes), len(classes)), dtype=int)
    for a, b in zip(t, p):
        cm[idx[a], idx[b]] += 1
    per = {}
    f1s = []
    for c, i in idx.items():
        tp = cm[i, i]
        prec = safe_ratio(tp, cm[:, i].sum())
        rec = safe_ratio(tp, cm[i, :].sum())
        f1 = 0.0 if not prec or not rec else 2 * prec * rec / (prec + rec)
        per[c] = {"precision": prec, "recall": rec, "f1": f1, "support": int(cm[i, :].sum())}
        f1s.append(f1)
    return {"n": len(t), "accuracy": safe_ratio(int(np.trace(cm)), len(t)),
            "macro_f1": float(np.mean(f1s)) if f1s else None, "classes": classes, "per_class": per,
            "confusion": cm.tolist()}
