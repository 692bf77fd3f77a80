"""``python -m benchmarks [--quick] [--out runs/bench/results.json] [--only NAME ...]``

Pins the process to one core and single-threaded BLAS/OpenMP/Arrow *before*
numpy is imported, runs every benchmark module, prints one table and writes
the results as JSON (atomically: temporary file + rename).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

MODULES = ("curves", "simtime", "sink", "billet_render", "stamping", "online", "lstm_train", "gan_train", "sweep")


def pin_to_one_core(cpu: int | None) -> list[int] | None:
    """Pin this process to one CPU (the given one, else the lowest allowed); returns the affinity set."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    target = cpu if cpu is not None else allowed[0]
    try:
        os.sched_setaffinity(0, {target})
    except OSError as exc:
        print(f"benchmarks: could not pin to CPU {target}: {exc}", file=sys.stderr)
    return sorted(os.sched_getaffinity(0))


def machine_info(affinity: list[int] | None) -> dict:
    import numpy as np
    import pyarrow as pa
    import simpy

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu_model": model, "cpu_count": os.cpu_count(), "affinity": affinity,
            "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "pyarrow": pa.__version__, "simpy": simpy.__version__}


def fmt(x: object) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        if abs(x) >= 10:
            return f"{x:.1f}"
        return f"{x:.3g}"
    return str(x)


def table(results: list) -> str:
    head = ("name", "value", "unit", "baseline", "ratio", "target", "target met", "note")
    rows = []
    for r in results:
        target = None if r.target is None else f"{r.target_on} {r.target_op} {fmt(r.target)}"
        rows.append((r.name, fmt(r.value), r.unit, fmt(r.baseline), fmt(r.ratio), target or "-",
                     fmt(r.target_met), r.note))
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    widths[-1] = 0
    line = lambda cells: "  ".join(str(c).ljust(w) if i < len(cells) - 1 else str(c)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(head), line(["-" * w for w in widths[:-1]] + ["----"])] + [line(r) for r in rows])


def write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, default=str, allow_nan=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: a smoke run of a few seconds")
    ap.add_argument("--out", default="runs/bench/results.json", help="JSON results file (default: %(default)s)")
    ap.add_argument("--only", nargs="+", choices=MODULES, help="run only these benchmarks")
    ap.add_argument("--repeat", type=int, default=3, help="timed repeats, best is reported (default: %(default)s)")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the lowest allowed)")
    args = ap.parse_args(argv)

    affinity = pin_to_one_core(args.cpu)
    info = machine_info(affinity)
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    results = []
    for name in args.only or MODULES:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        t_mod = time.perf_counter()
        print(f"benchmarks: {name} ...", file=sys.stderr, flush=True)
        results += module.run(quick=args.quick, repeat=args.repeat)
        print(f"benchmarks: {name} done in {time.perf_counter() - t_mod:.1f} s", file=sys.stderr, flush=True)
    print(table(results))
    data = {
        "date": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "repeat": 1 if args.quick else args.repeat,
        "elapsed_s": round(time.perf_counter() - t0, 3),
        "machine": info,
        "results": [r.to_json() for r in results],
    }
    out = Path(args.out)
    write_json_atomic(out, data)
    print(f"\nresults: {out}  (targets are informational; ratios are against baselines measured in this run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
