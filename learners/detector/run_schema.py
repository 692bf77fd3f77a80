"""What a plant knows about its IDs, read from a billet run folder's ``config.toml``.

A reader at a real caster knows its caster letter, the year and how many
strands it casts: they narrow positions 0, 1 and 7 of the ID
(:class:`~learners.detector.id_decoder.IdSchema`). For a run folder of the
twin the same facts are in the resolved ``config.toml`` it wrote:
``caster.code``, ``caster.strands`` and the year of ``run.start_time``.
A folder without that file (e.g. ingested real images) gets the generic
schema (any letter, any year digit, 9 strands).
"""
from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from learners.detector.dataset import DetectorInputError
from learners.detector.id_decoder import IdSchema

__all__ = ["id_schema_of_run"]


def id_schema_of_run(run_dir: Path | str) -> IdSchema:
    """The :class:`IdSchema` of a run folder (see the module docstring)."""
    path = Path(run_dir) / "config.toml"
    if not path.is_file():
        return IdSchema()
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
        caster = cfg.get("caster", {})
        code = caster.get("code")
        strands = int(caster.get("strands", 9))
        start = cfg.get("run", {}).get("start_time")
        year = str(dt.datetime.fromisoformat(start).year % 10) if start else None
        return IdSchema(caster_codes=code or None, year_digits=year, strands=strands)
    except (tomllib.TOMLDecodeError, ValueError, TypeError) as exc:
        raise DetectorInputError(f"{path}: cannot read the caster settings ({exc})") from None
