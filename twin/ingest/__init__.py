"""Ingestion of real machine logs into the twin's schema (``cycles`` and ``curves`` run folders).

A small TOML *mapping file* says how the columns of a user's CSV log map
onto :data:`twin.schema.CYCLES_SCHEMA` (names, units, missing markers,
timestamps, labels, curve files); :func:`ingest_molding` checks everything
and writes a run folder atomically, or raises an error that names the
file, the column and the row and writes nothing.

Public API::

    ingest_molding(src, mapping, out, *, skip_bad_rows=False, overwrite=False) -> Path
    ingest_curves(files, mapping, out, *, skip_bad_rows=False, overwrite=False) -> Path
    load_mapping(path, purpose="molding") -> Mapping
    IngestError, MappingError

Modules, in the order data flows: :mod:`~twin.ingest.mapping` (+ ``_check``,
``_fields``, ``_curves``, ``_spec``) reads the mapping;
:mod:`~twin.ingest.textfile` and :mod:`~twin.ingest.csv_table` read the
file; :mod:`~twin.ingest.fields`, :mod:`~twin.ingest.cycle_ids`,
:mod:`~twin.ingest.labels`, :mod:`~twin.ingest.timestamps` read the
columns (:mod:`~twin.ingest.units`, :mod:`~twin.ingest.markers` help);
:mod:`~twin.ingest.molding_log` puts the rows together;
:mod:`~twin.ingest.curve_files` and :mod:`~twin.ingest.curves` read curve
files; :mod:`~twin.ingest.dropped`, :mod:`~twin.ingest.ingest_metrics` and
:mod:`~twin.ingest.run_output` report and write.
"""
from twin.ingest.curves_ingest import ingest_curves
from twin.ingest.errors import IngestError, MappingError
from twin.ingest.mapping import load_mapping
from twin.ingest.mapping_spec import Mapping
from twin.ingest.molding import ingest_molding

__all__ = ["ingest_molding", "ingest_curves", "load_mapping", "Mapping", "IngestError", "MappingError"]
