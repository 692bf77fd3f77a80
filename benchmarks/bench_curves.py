"""Cycles per second with the full 34-channel curves, against a bare numpy loop.

Two twin figures, both with SimPy + physics + curve rendering + bus:

* ``curves_twin``: the cell built with :func:`twin.cell.build_cell` and a bus
  whose only subscribers count records (no Parquet);
* ``curves_full``: :func:`twin.simulate.simulate_molding` into a temporary
  folder: everything a user gets, including the Parquet sinks and metrics.

Baseline (``bare numpy``): per cycle, a float32 array of exactly the shape
the twin rendered for that cycle (34 x n_samples, the n_samples sequence
read from the twin run), filled once, plus the same random draws as the
twin makes per cycle: one float32 ``standard_normal`` of the full array
shape (the curve renderer's noise) and the twin's other draws (sensor noise
of the scalars, shot-to-shot variation, lots, breakdowns), counted in a
calibration run by wrapping every ``numpy.random.Generator`` of each machine
in a counting proxy.
"""
from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import SEED, Result, bench_config, interleaved, ratio, run_full, run_twin

N_CHANNELS = 34
TARGET_RATIO = 0.5


class CountingGenerator:
    """Forwards to a ``numpy.random.Generator`` and tallies the numbers each method returns."""

    def __init__(self, gen: np.random.Generator, name: str, tally: dict):
        self._gen, self._name, self._tally = gen, name, tally

    def __getattr__(self, attr: str) -> Any:
        f = getattr(self._gen, attr)
        if not callable(f):
            return f

        def counted(*args: Any, **kwargs: Any) -> Any:
            out = f(*args, **kwargs)
            dtype = str(getattr(out, "dtype", "float64"))
            key = (self._name, attr, dtype)
            self._tally[key][0] += 1
            self._tally[key][1] += int(np.size(out))
            return out

        return counted


def count_draws(cfg: dict, cycles: int) -> dict[str, Any]:
    """Run the twin with counting generators; random numbers per cycle, split into the curve
    noise (float32 draws of at least a full channel) and everything else."""
    tally: dict = defaultdict(lambda: [0, 0])

    def hook(machine: Any) -> None:
        for attr, value in list(vars(machine).items()):
            if isinstance(value, np.random.Generator):
                setattr(machine, attr, CountingGenerator(value, f"{machine.name}.{attr}", tally))

    run = run_twin(cfg, cycles, rng_hook=hook)
    n = run["cycles"]
    total = sum(v[1] for v in tally.values())
    curve_numbers = sum(v[1] for k, v in tally.items() if k[2] == "float32")
    curve_calls = sum(v[0] for k, v in tally.items() if k[2] == "float32")
    expected = N_CHANNELS * sum(run["n_samples"])
    return {
        "cycles": n,
        "n_samples": run["n_samples"],
        "curve_draw_calls_per_cycle": curve_calls / n,
        "curve_numbers_per_cycle": curve_numbers / n,
        "curve_numbers_match_array_size": curve_numbers == expected,
        "other_numbers_per_cycle": (total - curve_numbers) / n,
        "calls": {f"{k[0]}.{k[1]}[{k[2]}]": {"calls": v[0], "numbers": v[1]} for k, v in sorted(tally.items())},
    }


def bare_numpy_loop(n_samples: list[int], other_draws: int, seed: int = SEED) -> int:
    """The baseline: per cycle a filled (34, n) float32 array plus the twin's random draws."""
    rng = np.random.default_rng(seed)
    fill = np.arange(N_CHANNELS, dtype=np.float32)[:, None]
    for n in n_samples:
        out = np.empty((N_CHANNELS, n), dtype=np.float32)
        out[...] = fill
        noise = rng.standard_normal((N_CHANNELS, n), dtype=np.float32)
        out += noise
        if other_draws:
            rng.standard_normal(other_draws)
    return len(n_samples)


def run(quick: bool = False, repeat: int = 3) -> list[Result]:
    cycles = 12 if quick else 2000
    repeat = 1 if quick else repeat
    cfg = bench_config()
    # Calibration over exactly the cycles that are timed (same seed, same config, same draws):
    # the twin's curve lengths and its random numbers per cycle.
    draws = count_draws(cfg, cycles)
    n_samples = draws.pop("n_samples")
    other = int(round(draws["other_numbers_per_cycle"]))
    with tempfile.TemporaryDirectory(prefix="twinloop-bench-") as tmp:
        out = Path(tmp) / "run"
        # Warm-up: imports, caches, the BYTE_STREAM_SPLIT probe, numpy's first-call costs.
        run_twin(cfg, 4)
        run_full(cfg, 4, out)
        bare_numpy_loop(n_samples[:4], other)
        t = interleaved({
            "bare": lambda: bare_numpy_loop(n_samples, other),
            "twin": lambda: run_twin(cfg, cycles),
            "full": lambda: run_full(cfg, cycles, out),
        }, repeat, warmup=False)
        curves_bytes = (out / "curves.parquet").stat().st_size
    base = cycles / t["bare"].best
    twin = cycles / t["twin"].best
    full = cycles / t["full"].best
    ns = np.asarray(n_samples)
    shape = {"cycles": cycles, "n_samples_mean": float(ns.mean()), "n_samples_min": int(ns.min()),
             "n_samples_max": int(ns.max()), "channels": N_CHANNELS,
             "MB_per_cycle_float32": float(ns.mean()) * N_CHANNELS * 4 / 1e6}
    common = {"shape": shape, "draws": draws, "baseline_timing": t["bare"].summary()}
    return [
        Result("curves: bare numpy loop (baseline)", base, "cycles/s",
               note=f"34x{ns.mean():.0f} float32 filled + 1 normal draw of that shape + {other} more draws per cycle",
               extra={"timing": t["bare"].summary(), **common}),
        Result("curves: twin, no Parquet", twin, "cycles/s", baseline=base, ratio=ratio(twin, base),
               target=TARGET_RATIO, note="SimPy + physics + 34 curves + bus (counting subscribers)",
               extra={"timing": t["twin"].summary(), **common}),
        Result("curves: simulate_molding", full, "cycles/s", baseline=base, ratio=ratio(full, base),
               target=TARGET_RATIO, note=f"incl. Parquet sinks; curves.parquet {curves_bytes / cycles / 1e3:.0f} kB/cycle",
               extra={"timing": t["full"].summary(), "curves_parquet_bytes": curves_bytes, **common}),
    ]
