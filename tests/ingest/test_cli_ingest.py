"""twinloop ingest molding / curves: exit codes, messages, and the run folder."""
from __future__ import annotations

from pathlib import Path

from scenarios.cli import main
from tests.ingest.helpers import LOG, MAPPING, assert_nothing_written, write

EXAMPLES = Path(__file__).resolve().parents[2] / "mappings" / "examples"


def test_cli_ingest_molding(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["ingest", "molding", str(EXAMPLES / "spritzguss_beispiel.csv"),
                 "--mapping", str(EXAMPLES / "spritzguss_beispiel.toml"), "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert f"run folder: {out}" in text and "rows: 10 read, 10 written, 0 dropped" in text
    assert sorted(p.name for p in out.iterdir()) == ["cycles.parquet", "mapping.toml", "metrics.json"]
    assert main(["ingest", "molding", str(EXAMPLES / "spritzguss_beispiel.csv"),
                 "--mapping", str(EXAMPLES / "spritzguss_beispiel.toml"), "--out", str(out)]) == 2  # exists
    assert "already exists" in capsys.readouterr().err


def test_cli_bad_data_exits_1_and_writes_nothing(tmp_path, capsys):
    src, mp = write(tmp_path, LOG.replace("30,4", "x"))
    out = tmp_path / "run"
    assert main(["ingest", "molding", str(src), "--mapping", str(mp), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "nothing written" in err and "line 3 (data row 2), column 'cycle'" in err
    assert_nothing_written(out)
    assert main(["ingest", "molding", str(src), "--mapping", str(mp), "--out", str(out), "--skip-bad-rows"]) == 0
    assert "1 dropped" in capsys.readouterr().out and (out / "dropped_rows.csv").exists()


def test_cli_bad_mapping_exits_2(tmp_path, capsys):
    src, mp = write(tmp_path, LOG, MAPPING.replace("[id]", "[idd]"))
    assert main(["ingest", "molding", str(src), "--mapping", str(mp), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "invalid mapping" in err and "idd: unknown key (did you mean 'id'?)" in err


def test_cli_ingest_curves(tmp_path, capsys):
    f = tmp_path / "c.csv"
    f.write_text("time,p\n0,1\n0.01,2\n")
    mp = tmp_path / "m.toml"
    mp.write_text('[curves]\nformat = "csv"\n[curves.channels]\np = "injection_pressure_bar"\n')
    assert main(["ingest", "curves", str(f), "--mapping", str(mp), "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "curves.parquet").exists()
