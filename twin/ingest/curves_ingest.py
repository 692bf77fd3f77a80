"""``ingest_curves``: curve files on their own (no cycle log) -> a run folder with ``curves.parquet``.

::

    ingest_curves(["lower_workpiece_cycle_00002.txt"], "mappings/kassel_cpc_static.toml", "runs/kassel_curve")

Uses the mapping's ``[curves]`` table (format, channels), ``[machine]``
(screw diameter) and ``[source] machine_id`` (default ``"unknown"``); the
other tables are ignored, so a cycle-log mapping with a ``[curves]`` table
works as it is. ``cycle_id``: the number that ``[curves] cycle_id_pattern``
finds in each file name (``lower_workpiece_cycle_00002.txt`` -> 2), or
1, 2, ... in argument order without a pattern. ``run_id``:
``<mapping name>-<12 hex of a SHA-256 over the files' hashes>``.

A bad file stops the ingestion (nothing written) unless
``skip_bad_rows=True``: then it is left out and listed in
``dropped_rows.csv``.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

from twin.ingest.curves import CurveCollector
from twin.ingest.errors import IngestError, RowProblem
from twin.ingest.mapping import load_mapping
from twin.ingest.mapping_spec import Mapping
from twin.ingest.molding_log import DEFAULT_MACHINE_ID
from twin.ingest.run_output import write_run
from twin.parquet_encoding import package_version
from twin.runfolder import RunFolder

__all__ = ["ingest_curves"]


def ingest_curves(files: Sequence[Path | str], mapping: Path | str | Mapping, out: Path | str, *,
                  skip_bad_rows: bool = False, overwrite: bool = False) -> Path:
    """Ingest curve ``files`` with ``mapping`` into the run folder ``out``; returns ``out``."""
    paths = [Path(f) for f in files]
    out = Path(out)
    spec = mapping if isinstance(mapping, Mapping) else load_mapping(mapping, "curves")
    if spec.curves is None:
        raise IngestError(f"{spec.path}: the mapping has no [curves] table")
    if not paths:
        raise IngestError("no curve files given")
    RunFolder(out, overwrite=overwrite).check_target()
    ids = _cycle_ids(paths, spec)
    digest = hashlib.sha256()
    for p in paths:
        try:
            digest.update(hashlib.sha256(p.read_bytes()).hexdigest().encode())
        except OSError as exc:
            raise IngestError(f"{p}: cannot read the curve file: {exc.strerror or exc}") from None
    run_id = f"{spec.name}-{digest.hexdigest()[:12]}"
    machine_id = spec.source.machine_id or DEFAULT_MACHINE_ID
    collector = CurveCollector(spec.curves, run_id, spec.machine.screw_diameter_mm)
    problems: list[RowProblem] = []
    for k, (path, cid) in enumerate(zip(paths, ids), start=1):
        try:
            collector.add(path, machine_id=machine_id, cycle_id=cid)
        except IngestError as exc:
            if not skip_bad_rows:
                raise
            collector.failed.append(str(path))
            problems.append(RowProblem(str(path), 0, k, "", str(path), str(exc), "curve_file"))
    if not collector.rows:
        raise IngestError(f"none of the {len(paths)} curve files could be read: "
                          + "; ".join(p.reason for p in problems[:3]))
    code_version = package_version()
    metrics = {
        "kind": "ingest curves",
        "run_id": run_id,
        "files": [str(p) for p in paths],
        "mapping_file": str(spec.path),
        "mapping_name": spec.name,
        "code_version": code_version,
        "files_read": len(collector.rows),
        "files_dropped": len(problems),
        "curves": collector.metrics(),
        "samples": {str(r["cycle_id"]): {"n_samples": r["n_samples"], "sample_interval_s": r["sample_interval_s"]}
                    for r in collector.rows},
    }
    lineage = {"run_id": run_id, "source": "real", "mapping": spec.name, "code_version": code_version}
    return write_run(out, overwrite=overwrite, tables={"curves": collector.table()}, mapping_text=spec.text,
                     metrics=metrics, problems=problems, lineage=lineage)


def _cycle_ids(paths: list[Path], spec: Mapping) -> list[int]:
    pattern = spec.curves.cycle_id_pattern if spec.curves else None
    if pattern is None:
        return list(range(1, len(paths) + 1))
    ids = []
    seen: dict[int, Path] = {}
    for p in paths:
        m = pattern.search(p.name)
        if m is None or not m.group(1).isdigit():
            raise IngestError(f"{p}: curves.cycle_id_pattern {pattern.pattern!r} finds no cycle number in the file name")
        cid = int(m.group(1))
        if cid in seen:
            raise IngestError(f"{p}: cycle_id {cid} from the file name duplicates {seen[cid]}")
        seen[cid] = p
        ids.append(cid)
    return ids
