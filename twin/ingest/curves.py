"""Curve files -> rows of the ``curves`` table (:data:`twin.schema.CURVES_SCHEMA`).

Each mapped signal (``[curves.channels]``) becomes its channel, in the
channel's unit (:data:`physics.molding.channels.CHANNEL_UNITS`): ``value =
raw * scale + offset`` in the signal's unit — the mapping's ``unit``, else
the unit printed in the file (Arburg units row), else the channel's own —
then converted (a screw volume in cm³ becomes ``screw_position_mm`` through
``[machine] screw_diameter_mm``, the same way as cushion volumes; see
:mod:`twin.ingest.units`). Channels no signal maps to are null.

:class:`CurveCollector` gathers the rows of one ingestion and the counts
that go into ``metrics.json`` (files read, missing, resampled, skipped).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from physics.molding.channels import CHANNEL_UNITS
from twin.arrow_rows import encode_dictionaries, plain_schema, to_record_batch
from twin.ingest.curve_files import CurveData, read_curve_file
from twin.ingest.errors import IngestError
from twin.ingest.mapping_spec import CurvesSpec
from twin.ingest.units import UnitError, canonical_unit, converter
from twin.schema import CURVES_SCHEMA

__all__ = ["curve_row", "CurveCollector"]

log = logging.getLogger(__name__)


def curve_row(data: CurveData, spec: CurvesSpec, *, run_id: str, machine_id: str, cycle_id: int,
              screw_diameter_mm: float | None) -> dict[str, Any]:
    """One ``curves`` record (a dict of column -> value) from a read curve file."""
    row: dict[str, Any] = {"run_id": run_id, "source": "real", "machine_id": machine_id, "cycle_id": cycle_id,
                           "sample_interval_s": data.sample_interval_s, "n_samples": data.n_samples}
    for ch in spec.channels:
        values = data.signals[ch.signal] * ch.scale + ch.offset
        target = canonical_unit(CHANNEL_UNITS[ch.channel])
        unit = ch.unit
        if unit is None:
            printed = data.units.get(ch.signal)
            if printed:
                unit = canonical_unit(printed)
                if unit is None:
                    raise IngestError(f"{data.path}, column {ch.signal!r}: unknown unit {printed!r} in the file; "
                                      f"give curves.channels.{ch.signal}.unit")
            else:
                unit = target
        if unit != target:
            try:
                values = converter(unit, target, screw_diameter_mm)(values)  # type: ignore[arg-type]
            except UnitError as exc:
                raise IngestError(f"{data.path}, column {ch.signal!r} -> channel {ch.channel}: {exc}") from None
        row[ch.channel] = np.asarray(values, dtype=np.float32)
    return row


@dataclass
class CurveCollector:
    """Reads curve files for one ingestion and keeps their rows and counts."""

    spec: CurvesSpec
    run_id: str
    screw_diameter_mm: float | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    no_file: int = 0
    files_missing: list[str] = field(default_factory=list)
    resampled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    sha256: list[str] = field(default_factory=list)

    def add(self, path: Path, *, machine_id: str, cycle_id: int) -> None:
        """Read ``path`` and keep its row; raise :class:`IngestError` if it is bad."""
        data = read_curve_file(path, self.spec, [c.signal for c in self.spec.channels])
        self.rows.append(curve_row(data, self.spec, run_id=self.run_id, machine_id=machine_id, cycle_id=cycle_id,
                                   screw_diameter_mm=self.screw_diameter_mm))
        self.sha256.append(data.sha256)
        if data.resampled:
            log.info("%s: time steps not uniform, resampled at %g s", path, data.sample_interval_s)
            self.resampled.append(str(path))

    def table(self) -> pa.Table:
        """The collected rows as a ``curves`` table."""
        names = CURVES_SCHEMA.names
        columns = {n: [r.get(n) for r in self.rows] for n in names}
        batch = to_record_batch(columns, plain_schema(CURVES_SCHEMA), len(self.rows), where="curves.parquet")
        return encode_dictionaries(pa.Table.from_batches([batch]), CURVES_SCHEMA)

    def metrics(self) -> dict[str, Any]:
        """Counts for ``metrics.json``."""
        return {
            "rows_written": len(self.rows),
            "rows_without_file": self.no_file,
            "files_missing": len(self.files_missing),
            "files_missing_first": self.files_missing[:10],
            "files_resampled": self.resampled,
            "files_skipped_bad": len(self.failed),
            "channels": {c.channel: c.signal for c in self.spec.channels},
        }
