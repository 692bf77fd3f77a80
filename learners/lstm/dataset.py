"""Sensor curves -> fixed-length sequences for the LSTM, with offset sampling.

**The grid.** A cycle's curves are sampled every ``sample_interval_s``
(10 ms for the twin and for the study's machine); cycles differ in length.
The classifier looks at a fixed window from the cycle start: the *fine
grid* of ``length x stride`` points at the logged interval (``length=300,
stride=4`` at 10 ms: the first 12 s — closing, injection, holding and
the start of cooling, where short shots, flash and sink marks are made).
A curve recorded at the same interval is sliced (no interpolation); at
another interval it is interpolated linearly onto the grid; a curve
shorter than the window holds its last value (the machine sits still
after ejection), a missing channel is NaN (scaled to 0 later).

**Offset sampling** (the study: "we enlarged each dataset by quadrupling it
and stored each first through the fourth step at 10 ms intervals in
separate files"). The model sees every ``stride``-th point of the fine
grid, i.e. sequences of ``length`` points at ``stride x`` the logged
interval (40 ms). Starting that subsampling at offset 0, 1, ..., k-1 gives
k different sequences of the same cycle: the training set is multiplied
by k = ``stride``, each copy seeing other samples of the same process
(other noise, other sampling phase) — :func:`offset_sample`. Without
augmentation only offset 0 is used: same resolution, same length, 1/k of
the sequences. The copies of one cycle are correlated, so they all go to
the same side of any train/test split (split cycles, then augment).

:class:`CurveBatch` holds cycles already on the fine grid (``(N, C, F)``
float32), so big run folders are converted once, row group by row group
(:func:`read_curve_batch`), and the classifier, the benchmarks and the
scenarios feed it without going through per-record dicts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from learners.records import CurveReader, LearnerInputError, cycle_key, label_of, open_run

__all__ = ["CurveGrid", "CurveBatch", "curves_to_grid", "offset_sample", "read_curve_batch", "batch_from_rows"]


@dataclass(frozen=True)
class CurveGrid:
    """The fine grid: ``length * stride`` points every ``sample_interval_s`` from the cycle start."""

    length: int = 300
    stride: int = 4
    sample_interval_s: float = 0.01

    def __post_init__(self) -> None:
        if self.length < 1 or self.stride < 1 or not self.sample_interval_s > 0:
            raise ValueError(f"grid needs length >= 1, stride >= 1, sample_interval_s > 0; got {self}")

    @property
    def fine_points(self) -> int:
        return self.length * self.stride

    @property
    def window_s(self) -> float:
        """Seconds of the cycle the grid covers."""
        return self.fine_points * self.sample_interval_s


@dataclass
class CurveBatch:
    """Cycles on a fine grid: ``values`` ``(N, C, F)`` float32, their channels, grid interval, labels.

    ``labels``: one label per cycle (``defect_type`` kind, see
    :func:`learners.records.label_of`) or None; ``keys``: the cycles'
    ``(run_id, machine_id, cycle_id)``.
    """

    values: np.ndarray
    channels: tuple[str, ...]
    sample_interval_s: float
    labels: list | None = None
    keys: list | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def take(self, idx: Sequence[int] | np.ndarray) -> "CurveBatch":
        idx = np.asarray(idx, dtype=np.int64)
        labels = None if self.labels is None else [self.labels[i] for i in idx]
        keys = None if self.keys is None else [self.keys[i] for i in idx]
        return CurveBatch(self.values[idx], self.channels, self.sample_interval_s, labels, keys)


def curves_to_grid(records: Sequence[Mapping], channels: Sequence[str], grid: CurveGrid) -> np.ndarray:
    """``(N, C, grid.fine_points)`` float32 of each record's curves on the fine grid (module docstring).

    Each record maps channel names to 1-D sequences (None = channel not
    logged) and has ``sample_interval_s`` (default: the grid's).
    """
    F = grid.fine_points
    out = np.empty((len(records), len(channels), F), dtype=np.float32)
    t_grid = None
    for i, rec in enumerate(records):
        dt = rec.get("sample_interval_s") or grid.sample_interval_s
        same = abs(float(dt) - grid.sample_interval_s) <= 1e-9 * grid.sample_interval_s
        for c, ch in enumerate(channels):
            if ch not in rec:
                raise LearnerInputError(f"record {i}: no curve channel {ch!r}")
            v = rec[ch]
            if v is None or len(v) == 0:
                out[i, c] = np.nan
                continue
            v = np.asarray(v, dtype=np.float32)
            if same:
                n = min(v.shape[0], F)
                out[i, c, :n] = v[:n]
                if n < F:
                    out[i, c, n:] = v[n - 1]
            else:
                if t_grid is None:
                    t_grid = np.arange(F) * grid.sample_interval_s
                t_src = np.arange(v.shape[0]) * float(dt)
                out[i, c] = np.interp(t_grid, t_src, v)
    return out


def offset_sample(fine: np.ndarray, stride: int, offsets: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every ``stride``-th point from each offset: ``(N * len(offsets), C, F // stride)`` and the cycle index.

    Rows are cycle-major: cycle i's offsets are rows ``i*k .. i*k + k-1``;
    the second array gives each row's cycle. ``offsets`` defaults to all
    ``0 .. stride-1`` (the augmentation); ``(0,)`` is plain subsampling.
    """
    offsets = tuple(range(stride)) if offsets is None else tuple(int(o) for o in offsets)
    if not offsets or min(offsets) < 0 or max(offsets) >= stride:
        raise ValueError(f"offsets must lie in 0..{stride - 1}, got {offsets}")
    N, C, F = fine.shape
    L = F // stride
    views = np.stack([fine[:, :, o:o + L * stride:stride] for o in offsets], axis=1)  # (N, k, C, L)
    return views.reshape(N * len(offsets), C, L), np.repeat(np.arange(N), len(offsets))


def read_curve_batch(run_dirs: Sequence[Path | str], grid: CurveGrid, channels: Sequence[str] | None = None, *,
                     need_labels: bool = True, block_rows: int = 64) -> tuple[CurveBatch, list[dict]]:
    """The cycles of run folders on ``grid``, with their ``defect_type`` labels; and their cycles rows.

    Reads each ``curves.parquet`` one row group at a time (the fine grid is
    far smaller than the raw curves: a 12 s window instead of 20-60 s of
    cycle). Cycles without curves are skipped; unlabelled cycles are
    skipped when ``need_labels``. ``channels`` defaults to the curve
    channels of the first run that no run lacks.
    """
    if not run_dirs:
        raise LearnerInputError("no run folder given")
    runs = [open_run(d, need_curves=True, need_labels=need_labels) for d in run_dirs]
    readers = []
    for r in runs:
        readers.append(CurveReader(r.curves_path, channels))
    if channels is None:
        common = [c for c in readers[0].channels if all(c in rd.channels for rd in readers)]
        channels = tuple(common)
        if not channels:
            raise LearnerInputError("the run folders share no curve channel")
        readers = [CurveReader(r.curves_path, channels) for r in runs]
    parts, labels, keys, rows_out = [], [], [], []
    for run, reader in zip(runs, readers):
        rows = run.cycles.to_pylist()
        keep = []
        for r in rows:
            k = cycle_key(r)
            if k not in reader:
                continue
            lab = label_of(r, "defect_type")
            if need_labels and lab is None:
                continue
            keep.append((r, k, lab))
        for s in range(0, len(keep), block_rows):
            chunk = keep[s:s + block_rows]
            recs = reader.get_many([k for _, k, _ in chunk])
            parts.append(curves_to_grid(recs, channels, grid))
        labels += [lab for _, _, lab in keep]
        keys += [k for _, k, _ in keep]
        rows_out += [r for r, _, _ in keep]
    if not keys:
        raise LearnerInputError(f"no cycle with curves{' and labels' if need_labels else ''} in "
                                f"{', '.join(str(r.path) for r in runs)}")
    values = np.concatenate(parts) if parts else np.zeros((0, len(channels), grid.fine_points), np.float32)
    return CurveBatch(values, tuple(channels), grid.sample_interval_s, labels, keys), rows_out


def batch_from_rows(rows: Any, channels: Sequence[str], grid: CurveGrid) -> CurveBatch:
    """A :class:`CurveBatch` of record dicts (each with its curves); labels are not read."""
    from learners.records import as_rows

    recs = as_rows(rows)
    return CurveBatch(curves_to_grid(recs, channels, grid), tuple(channels), grid.sample_interval_s)
