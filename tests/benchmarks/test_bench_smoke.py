"""Smoke run of ``python -m benchmarks --quick``: it runs, its figures are finite, its JSON is written.

No timing assertions: speed targets are informational and measured by ``make bench``.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path


def test_quick_benchmarks_write_finite_results(tmp_path: Path) -> None:
    out = tmp_path / "bench" / "results.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["quick"] is True
    assert not list(out.parent.glob("*.tmp")), "temporary file left behind"
    results = data["results"]
    names = {r["name"] for r in results}
    assert any(n.startswith("curves:") for n in names)
    assert any(n.startswith("simtime:") for n in names)
    assert any(n.startswith("sink cycles:") for n in names) and any(n.startswith("sink curves:") for n in names)
    assert any(n.startswith("sweep: dask") for n in names)
    assert any(n.startswith("stamping:") for n in names)
    for r in results:
        assert isinstance(r["value"], float) and math.isfinite(r["value"]) and r["value"] > 0, r
        if r["baseline"] is not None:
            assert math.isfinite(r["baseline"]) and r["baseline"] > 0, r
            assert math.isfinite(r["ratio"]) and r["ratio"] > 0, r
        if r["target"] is not None:
            assert isinstance(r["target_met"], bool), r
        assert r["name"] in proc.stdout
