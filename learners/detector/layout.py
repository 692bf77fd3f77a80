"""Which detected box is which character of the ID: rows, then left to right, with gaps.

The stamping head holds its dies in a fixed frame
(``physics/billet_render/stamp_layout.py``): an 11-character ID is two
centred rows, 6 characters on top and 5 below, at one pitch — so the
centre of the character in row ``r``, column ``j`` lies, along the row, at
``a + b (j + o_r)`` with ``o_r = (6 - n_r) / 2`` (the lower row starts half a
pitch in). The face may be a few degrees off square; over one row that
moves a centre by well under a pitch, so x is used as the coordinate along
a row.

:func:`fit_layout` does, for boxes of one image:

1. **rows** — sort the boxes by the y of their centres and cut wherever
   the gap between neighbours exceeds half the median box height; with
   more clusters than rows (a stray box far above or below) the clusters
   with most boxes are the rows, the others are not used; with fewer (a
   whole row unseen) the rows seen are taken as the top ones;
2. **too many boxes in a row** (a spurious detection) — the lowest-scoring
   ones are dropped until the row holds ``n_r``;
3. **columns** — every way of placing each row's boxes, in x order, on its
   ``n_r`` columns (at most C(6, k) x C(5, m) = 200 ways) is fitted with
   one line ``x = a + b (j + o_r)`` by least squares over both rows; the
   placing with the least squared residual wins. A missing character thus
   leaves its column empty, and the other row decides whether a row lacks
   its first or its last character. One box may be left out as an outlier
   (a spurious detection beside the characters, which would otherwise
   stretch the grid) when that lowers the squared residual by more than
   (pitch / 2)².

:class:`Layout` keeps the fitted line and row heights, so a weak detection
(below the score used for fitting) can later be put at a free position it
sits on (:meth:`Layout.position_at`).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Sequence

import numpy as np

__all__ = ["Layout", "fit_layout"]


@dataclass(frozen=True)
class Layout:
    """Positions of the boxes of one image (None: not used) and the fitted character grid."""

    positions: tuple[int | None, ...]
    row_counts: tuple[int, ...]
    a_px: float = float("nan")
    pitch_px: float = float("nan")
    row_y_px: tuple[float, ...] = ()

    def column_offsets(self) -> list[float]:
        top = max(self.row_counts)
        return [(top - n) / 2.0 for n in self.row_counts]

    def position_at(self, box_px: Sequence[float], tolerance: float = 0.4) -> int | None:
        """The ID position whose grid cell holds the centre of ``box_px`` (within ``tolerance`` pitches), if any."""
        if not (np.isfinite(self.a_px) and np.isfinite(self.pitch_px) and self.pitch_px > 0 and self.row_y_px):
            return None
        cx, cy = (box_px[0] + box_px[2]) / 2.0, (box_px[1] + box_px[3]) / 2.0
        rows = [r for r, y in enumerate(self.row_y_px) if np.isfinite(y)]
        if not rows:
            return None
        r = min(rows, key=lambda k: abs(cy - self.row_y_px[k]))
        if abs(cy - self.row_y_px[r]) > 0.8 * self.pitch_px:
            return None
        col = (cx - self.a_px) / self.pitch_px - self.column_offsets()[r]
        j = int(round(col))
        if abs(col - j) > tolerance or not 0 <= j < self.row_counts[r]:
            return None
        return sum(self.row_counts[:r]) + j


def fit_layout(boxes_px, scores=None, row_counts: Sequence[int] = (6, 5)) -> Layout:
    """Assign ID positions to the boxes of one image (see the module docstring)."""
    boxes = np.asarray(boxes_px, dtype=np.float64).reshape(-1, 4)
    n = boxes.shape[0]
    counts = tuple(int(c) for c in row_counts)
    sc = np.ones(n) if scores is None else np.asarray(scores, dtype=np.float64).reshape(-1)
    if n == 0:
        return Layout((), counts, row_y_px=tuple(float("nan") for _ in counts))
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2.0, (boxes[:, 1] + boxes[:, 3]) / 2.0
    h = np.median(boxes[:, 3] - boxes[:, 1])
    w = np.median(boxes[:, 2] - boxes[:, 0])
    rows = _split_rows(cy, sc, counts, h)
    # Too many boxes in a row: drop the weakest.
    kept: list[list[int]] = []
    for r, idx in enumerate(rows):
        idx = sorted(idx, key=lambda i: -sc[i])[:counts[r]]
        kept.append(sorted(idx, key=lambda i: cx[i]))
    offsets = [(max(counts) - c) / 2.0 for c in counts]
    pitch0 = _pitch_guess([cx[idx] for idx in kept], w)
    drop_cost = (0.5 * pitch0) ** 2
    used = [i for idx in kept for i in idx]
    best, best_cost, best_ab = None, np.inf, (np.nan, np.nan)
    for drop in [None, *used] if len(used) > 3 else [None]:
        rows_k = [[i for i in idx if i != drop] for idx in kept]
        xs = np.concatenate([cx[k] for k in rows_k])
        for placing in _placings([len(k) for k in rows_k], counts):
            cols = np.concatenate([np.asarray(p, dtype=np.float64) + offsets[r] for r, p in enumerate(placing)])
            a, b = _line(cols, xs, pitch0)
            res = xs - (a + b * cols)
            cost = float(res @ res) + (drop_cost if drop is not None else 0.0)
            if b <= 0.4 * pitch0 or b >= 2.5 * pitch0:  # a degenerate fit (e.g. all boxes at one column)
                cost += 1e6
            if cost < best_cost - 1e-9:
                best, best_cost, best_ab = (rows_k, placing), cost, (a, b)
    positions: list[int | None] = [None] * n
    if best is None:
        return Layout(tuple(positions), counts, row_y_px=tuple(float("nan") for _ in counts))
    rows_k, placing_k = best
    for r, (idx, placing) in enumerate(zip(rows_k, placing_k)):
        base = sum(counts[:r])
        for i, j in zip(idx, placing):
            positions[i] = base + int(j)
    row_y = tuple(float(np.mean(cy[idx])) if idx else float("nan") for idx in kept)
    if len(row_y) == 2 and np.isnan(row_y[0]) != np.isnan(row_y[1]):
        # One row seen: the other one a row pitch (about 1.3 character heights) away.
        row_y = (row_y[1] - 1.3 * h, row_y[1]) if np.isnan(row_y[0]) else (row_y[0], row_y[0] + 1.3 * h)
    return Layout(tuple(positions), counts, float(best_ab[0]), float(best_ab[1]), row_y)


def _split_rows(cy: np.ndarray, sc: np.ndarray, counts: tuple[int, ...], h: float) -> list[list[int]]:
    n_rows = len(counts)
    order = [int(i) for i in np.argsort(cy, kind="stable")]
    clusters, start = [], 0
    gaps = np.diff(cy[order])
    for c in np.nonzero(gaps > 0.5 * h)[0]:
        clusters.append(order[start:c + 1])
        start = int(c) + 1
    clusters.append(order[start:])
    if len(clusters) > n_rows:
        # Stray boxes far from the rows: keep the n_rows clusters with most boxes (then most score).
        ranked = sorted(range(len(clusters)), key=lambda k: (-len(clusters[k]), -float(sc[clusters[k]].sum()), k))
        clusters = [clusters[k] for k in sorted(ranked[:n_rows])]
    if len(clusters) == n_rows:
        return clusters
    # Fewer clusters than rows (a whole row unseen): the rows seen are taken as the top ones.
    return clusters + [[] for _ in range(n_rows - len(clusters))]


def _pitch_guess(row_xs: list[np.ndarray], width: float) -> float:
    diffs = np.concatenate([np.diff(np.sort(x)) for x in row_xs if len(x) > 1] or [np.zeros(0)])
    diffs = diffs[diffs > 0.5 * width]
    if diffs.size == 0:
        return 1.3 * float(width)  # the dies' pitch is ~1.3 glyph widths (stamp_layout: char_pitch_em)
    small = diffs[diffs <= 1.5 * diffs.min()]
    return float(np.median(small))


def _placings(sizes: list[int], counts: tuple[int, ...]):
    """Every way to put each row's k boxes (in x order) on its n columns, rows combined."""
    per_row = [list(combinations(range(c), k)) if k <= c else [] for k, c in zip(sizes, counts)]
    if any(not p for p in per_row):
        return
    idx = [0] * len(per_row)
    while True:
        yield [per_row[r][idx[r]] for r in range(len(per_row))]
        r = len(idx) - 1
        while r >= 0:
            idx[r] += 1
            if idx[r] < len(per_row[r]):
                break
            idx[r] = 0
            r -= 1
        if r < 0:
            return


def _line(cols: np.ndarray, xs: np.ndarray, pitch0: float) -> tuple[float, float]:
    """Least-squares ``x = a + b col`` (closed form); with one distinct column, b is the pitch guess."""
    if xs.size == 0:
        return float("nan"), float(pitch0)
    mc = cols.mean()
    var = float(((cols - mc) ** 2).sum())
    if var < 1e-12:
        return float(np.mean(xs - pitch0 * cols)), float(pitch0)
    b = float(((cols - mc) * (xs - xs.mean())).sum()) / var
    return float(xs.mean() - b * mc), b
