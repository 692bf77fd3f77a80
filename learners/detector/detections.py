"""What the detector says about one image: character boxes, each with its ranked candidate characters.

Faster R-CNN scores every class for every region proposal and then keeps,
*per class*, the boxes above ``box_score_thresh`` after a per-class NMS
(torchvision's ``RoIHeads.postprocess_detections``). One stamped character
therefore often comes back as several overlapping detections with
different labels — an ``8`` at 0.62 and a ``B`` at 0.21 on the same spot.
For a reading that is one answer per location, and for the ID decoder
that is a ranked list of alternatives per location, :func:`group_detections`
merges them (class-agnostic, greedy by score): the highest-scoring
detection takes every remaining one whose box overlaps it by IoU >=
``group_iou``; the group keeps the top box and label, and its
``candidates`` are the labels seen in the group, each with its best score,
best first.

:class:`Detections` holds the groups of one image (sorted by score);
``above(t)`` keeps the groups with score >= t — the detector's answer at
that operating point, which the metrics score.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Detections", "group_detections", "box_iou_matrix"]


@dataclass(frozen=True)
class Detections:
    """Character detections in one image, best score first.

    ``boxes_px``: float ``(N, 4)`` ``x0, y0, x1, y1``; ``chars``: top
    character per box; ``scores``: its score; ``candidates``: per box a
    tuple of ``(char, score)``, best first (the top one first of all).
    """

    boxes_px: np.ndarray
    chars: tuple[str, ...]
    scores: np.ndarray
    candidates: tuple[tuple[tuple[str, float], ...], ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.chars)
        if self.boxes_px.shape != (n, 4) or self.scores.shape != (n,):
            raise ValueError(f"Detections: {n} chars, boxes {self.boxes_px.shape}, scores {self.scores.shape}")
        if not self.candidates:
            object.__setattr__(self, "candidates", tuple(((c, float(s)),) for c, s in zip(self.chars, self.scores)))

    def __len__(self) -> int:
        return len(self.chars)

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4)), (), np.zeros(0))

    @classmethod
    def from_lists(cls, boxes_px, chars, scores=None) -> "Detections":
        """From plain lists (tests, hand-made readings): scores default to 1."""
        boxes = np.asarray(boxes_px, dtype=np.float64).reshape(-1, 4)
        sc = np.ones(len(chars)) if scores is None else np.asarray(scores, dtype=np.float64)
        return cls(boxes, tuple(chars), sc)

    def above(self, score_threshold: float) -> "Detections":
        keep = [i for i in range(len(self)) if self.scores[i] >= score_threshold]
        return self.take(keep)

    def take(self, idx) -> "Detections":
        idx = list(idx)
        return Detections(self.boxes_px[idx].reshape(-1, 4), tuple(self.chars[i] for i in idx),
                          self.scores[idx].reshape(-1), tuple(self.candidates[i] for i in idx))

    def to_dict(self) -> dict:
        """JSON-able: lists of boxes, chars, scores and candidates."""
        return {"boxes_px": self.boxes_px.round(2).tolist(), "chars": list(self.chars),
                "scores": [round(float(s), 5) for s in self.scores],
                "candidates": [[[c, round(float(s), 5)] for c, s in cand] for cand in self.candidates]}


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` (N, 4) with every box of ``b`` (M, 4) (corners x0, y0, x1, y1)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0], b.shape[0]))
    ix0 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy0 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix1 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def group_detections(boxes_px: np.ndarray, chars, scores: np.ndarray, group_iou: float = 0.5) -> Detections:
    """Merge overlapping per-class detections into one group per location (see the module docstring)."""
    boxes = np.asarray(boxes_px, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    chars = list(chars)
    order = np.argsort(-scores, kind="stable")
    iou = box_iou_matrix(boxes, boxes)
    taken = np.zeros(len(chars), dtype=bool)
    keep, cands = [], []
    for i in order:
        if taken[i]:
            continue
        members = [j for j in order if not taken[j] and (j == i or iou[i, j] >= group_iou)]
        best: dict[str, float] = {}
        for j in members:
            taken[j] = True
            best[chars[j]] = max(best.get(chars[j], 0.0), float(scores[j]))
        keep.append(int(i))
        cands.append(tuple(sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))))
    return Detections(boxes[keep].reshape(-1, 4), tuple(chars[i] for i in keep), scores[keep].reshape(-1),
                      tuple(cands))
