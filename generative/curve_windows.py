"""Windows of sensor curves: what the sensor-texture GAN trains on and what the curve metrics compare.

A run folder's ``curves.parquet`` has one row per cycle and one
``list<float32>`` column per channel (:data:`twin.schema.CURVES_SCHEMA`).
:func:`read_curves` reads the requested channels as one float32 array per
cycle; :func:`windows_from_curves` low-passes each whole curve with a
:class:`~generative.curve_smoothing.CurveSmoothing` (whole curves, so no
window sees a filter edge) and cuts curve and smooth part into windows of
``length`` samples every ``stride`` samples. The result is a
:class:`CurveWindows`: ``condition`` (the smooth part), ``target`` (the
logged curve) and the ``channel`` of every window.

Held-out data without leakage (:func:`block_segments`): with only a few
real curves, train and test windows come from the same curves. Each curve
is cut into blocks of ``block_samples`` and the blocks alternate between
the two parts (even blocks ``"train"``, odd blocks ``"test"``); windows are
cut inside a block only, so no training window overlaps a test window.
Alternating blocks put every phase of a cycle (injection, hold, dosing,
idle) into both parts, as far as the block length allows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from generative.curve_smoothing import CurveSmoothing

__all__ = ["CurveWindows", "read_curves", "window_starts", "block_segments", "windows_from_curves",
           "windows_from_runs", "concat_windows", "CurveDataError"]


class CurveDataError(ValueError):
    """Curve data that cannot be windowed; the message names the file or channel."""


@dataclass(frozen=True)
class CurveWindows:
    """A set of curve windows, all of one length and one sample interval.

    ``condition``: ``(n, L)`` float32 smooth part; ``target``: ``(n, L)``
    float32 logged curve (None when only conditions are known, e.g. for
    sampling); ``channel``: ``(n,)`` channel name of every window;
    ``dt_s``: sample interval; ``smoothing``: the low-pass that made
    ``condition``; ``origin``: ``(n, 2)`` int64 (cycle row, start sample) for
    provenance.
    """

    condition: np.ndarray
    target: np.ndarray | None
    channel: np.ndarray
    dt_s: float
    smoothing: CurveSmoothing = field(default_factory=CurveSmoothing)
    origin: np.ndarray | None = None

    def __post_init__(self) -> None:
        c = self.condition
        if c.ndim != 2:
            raise CurveDataError(f"condition must be (n, L), got shape {c.shape}")
        if self.target is not None and self.target.shape != c.shape:
            raise CurveDataError(f"target shape {self.target.shape} differs from condition shape {c.shape}")
        if self.channel.shape != (c.shape[0],):
            raise CurveDataError(f"channel must have one name per window: {self.channel.shape} vs {c.shape[0]}")

    def __len__(self) -> int:
        return int(self.condition.shape[0])

    @property
    def length(self) -> int:
        return int(self.condition.shape[1])

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels present, in order of first appearance."""
        return tuple(dict.fromkeys(str(c) for c in self.channel))

    @property
    def residual(self) -> np.ndarray:
        """``target - condition``: the texture."""
        if self.target is None:
            raise CurveDataError("these windows have no target (logged curve)")
        return self.target - self.condition

    def select(self, index: np.ndarray) -> "CurveWindows":
        """The windows at ``index`` (an index or boolean array)."""
        return CurveWindows(self.condition[index], None if self.target is None else self.target[index],
                            self.channel[index], self.dt_s, self.smoothing,
                            None if self.origin is None else self.origin[index])

    def of_channel(self, channel: str) -> "CurveWindows":
        return self.select(self.channel == channel)


def read_curves(run_dir: Path | str, channels: Sequence[str] | None = None, *,
                max_cycles: int | None = None) -> tuple[float, dict[str, list[np.ndarray]]]:
    """``(dt_s, {channel: [curve of each cycle, float32]})`` from ``run_dir/curves.parquet``.

    ``channels=None``: every channel that has data in at least one row.
    Rows where a requested channel is null are skipped for that channel.
    All rows must share one ``sample_interval_s``.
    """
    path = Path(run_dir) / "curves.parquet"
    if not path.is_file():
        raise CurveDataError(f"{path}: no curves.parquet in {run_dir}")
    pf = pq.ParquetFile(path)
    names = [f.name for f in pf.schema_arrow if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)]
    table = pf.read(columns=["sample_interval_s", *names])
    if max_cycles is not None:
        table = table.slice(0, int(max_cycles))
    if table.num_rows == 0:
        raise CurveDataError(f"{path}: no rows")
    dts = np.asarray(pc.cast(table.column("sample_interval_s"), pa.float64()).to_numpy(zero_copy_only=False))
    if not np.all(np.isfinite(dts) & (dts > 0)) or np.ptp(dts) > 1e-9 * dts[0]:
        raise CurveDataError(f"{path}: rows must share one positive sample_interval_s, got {sorted(set(dts.tolist()))}")
    if channels is None:
        channels = [n for n in names if table.column(n).null_count < table.num_rows]
    missing = [c for c in channels if c not in names]
    if missing:
        raise CurveDataError(f"{path}: no curve column(s) {missing}; it has {names}")
    out: dict[str, list[np.ndarray]] = {}
    for ch in channels:
        rows = [np.asarray(v, dtype=np.float32) for v in table.column(ch).to_pylist() if v is not None]
        rows = [r for r in rows if r.size and np.all(np.isfinite(r))]
        if rows:
            out[ch] = rows
    if not out:
        raise CurveDataError(f"{path}: none of the channels {list(channels)} has data")
    return float(dts[0]), out


def window_starts(n_samples: int, length: int, stride: int) -> np.ndarray:
    """Start samples of the windows of ``length`` every ``stride`` that fit into ``n_samples`` (none if too short)."""
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be >= 1, got {length} and {stride}")
    if n_samples < length:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, n_samples - length + 1, stride, dtype=np.int64)


def block_segments(n_samples: int, block_samples: int | None, part: str | None) -> list[tuple[int, int]]:
    """``[(lo, hi), ...]`` sample ranges of ``part`` (``"train"``: even blocks, ``"test"``: odd, None: all)."""
    if part is None or block_samples is None:
        return [(0, n_samples)]
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train', 'test' or None, got {part!r}")
    first = 0 if part == "train" else 1
    return [(lo, min(lo + block_samples, n_samples))
            for lo in range(first * block_samples, n_samples, 2 * block_samples)]


def windows_from_curves(curves: dict[str, list[np.ndarray]], dt_s: float, *, length: int = 128, stride: int = 8,
                        smoothing: CurveSmoothing = CurveSmoothing(), block_samples: int | None = None,
                        part: str | None = None) -> CurveWindows:
    """Windows of every curve of every channel (see the module docstring)."""
    cond, targ, chan, origin = [], [], [], []
    for ch, rows in curves.items():
        for r, x in enumerate(rows):
            x = np.asarray(x, dtype=np.float32)
            sm = smoothing(x)
            for lo, hi in block_segments(x.size, block_samples, part):
                starts = lo + window_starts(hi - lo, length, stride)
                if starts.size == 0:
                    continue
                idx = starts[:, None] + np.arange(length)[None, :]
                cond.append(sm[idx])
                targ.append(x[idx])
                chan.extend([ch] * starts.size)
                origin.append(np.column_stack([np.full(starts.size, r), starts]))
    if not cond:
        raise CurveDataError(f"no window of {length} samples fits into the curves "
                             f"(channels {list(curves)}, part {part!r}, blocks {block_samples})")
    return CurveWindows(np.concatenate(cond), np.concatenate(targ), np.asarray(chan, dtype=object), float(dt_s),
                        smoothing, np.concatenate(origin).astype(np.int64))


def windows_from_runs(run_dirs: Iterable[Path | str] | Path | str, channels: Sequence[str] | None = None, *,
                      length: int = 128, stride: int = 8, smoothing: CurveSmoothing = CurveSmoothing(),
                      block_samples: int | None = None, part: str | None = None,
                      max_cycles: int | None = None) -> CurveWindows:
    """Windows of the curves of one or more run folders (all at one sample interval)."""
    dirs = [run_dirs] if isinstance(run_dirs, (str, Path)) else list(run_dirs)
    if not dirs:
        raise CurveDataError("no run folder given")
    merged: dict[str, list[np.ndarray]] = {}
    dt = None
    for d in dirs:
        dt_d, curves = read_curves(d, channels, max_cycles=max_cycles)
        if dt is not None and abs(dt_d - dt) > 1e-9 * dt:
            raise CurveDataError(f"{d}: sample interval {dt_d} s differs from {dt} s of the other run folders")
        dt = dt_d
        for ch, rows in curves.items():
            merged.setdefault(ch, []).extend(rows)
    return windows_from_curves(merged, dt, length=length, stride=stride, smoothing=smoothing,
                               block_samples=block_samples, part=part)


def concat_windows(parts: Sequence[CurveWindows]) -> CurveWindows:
    """One :class:`CurveWindows` of several with equal length, sample interval and smoothing."""
    if not parts:
        raise CurveDataError("nothing to concatenate")
    a = parts[0]
    for p in parts[1:]:
        if p.length != a.length or abs(p.dt_s - a.dt_s) > 1e-12 or p.smoothing != a.smoothing:
            raise CurveDataError("windows differ in length, sample interval or smoothing")
    targets = None if any(p.target is None for p in parts) else np.concatenate([p.target for p in parts])
    origins = None if any(p.origin is None for p in parts) else np.concatenate([p.origin for p in parts])
    return CurveWindows(np.concatenate([p.condition for p in parts]), targets,
                        np.concatenate([p.channel for p in parts]), a.dt_s, a.smoothing, origins)
