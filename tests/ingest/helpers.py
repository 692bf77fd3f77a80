"""Small synthetic logs and mappings for the ingestion tests (written into tmp_path, never real data)."""
from __future__ import annotations

from pathlib import Path

#: A three-cycle log: ';' separated, ',' decimal, pressures in MPa.
LOG = (
    "id;ts;cycle;p;reason\n"
    "1;2024-01-01 00:00:00;30,5;60,1;\n"
    "2;2024-01-01 00:00:31;30,4;60,2;flash\n"
    "3;2024-01-01 00:01:01;30,6;60,0;\n"
)

MAPPING = '''
name = "synthetic"
[source]
separator = ";"
decimal = ","
machine_id = "m1"
[id]
column = "id"
[time]
column = "ts"
format = "%Y-%m-%d %H:%M:%S"
[fields.cycle_time_s]
column = "cycle"
[fields.max_injection_pressure_bar]
column = "p"
unit = "MPa"
[label]
reason_column = "reason"
reasons = { "flash" = "flash" }
'''


def write(tmp_path: Path, log: str | bytes = LOG, mapping: str = MAPPING, name: str = "log.csv") -> tuple[Path, Path]:
    """Write a log and a mapping into ``tmp_path``; returns their paths."""
    src = tmp_path / name
    if isinstance(log, bytes):
        src.write_bytes(log)
    else:
        src.write_text(log, encoding="utf-8")
    mp = tmp_path / "map.toml"
    mp.write_text(mapping, encoding="utf-8")
    return src, mp


def assert_nothing_written(out: Path) -> None:
    """Neither the output folder nor a partial sibling of it exists."""
    assert not out.exists(), f"{out} was created"
    assert not list(out.parent.glob(out.name + ".partial-*")), "a partial folder was left behind"
