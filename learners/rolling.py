"""Rolling (windowed) and cumulative good/not-good metrics of a prediction stream.

In a predict-then-learn evaluation each labelled record adds one
(truth, prediction) pair. :class:`RollingBinary` keeps the last ``window``
pairs (a ring of counts, O(1) per update) and the running totals since
the start, and reports, with the fail (bad part) as the positive class:

* ``accuracy``: share right in the window;
* ``recall_fail``: share of the window's bad parts that were flagged
  (None while the window holds no bad part — with 1 % scrap a window of
  500 holds about five, so this figure is coarse by nature);
* ``precision_fail``: share of the window's flagged parts that were bad;
* ``error_rate``: 1 - accuracy;
* the same, cumulative, with the prefix ``cum_``.
"""
from __future__ import annotations

from collections import deque

__all__ = ["RollingBinary"]


class RollingBinary:
    """Windowed and cumulative binary metrics; ``update(fail_true, fail_pred)`` then :meth:`snapshot`."""

    def __init__(self, window: int = 500):
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = int(window)
        self._buf: deque[tuple[bool, bool]] = deque()
        self._w = [0, 0, 0, 0]  # tp, fn, fp, tn in the window
        self._c = [0, 0, 0, 0]  # since the start

    @staticmethod
    def _cell(t: bool, p: bool) -> int:
        return (0 if p else 1) if t else (2 if p else 3)

    def update(self, fail_true: bool, fail_pred: bool) -> None:
        cell = self._cell(bool(fail_true), bool(fail_pred))
        self._buf.append((bool(fail_true), bool(fail_pred)))
        self._w[cell] += 1
        self._c[cell] += 1
        if len(self._buf) > self.window:
            old = self._buf.popleft()
            self._w[self._cell(*old)] -= 1

    @property
    def n(self) -> int:
        return sum(self._c)

    @staticmethod
    def _metrics(c: list[int], prefix: str) -> dict:
        tp, fn, fp, tn = c
        n = tp + fn + fp + tn
        acc = (tp + tn) / n if n else None
        return {f"{prefix}accuracy": acc, f"{prefix}error_rate": None if acc is None else 1 - acc,
                f"{prefix}recall_fail": tp / (tp + fn) if tp + fn else None,
                f"{prefix}precision_fail": tp / (tp + fp) if tp + fp else None,
                f"{prefix}fails": tp + fn, f"{prefix}n": n}

    def snapshot(self) -> dict:
        """The window's metrics (``accuracy``, ``recall_fail``, ...) and the cumulative ones (``cum_*``)."""
        return {**self._metrics(self._w, ""), **self._metrics(self._c, "cum_")}
