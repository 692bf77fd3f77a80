"""Small data sets for the learner tests: synthetic curve records and tiny simulated run folders.

The simulated runs are made once per test session (cached by their
arguments under pytest's base temporary folder) with the twin itself:
tests may call the simulator, the learners may not.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

_CACHE: dict[tuple, Path] = {}

#: Channels of the synthetic curve records.
SYN_CHANNELS = ("pressure_bar", "position_mm", "force_kN")


def synthetic_records(n: int, seed: int = 0, n_samples: int = 300, interval_s: float = 0.01) -> list[dict]:
    """Curve records of three classes that differ in one channel's plateau (an easy, learnable signal).

    ``good``: pressure plateau at 250; ``sink_marks``: at 200; ``flash``:
    force plateau at 300 instead of 600. Noise everywhere.
    """
    rng = np.random.default_rng(seed)
    classes = ["good", "sink_marks", "flash"]
    out = []
    t = np.arange(n_samples) * interval_s
    for i in range(n):
        c = classes[i % 3]
        hold = 200.0 if c == "sink_marks" else 250.0
        force = 300.0 if c == "flash" else 600.0
        pressure = np.where((t > 0.5) & (t < 2.0), hold, 5.0) + rng.normal(0, 3, n_samples)
        position = 30.0 * np.exp(-t) + rng.normal(0, 0.1, n_samples)
        f = np.where(t > 0.2, force, 0.0) + rng.normal(0, 5, n_samples)
        out.append({"cycle_id": i, "good": c == "good", "defect_type": c, "sample_interval_s": interval_s,
                    "pressure_bar": pressure.astype(np.float32), "position_mm": position.astype(np.float32),
                    "force_kN": f.astype(np.float32)})
    return out


def sim_run(tmp_path_factory, *, cycles: int = 60, seed: int = 3, changes: dict | None = None,
            curves: bool = True, name: str = "sim") -> Path:
    """A simulated run folder (cached per session)."""
    key = (cycles, seed, tuple(sorted((changes or {}).items())), curves, name)
    if key in _CACHE and _CACHE[key].is_dir():
        return _CACHE[key]
    from twin.config import apply_changes, load_config
    from twin.simulate import simulate_molding

    cfg = apply_changes(load_config(None, [f"run.seed={seed}"]),
                        {**(changes or {}), "curves.enabled": curves})
    path = tmp_path_factory.mktemp("learner-runs") / name
    simulate_molding(cfg, path, cycles=cycles)
    _CACHE[key] = path
    return path


def as_real(src: Path, dst: Path) -> Path:
    """A copy of a simulated run folder whose cycles say ``source = real`` (and no hidden state)."""
    dst.mkdir(parents=True)
    t = pq.read_table(src / "cycles.parquet")
    col = t.schema.get_field_index("source")
    real = pa.array(["real"] * t.num_rows).dictionary_encode()
    real = pc.cast(real, t.schema.field("source").type)
    t = t.set_column(col, t.schema.field("source"), real)
    pq.write_table(t, dst / "cycles.parquet")
    return dst
