"""Score a detector on labelled billet images: the study's metrics and the ID read rates.

:func:`evaluate_readings` takes images with ground truth and the detector's
:class:`~learners.detector.detections.Detections` and returns

* ``reading``: TP / MC / FN / FP / CB at IoU >= 0.5 per visibility subset
  (:func:`learners.detector.metrics.reading_metrics`), at the detector's
  operating point (``score_threshold``);
* ``ids``: the billet ID as a whole, per subset (the billet's worst
  character), over stamped billets:

  - ``raw``: the characters ordered into the 6 + 5 grid, top character per
    position, compared with the stamped ID — CB *without* the decoder
    (a character the camera cannot see at all makes this wrong);
  - ``schema_check``: :class:`~learners.detector.id_decoder.BilletIdDecoder`
    with the position alphabets and the check character;
  - ``schema_check_previous``: the same plus the previous ID read on the
    billet's strand (billets taken in the order given, which for a run
    folder is the order they passed the camera; the previous ID is the
    decoder's own last *accepted* answer on that strand, not the truth,
    together with the number of that strand's billets since then).

  For each: ``correct`` (the fraction of billets whose ID came out right),
  ``refused`` (the decoder gave no ID: the billet goes to a person) and
  ``wrong`` (an ID was given and it was wrong — the costly error in a
  tracking system). ``raw`` never refuses.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

from learners.detector.dataset import BilletImage
from learners.detector.detections import Detections
from learners.detector.id_decoder import BilletIdDecoder
from learners.detector.metrics import SUBSETS, reading_metrics

__all__ = ["evaluate_readings", "decode_ids", "id_metrics", "READ_MODES"]

#: The ways an ID is read, from none to the most prior knowledge.
READ_MODES: tuple[str, ...] = ("raw", "schema_check", "schema_check_previous")


def decode_ids(samples: Sequence[BilletImage], detections: Sequence[Detections],
               decoder: BilletIdDecoder) -> list[dict]:
    """Per billet: the stamped ID, its class, and the ID of each read mode (None: refused)."""
    last: dict = {}  # strand -> (last accepted ID, billets of the strand since)
    rows = []
    for s, det in zip(samples, detections):
        raw = decoder.read_raw(det)
        plain = decoder.decode(det)
        prev, gap = last.get(s.strand, (None, 1)) if s.strand is not None else (None, 1)
        with_prev = decoder.decode(det, previous=prev, gap=gap)
        if s.strand is not None:
            last[s.strand] = (with_prev.text, 1) if with_prev.text is not None else (prev, gap + 1)
        rows.append({"billet_id": s.billet_id, "stamped_id": s.stamped_id, "strand": s.strand,
                     "class": s.worst_visibility, "raw": raw, "schema_check": plain.text,
                     "schema_check_previous": with_prev.text, "how": plain.how, "how_previous": with_prev.how})
    return rows


def id_metrics(rows: Sequence[dict]) -> dict:
    """Per subset and read mode: the fractions of stamped billets read ``correct``, ``refused``, ``wrong``."""
    ids = {}
    for sub in SUBSETS:
        sel = [r for r in rows if r["stamped_id"] and (sub == "all" or r["class"] == sub)]
        n = len(sel)
        block: dict = {"billets": n}
        for mode in READ_MODES:
            c = Counter(_outcome(r[mode], r["stamped_id"]) for r in sel)
            block[mode] = {k: (c[k] / n if n else None) for k in ("correct", "refused", "wrong")}
        ids[sub] = block
    return ids


def evaluate_readings(samples: Sequence[BilletImage], detections: Sequence[Detections], *,
                      decoder: BilletIdDecoder | None = None, score_threshold: float = 0.5,
                      iou_threshold: float = 0.5) -> dict:
    """``{"reading": ..., "ids": ..., "id_rows": [...]}`` (see the module docstring); ``decoder`` None: no IDs."""
    readings = [d.above(score_threshold) for d in detections]
    out = {"reading": reading_metrics(samples, readings, iou_threshold=iou_threshold)}
    if decoder is None:
        return out
    rows = decode_ids(samples, detections, decoder)
    out["ids"] = id_metrics(rows)
    out["id_rows"] = rows
    return out


def _outcome(read: str | None, truth: str) -> str:
    if read is None:
        return "refused"
    return "correct" if read == truth else "wrong"
