"""twinloop calibrate and twinloop run, end to end (the Kassel study on real data, on a small budget)."""
import json
import tomllib
from pathlib import Path


from scenarios.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_run_rejects_bad_scenario_files(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('scenario = "no_such_study"\n')
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "unknown scenario" in capsys.readouterr().err
    typo = tmp_path / "typo.toml"
    typo.write_text('scenario = "kassel_calibration"\n[calibraton]\nparams = []\n')
    assert main(["run", str(typo), "--out", str(tmp_path / "o")]) == 2
    assert "calibraton" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_kassel_study_runs_end_to_end(realdata, tmp_path, monkeypatch):
    """Two factors, a small fit budget: the scenario's machinery on the real log (the full study is
    `twinloop run scenarios/kassel_calibration.toml`, ~4 min)."""
    monkeypatch.setenv("TWINLOOP_REALDATA", str(realdata))
    spec = tomllib.loads((REPO / "scenarios" / "kassel_calibration.toml").read_text())
    spec["calibration"]["max_nfev"] = 12
    spec["study"]["factors"] = ["cooling_time", "injection_velocity"]
    spec["study"]["pooled_exclude"] = []
    spec["study"]["spread_cycles"] = 5
    spec["data"]["mapping"] = str(REPO / spec["data"]["mapping"])
    import tomli_w
    path = tmp_path / "small.toml"
    path.write_text(tomli_w.dumps(spec))
    assert main(["run", str(path), "--out", str(tmp_path / "k"), "--no-progress"]) == 0
    m = json.loads((tmp_path / "k" / "metrics.json").read_text())
    for key in ("factors", "sign_correct_factors", "heldout_mae_g", "baseline_mae_g", "heldout_r2", "per_factor",
                "spread"):
        assert key in m
    assert set(m["per_factor"]) == {"cooling_time", "injection_velocity"}
    # Injection velocity's effect is large and clean in this log: even a short fit gets its sign.
    assert m["per_factor"]["injection_velocity"]["spearman_rho"] > 0.5
    assert 0.005 < m["spread"]["sim_sd_median_g"] < 0.2
    html = (tmp_path / "k" / "report.html").read_text()
    assert 'id="fig-shifts"' in html and "<script src=\"http" not in html


def test_calibrate_cli_on_an_ingested_log(realdata, tmp_path):
    log = realdata / "im_kassel_cpc/data/injection_molding/lower_workpiece/static_data.csv"
    assert main(["ingest", "molding", str(log), "--mapping", str(REPO / "mappings/kassel_cpc_static.toml"),
                 "--out", str(tmp_path / "real")]) == 0
    assert main(["calibrate", "--real", str(tmp_path / "real"), "--params",
                 "material.viscosity_factor,mold.cavity_length_mm", "--features",
                 "part_weight_g,max_injection_pressure_bar", "--offset", "part_weight_g:experiment:0.5",
                 "--max-nfev", "10", "--set", "material.glass_fiber_pct=30", "--set", "machine.screw_diameter_mm=30",
                 "--out", str(tmp_path / "cal")]) == 0
    p = json.loads((tmp_path / "cal" / "params.json").read_text())
    assert p["cost"] < p["cost_start"]
    assert set(p["estimates"]) == {"material.viscosity_factor", "mold.cavity_length_mm"}
    assert (tmp_path / "cal" / "report.html").is_file()
    # Unknown parameter: a clear error, nothing written.
    assert main(["calibrate", "--real", str(tmp_path / "real"), "--params", "mold.wall_thicknes_mm",
                 "--out", str(tmp_path / "cal2")]) == 2
    assert not (tmp_path / "cal2").exists()
