"""Writing an ingestion run folder, all at once or not at all.

Everything is computed in memory first (:mod:`twin.ingest.molding`); this
module only writes, inside a :class:`twin.runfolder.RunFolder` (a sibling
``DIR.partial-*`` renamed to ``DIR`` at the end), so a failure or an
interrupt leaves no output folder::

    DIR/
      cycles.parquet     CYCLES_SCHEMA, source = "real" (not for ingest curves)
      curves.parquet     CURVES_SCHEMA, when curves were read
      mapping.toml       the mapping file, byte for byte
      metrics.json       counts and a description of the data (twin.ingest.ingest_metrics)
      dropped_rows.csv   only when rows were dropped (--skip-bad-rows)

Parquet files carry lineage metadata: run_id, source ``real``, source file
and its SHA-256, mapping name, twinloop version.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from twin.ingest.dropped import dropped_rows_csv
from twin.ingest.errors import RowProblem
from twin.runfolder import RunFolder
from twin.sinks import write_table_atomic

__all__ = ["write_run"]


def write_run(out: Path, *, overwrite: bool, tables: dict[str, pa.Table], mapping_text: bytes,
              metrics: dict[str, Any], problems: list[RowProblem], lineage: dict[str, str]) -> Path:
    """Write the run folder ``out``; ``tables``: ``{"cycles": ..., "curves": ...}`` (any subset)."""
    with RunFolder(out, overwrite=overwrite) as run:
        for name, table in tables.items():
            write_table_atomic(run.path(f"{name}.parquet"), table, metadata=lineage)
        run.write_bytes("mapping.toml", mapping_text)
        run.write_json("metrics.json", metrics)
        if problems:
            run.write_text("dropped_rows.csv", dropped_rows_csv(problems))
    return out
