"""``ingest_molding``: a real molding-machine log -> a run folder in the twin's schema.

::

    from twin.ingest import ingest_molding
    run = ingest_molding("static_data.csv", "mappings/kassel_cpc_static.toml", "runs/kassel")
    # runs/kassel/cycles.parquet (+ curves.parquet), mapping.toml, metrics.json

Every check runs before anything is written (mapping, then file, columns,
rows; then the curve files the log names). A problem stops the ingestion
with an :class:`~twin.ingest.errors.IngestError` naming file, column and
row, and no output folder is created; ``skip_bad_rows=True`` drops bad
*rows* instead (listed in ``dropped_rows.csv``), while file-level problems
still stop.

Rows: ``source = "real"``; ``run_id = "<mapping name>-<first 12 hex of the
log's SHA-256>"`` (the same log and mapping give the same run_id); ``seed``,
``config_hash``, ``generator_checkpoint`` and every ``hidden_*`` column
null; ``code_version`` the twinloop version.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa

from twin.arrow_rows import encode_dictionaries, plain_schema, to_record_batch
from twin.ingest.curves import CurveCollector
from twin.ingest.dropped import reason_counts
from twin.ingest.errors import IngestError, RowProblem
from twin.ingest.ingest_metrics import cycles_metrics
from twin.ingest.mapping import load_mapping
from twin.ingest.mapping_spec import Mapping
from twin.ingest.molding_log import MoldingLog, read_molding_log
from twin.ingest.run_output import write_run
from twin.parquet_encoding import package_version
from twin.runfolder import RunFolder
from twin.schema import CYCLES_SCHEMA

__all__ = ["ingest_molding", "run_id_for"]

log = logging.getLogger(__name__)


def ingest_molding(src: Path | str, mapping: Path | str | Mapping, out: Path | str, *,
                   skip_bad_rows: bool = False, overwrite: bool = False) -> Path:
    """Ingest the cycle log ``src`` with ``mapping`` (a file or a loaded mapping) into the run folder ``out``.

    Returns ``out``. Raises :class:`~twin.ingest.errors.MappingError` for a bad
    mapping, :class:`~twin.ingest.errors.IngestError` for bad data, and
    :class:`twin.runfolder.RunFolderExistsError` when ``out`` exists and is
    not empty (unless ``overwrite``); in every case nothing is written.
    """
    src, out = Path(src), Path(out)
    spec = mapping if isinstance(mapping, Mapping) else load_mapping(mapping, "molding")
    RunFolder(out, overwrite=overwrite).check_target()
    data = read_molding_log(src, spec, skip_bad_rows)
    run_id = run_id_for(spec, data.file.sha256)
    code_version = package_version()
    cols = dict(data.columns)
    cols["run_id"] = [run_id] * data.n_rows
    cols["code_version"] = [code_version] * data.n_rows
    cycles = _table(cols, data.n_rows)

    problems = list(data.problems)
    tables = {"cycles": cycles}
    curve_metrics = None
    if spec.curves is not None and spec.curves.file_column:
        collector = _read_curves(src, spec, data, cycles, run_id, skip_bad_rows, problems)
        curve_metrics = collector.metrics()
        if collector.rows:
            tables["curves"] = collector.table()

    dropped_rows = data.table.n_data_rows - data.n_rows
    metrics = {
        "kind": "ingest molding",
        "run_id": run_id,
        "source_file": str(src),
        "source_sha256": data.file.sha256,
        "mapping_file": str(spec.path),
        "mapping_name": spec.name,
        "code_version": code_version,
        "rows_read": data.table.n_data_rows,
        "rows_written": data.n_rows,
        "rows_dropped": dropped_rows,
        "dropped_by_kind": reason_counts(problems),
        "timestamps_filled": data.timestamps_filled,
        "timestamps_filled_off_date": data.timestamps_filled_off_date,
        "order": spec.time.order if spec.time else "check",
        **cycles_metrics(cycles, spec.time.timezone if spec.time else "UTC"),
    }
    if curve_metrics is not None:
        metrics["curves"] = curve_metrics
    lineage = {"run_id": run_id, "source": "real", "source_file": src.name, "source_sha256": data.file.sha256,
               "mapping": spec.name, "code_version": code_version}
    write_run(out, overwrite=overwrite, tables=tables, mapping_text=spec.text, metrics=metrics, problems=problems,
              lineage=lineage)
    log.info("ingested %s: %d of %d rows -> %s", src, data.n_rows, data.table.n_data_rows, out)
    return out


def run_id_for(mapping: Mapping, sha256: str) -> str:
    """``<mapping name>-<first 12 hex digits of the source's SHA-256>``."""
    return f"{mapping.name}-{sha256[:12]}"


def _table(cols: dict, n: int) -> pa.Table:
    batch = to_record_batch(cols, plain_schema(CYCLES_SCHEMA), n, where="cycles.parquet")
    return encode_dictionaries(pa.Table.from_batches([batch]), CYCLES_SCHEMA)


def _read_curves(src: Path, spec: Mapping, data: MoldingLog, cycles: pa.Table, run_id: str, skip_bad_rows: bool,
                 problems: list[RowProblem]) -> CurveCollector:
    """Read the curve file each written row names (in output order); missing files are counted, not errors."""
    cs = spec.curves
    assert cs is not None and cs.file_column is not None
    collector = CurveCollector(cs, run_id, spec.machine.screw_diameter_mm)
    folder = src.parent / cs.directory
    col = data.table.column_index(cs.file_column, "curves.file_column")
    machine_ids = cycles.column("machine_id").to_pylist()
    cycle_ids = cycles.column("cycle_id").to_pylist()
    for k, i in enumerate(data.rows):
        row = data.table.rows[i]
        name = row[col].strip()
        if not name or cs.missing.matches(name):
            collector.no_file += 1
            continue
        path = folder / name
        if not path.is_file():
            collector.files_missing.append(name)
            continue
        try:
            collector.add(path, machine_id=machine_ids[k], cycle_id=cycle_ids[k])
        except IngestError as exc:
            if not skip_bad_rows:
                raise IngestError(f"{exc} (curve file of {src}, line {data.table.lines[i]}, "
                                  f"column {cs.file_column!r})") from None
            collector.failed.append(name)
            problems.append(RowProblem(str(src), data.table.lines[i], data.table.data_rows[i], cs.file_column, name,
                                       f"curve not written (the cycle row is kept): {exc}", "curve_file"))
    return collector
