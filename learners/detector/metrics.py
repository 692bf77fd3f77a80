"""The study's reading metrics at IoU >= 0.5: TP, MC, FN, FP and CB, per visibility subset.

From the billet-stamp study (section 3.2: "we view a digit as detected
correctly if the IoU ratio >= 0.5"):

* **TP** — the fraction of characters found *and* read right;
* **MC** — the fraction found (a box at IoU >= 0.5) but given the wrong label;
* **FN** — the fraction missed (no box at IoU >= 0.5);
* **FP** — spurious detections: a box where there is no character;
* **CB** — the fraction of billets with every character read right.

**Matching, per image** (:func:`match_image`): every (truth, detection)
pair with IoU >= ``iou_threshold`` is a possible match; pairs are taken
greedily, highest IoU first, each truth and each detection at most once
(ties: the better-scoring detection first, then the lower index). The
match ignores labels — localisation decides *whether* a character was
found, the label then decides TP or MC — so a right box with a wrong label
is one MC, not one FN plus one FP. Unmatched truths are FN, unmatched
detections FP. A billet is correct (counts for CB) when it has no MC, no
FN and no FP.

**Denominators.** TP, MC and FN are fractions of the ground-truth
characters, so TP + MC + FN = 1. FP is the number of spurious detections
per ground-truth character (the study gives it as a percentage next to
the others; there is no natural "number of non-characters"). Counts are
reported too.

**Subsets by visibility** (``well``, ``partial``, ``poor``; the study's test
sets 2, 5 and 4). TP, MC and FN of a subset count the ground-truth boxes of
that class only: a poorly visible character on a billet that is otherwise
well stamped counts in ``poor``. FP and CB are properties of a billet, not of
one character: they count the billets of that class — a billet's class is
its worst character (poor > partial > well, over every stamped character,
those without a box included). ``all`` counts everything.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from learners.detector.detections import Detections, box_iou_matrix
from twin.schema import VISIBILITY_CLASSES

__all__ = ["Truth", "ImageMatch", "match_image", "reading_metrics", "SUBSETS"]

#: Subsets reported, ``all`` first.
SUBSETS: tuple[str, ...] = ("all", *VISIBILITY_CLASSES)


@dataclass(frozen=True)
class Truth:
    """The ground truth of one image, for hand-made cases (a :class:`~learners.detector.dataset.BilletImage` works too).

    ``boxes_px`` (N, 4), ``chars`` and ``visibility`` per box;
    ``char_visibility``: every stamped character's class (defaults to the
    boxes' classes).
    """

    boxes_px: Any
    chars: tuple[str, ...]
    visibility: tuple[str, ...] = ()
    char_visibility: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "boxes_px", np.asarray(self.boxes_px, dtype=np.float64).reshape(-1, 4))
        object.__setattr__(self, "chars", tuple(self.chars))
        if not self.visibility:
            object.__setattr__(self, "visibility", ("well",) * len(self.chars))
        if len(self.visibility) != len(self.chars) or self.boxes_px.shape[0] != len(self.chars):
            raise ValueError("Truth: one box, char and visibility per character")

    @property
    def worst_visibility(self) -> str:
        vis = set(self.char_visibility) | set(self.visibility)
        for v in reversed(VISIBILITY_CLASSES):
            if v in vis:
                return v
        return VISIBILITY_CLASSES[0]


@dataclass(frozen=True)
class ImageMatch:
    """The outcome of matching one image: index pairs ``(truth, detection)`` and unmatched indices."""

    tp: tuple[tuple[int, int], ...] = ()
    mc: tuple[tuple[int, int], ...] = ()
    fn: tuple[int, ...] = ()
    fp: tuple[int, ...] = ()
    ious: tuple[float, ...] = field(default=())

    @property
    def correct(self) -> bool:
        """True when every character was read right and nothing else was found."""
        return not (self.mc or self.fn or self.fp)


def match_image(truth_boxes, truth_chars: Sequence[str], det_boxes, det_chars: Sequence[str],
                det_scores=None, iou_threshold: float = 0.5) -> ImageMatch:
    """Greedy IoU matching of one image (see the module docstring)."""
    tb = np.asarray(truth_boxes, dtype=np.float64).reshape(-1, 4)
    db = np.asarray(det_boxes, dtype=np.float64).reshape(-1, 4)
    if len(truth_chars) != tb.shape[0] or len(det_chars) != db.shape[0]:
        raise ValueError("match_image: one char per box")
    sc = np.ones(db.shape[0]) if det_scores is None else np.asarray(det_scores, dtype=np.float64).reshape(-1)
    iou = box_iou_matrix(tb, db)
    ti, di = np.nonzero(iou >= iou_threshold)
    order = sorted(range(len(ti)), key=lambda k: (-iou[ti[k], di[k]], -sc[di[k]], di[k], ti[k]))
    t_used, d_used = set(), set()
    tp, mc, ious = [], [], []
    for k in order:
        t, d = int(ti[k]), int(di[k])
        if t in t_used or d in d_used:
            continue
        t_used.add(t)
        d_used.add(d)
        (tp if truth_chars[t] == det_chars[d] else mc).append((t, d))
        ious.append(float(iou[t, d]))
    fn = tuple(t for t in range(tb.shape[0]) if t not in t_used)
    fp = tuple(d for d in range(db.shape[0]) if d not in d_used)
    return ImageMatch(tuple(sorted(tp)), tuple(sorted(mc)), fn, fp, tuple(ious))


def reading_metrics(truths: Sequence[Any], detections: Sequence[Detections], iou_threshold: float = 0.5,
                    score_threshold: float = 0.0) -> dict:
    """TP / MC / FN / FP / CB over images, overall and per visibility subset (see the module docstring).

    ``truths``: :class:`Truth` or :class:`~learners.detector.dataset.BilletImage`
    (anything with ``boxes_px``, ``chars``, ``visibility``, ``worst_visibility``);
    ``detections``: one :class:`Detections` per image; only detections with
    score >= ``score_threshold`` count. Returns ``{"iou_threshold", "score_threshold",
    "subsets": {name: {...}}, "misreads": [[truth, read, count], ...]}``; each subset holds
    the fractions ``tp``, ``mc``, ``fn``, ``fp``, ``cb`` (None when the subset is
    empty), ``characters``, ``billets`` and the raw ``counts``.
    """
    if len(truths) != len(detections):
        raise ValueError(f"{len(truths)} images but {len(detections)} detection lists")
    box = {s: Counter() for s in SUBSETS}      # tp / mc / fn per box class
    bil = {s: Counter() for s in SUBSETS}      # billets, correct billets, fp, characters per billet class
    misreads: Counter = Counter()
    for truth, det in zip(truths, detections):
        det = det.above(score_threshold) if score_threshold > 0 else det
        tb = truth.boxes_px.numpy() if hasattr(truth.boxes_px, "numpy") else truth.boxes_px
        m = match_image(tb, truth.chars, det.boxes_px, det.chars, det.scores, iou_threshold)
        vis = list(truth.visibility)
        for kind, items in (("tp", [t for t, _ in m.tp]), ("mc", [t for t, _ in m.mc]), ("fn", list(m.fn))):
            for t in items:
                box["all"][kind] += 1
                box[vis[t]][kind] += 1
        for t, d in m.mc:
            misreads[(truth.chars[t], det.chars[d])] += 1
        for s in ("all", truth.worst_visibility):
            bil[s]["billets"] += 1
            bil[s]["correct"] += int(m.correct)
            bil[s]["fp"] += len(m.fp)
            bil[s]["characters"] += len(truth.chars)
    subsets = {}
    for s in SUBSETS:
        n_chars = box[s]["tp"] + box[s]["mc"] + box[s]["fn"]
        subsets[s] = {
            "characters": n_chars, "billets": bil[s]["billets"],
            "tp": _frac(box[s]["tp"], n_chars), "mc": _frac(box[s]["mc"], n_chars),
            "fn": _frac(box[s]["fn"], n_chars),
            "fp": _frac(bil[s]["fp"], bil[s]["characters"]),
            "cb": _frac(bil[s]["correct"], bil[s]["billets"]),
            "fp_per_billet": _frac(bil[s]["fp"], bil[s]["billets"]),
            "counts": {"tp": box[s]["tp"], "mc": box[s]["mc"], "fn": box[s]["fn"], "fp": bil[s]["fp"],
                       "correct_billets": bil[s]["correct"], "characters_in_billets": bil[s]["characters"]},
        }
    return {"iou_threshold": float(iou_threshold), "score_threshold": float(score_threshold), "subsets": subsets,
            "misreads": [[a, b, n] for (a, b), n in sorted(misreads.items(), key=lambda kv: (-kv[1], kv[0]))]}


def _frac(n: int, d: int) -> float | None:
    return float(n) / d if d else None
