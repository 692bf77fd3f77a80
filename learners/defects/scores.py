"""Per-class accuracy, macro-F1 and the confusion matrix of a classifier's predictions."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray, classes: tuple[str, ...]) -> dict:
    """``per_class_accuracy`` (= recall of each class: the share of its images labelled right), ``macro_f1``,
    ``accuracy``, ``balanced_accuracy`` (mean of the per-class accuracies), ``confusion`` (rows: true)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = np.arange(len(classes))
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    support = cm.sum(axis=1)
    per_class = {c: (float(cm[k, k] / support[k]) if support[k] else None) for k, c in enumerate(classes)}
    present = [v for v in per_class.values() if v is not None]
    return {
        "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else float("nan"),
        "balanced_accuracy": float(np.mean(present)) if present else float("nan"),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class_accuracy": per_class,
        "support": {c: int(support[k]) for k, c in enumerate(classes)},
        "confusion": cm.tolist(),
        "classes": list(classes),
    }
