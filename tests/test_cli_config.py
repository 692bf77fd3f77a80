"""The twinloop CLI: bad configs exit 2 with a clear message and write nothing; good ones reach the simulator."""
from __future__ import annotations

import io
import sys
import tomllib
import types
from pathlib import Path

import pytest

from scenarios.cli import main
from scenarios.progress import TqdmProgress
from twin.config import load_config
from twin.runfolder import RunFolder


@pytest.fixture
def simulator(monkeypatch):
    """A fake ``twin.simulate`` module; ``calls`` records what the CLI passed.

    Installed into sys.modules whether or not the real module exists, so these
    tests neither depend on nor run the real simulator.
    """
    calls = []

    def simulate_molding(cfg, out_dir, *, cycles=None, hours=None, progress=None, overwrite=False, finalize=None):
        calls.append({"cfg": cfg, "out_dir": out_dir, "cycles": cycles, "hours": hours,
                      "progress": progress, "overwrite": overwrite, "finalize": finalize})
        if progress is not None:
            total = cycles if cycles is not None else hours
            progress(total / 2, total)
            progress(total, total)
        with RunFolder(out_dir, overwrite=overwrite) as run:
            run.write_text("report.html", "<html></html>")
        return Path(out_dir)

    module = types.ModuleType("twin.simulate")
    module.simulate_molding = simulate_molding
    monkeypatch.setitem(sys.modules, "twin.simulate", module)
    return calls


@pytest.fixture
def no_simulator(monkeypatch):
    """A fake ``twin.simulate`` whose simulate_molding fails the test if it is called."""
    def simulate_molding(*args, **kwargs):
        pytest.fail("simulate_molding must not be called for an invalid configuration")

    module = types.ModuleType("twin.simulate")
    module.simulate_molding = simulate_molding
    monkeypatch.setitem(sys.modules, "twin.simulate", module)


SCHEDULE = "[[schedule.events]]\n"

# (id, config file text or None, extra CLI args, fragments the error must contain)
BAD_CONFIGS = [
    ("unknown-key", "[setpoints]\nmelt_temperature_C = 230.0\n", [],
     ["setpoints.melt_temperature_C: unknown key", "did you mean 'setpoints.melt_temp_C'"]),
    ("misspelled-section", "[setpoint]\nmelt_temp_C = 230.0\n", [],
     ["setpoint: unknown section", "did you mean 'setpoints'"]),
    ("string-for-float", None, ["--set", "setpoints.hold_pressure_bar=high"],
     ["setpoints.hold_pressure_bar: expected a number, got string 'high'", "(0, 3000] bar"]),
    ("bool-for-float", "[setpoints]\ncooling_time_s = true\n", [],
     ["setpoints.cooling_time_s: expected a number, got boolean", "[0, 600] s"]),
    ("float-for-count", None, ["--set", "cell.machines=1.5"],
     ["cell.machines: expected an integer", "[1, 1000]"]),
    ("negative-time", None, ["--set", "setpoints.hold_time_s=-2"],
     ["setpoints.hold_time_s: -2 s is below the minimum", "[0, 60] s"]),
    ("melt-below-no-flow", None, ["--set", "material.grade=ABS_F332", "--set", "setpoints.melt_temp_C=152"],
     ["setpoints.melt_temp_C: 152 degC", "ABS_F332", "no-flow", "(154.85, 350] degC"]),
    ("glass-fibre-range", "[material]\nglass_fiber_pct = 65.0\n", [],
     ["material.glass_fiber_pct: 65 wt% is above the maximum", "[0, 60] wt%"]),
    ("unknown-grade", None, ["--set", "material.grade=PA66"],
     ["material.grade: 'PA66' is not a known choice", "PP_579S, ABS_F332, HDPE_SABIC"]),
    ("switchover-not-below-dosing", None,
     ["--set", "setpoints.switchover_volume_cm3=70", "--set", "setpoints.dosing_volume_cm3=60"],
     ["setpoints.switchover_volume_cm3: 70 cm3 must be below setpoints.dosing_volume_cm3 = 60 cm3"]),
    ("hold-pressure-above-machine", None,
     ["--set", "setpoints.hold_pressure_bar=2400", "--set", "machine.max_injection_pressure_bar=2200"],
     ["setpoints.hold_pressure_bar", "machine.max_injection_pressure_bar", "(0, 2200] bar"]),
    ("clamp-force-above-machine", "[setpoints]\nclamp_force_kN = 1000.0\n[machine]\nmax_clamp_force_kN = 800.0\n", [],
     ["setpoints.clamp_force_kN: 1000 kN must be at most machine.max_clamp_force_kN", "(0, 800] kN"]),
    ("gate-thicker-than-wall", None, ["--set", "mold.gate_thickness_mm=2.5", "--set", "mold.wall_thickness_mm=2.0"],
     ["mold.gate_thickness_mm", "mold.wall_thickness_mm", "(0, 2] mm"]),
    ("mold-above-ejection-temp", None, ["--set", "material.grade=PP_579S", "--set", "setpoints.mold_temp_C=95"],
     ["setpoints.mold_temp_C: 95 degC", "ejection temperature", "[5, 90) degC for PP_579S"]),
    ("zero-sample-interval", None, ["--set", "curves.sample_interval_ms=0"],
     ["curves.sample_interval_ms: 0 ms is below the minimum", "(0, 1000] ms"]),
    ("zero-robots", None, ["--set", "cell.robot_count=0"], ["cell.robot_count", "[1, 1000]"]),
    ("negative-seed", None, ["--seed", "-1"], ["run.seed: -1 is below the minimum"]),
    ("malformed-set", None, ["--set", "setpoints.mold_temp_C"], ["setpoints.mold_temp_C", "KEY=VALUE"]),
    ("unknown-set-key", None, ["--set", "setpoints.mould_temp_C=30"],
     ["setpoints.mould_temp_C: unknown key", "did you mean 'setpoints.mold_temp_C'"]),
    ("toml-syntax-error", "[setpoints]\nmelt_temp_C = 230.0\nmold_temp_C = 40.0 40\n", [],
     ["bad.toml", "TOML syntax error", "line 3"]),
    ("missing-config-file", None, ["--config", "{tmp}/nope.toml"], ["nope.toml: config file not found"]),
    ("bad-event-kind", SCHEDULE + 'at_h = 1.0\nkind = "holiday"\n', [],
     ["schedule.events[0].kind: 'holiday' is not a known choice", "setpoint, lot, maintenance"]),
    ("event-unknown-set-key", SCHEDULE + 'at_h = 1.0\nkind = "setpoint"\nset = { "setpoints.mold_temperature_C" = 30.0 }\n',
     [], ["schedule.events[0].set.setpoints.mold_temperature_C: unknown key", "did you mean"]),
    ("event-bad-set-value", SCHEDULE + 'at_h = 1.0\nkind = "setpoint"\nset = { "setpoints.hold_time_s" = 90.0 }\n',
     [], ["schedule.events[0].set.setpoints.hold_time_s: 90 s is above the maximum", "[0, 60] s"]),
    ("event-negative-at_h", SCHEDULE + 'at_h = -0.5\nkind = "lot"\n', [],
     ["schedule.events[0].at_h: -0.5 h is below the minimum", ">= 0 h"]),
    ("event-missing-at_h", SCHEDULE + 'kind = "maintenance"\n', [], ["schedule.events[0].at_h: missing"]),
    ("bad-start-time", '[run]\nstart_time = "yesterday"\n', [], ["run.start_time", "ISO 8601"]),
]


@pytest.mark.parametrize(("text", "args", "fragments"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_exits_2_names_the_key_and_writes_nothing(tmp_path, capsys, no_simulator, text, args, fragments):
    work = tmp_path / "work"
    work.mkdir()
    out = work / "run"
    argv = ["simulate", "molding", "--cycles", "3", "--out", str(out), "--no-progress"]
    if "--seed" not in args:
        argv += ["--seed", "1"]
    if text is not None:
        config = tmp_path / "bad.toml"
        config.write_text(text)
        argv += ["--config", str(config)]
    argv += [a.replace("{tmp}", str(tmp_path)) for a in args]

    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    for fragment in fragments:
        assert fragment in captured.err, f"{fragment!r} not in:\n{captured.err}"
    if text is not None and "syntax" not in captured.err:
        assert "bad.toml" in captured.err  # the file is named next to the key
    assert list(work.iterdir()) == []  # no run folder, no partial folder


def test_at_least_fifteen_kinds_of_bad_config():
    assert len(BAD_CONFIGS) >= 15


def test_all_problems_are_reported_together(tmp_path, capsys, no_simulator):
    argv = ["simulate", "molding", "--cycles", "3", "--seed", "1", "--out", str(tmp_path / "run"),
            "--set", "setpoints.hold_time_s=-1", "--set", "material.grade=PA66", "--set", "nope=1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "3 problems" in err
    assert all(k in err for k in ("setpoints.hold_time_s", "material.grade", "nope"))


def test_existing_output_folder_is_refused_without_overwrite(tmp_path, capsys, no_simulator):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    assert main(["simulate", "molding", "--cycles", "3", "--seed", "1", "--out", str(out), "--no-progress"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["run"] and (out / "keep.txt").read_text() == "old"


@pytest.mark.parametrize("argv", [
    ["simulate", "molding", "--seed", "1", "--out", "x"],                                    # no length
    ["simulate", "molding", "--cycles", "3", "--hours", "1", "--seed", "1", "--out", "x"],  # both
    ["simulate", "molding", "--cycles", "0", "--seed", "1", "--out", "x"],
    ["simulate", "molding", "--hours", "-1", "--seed", "1", "--out", "x"],
    ["simulate", "molding", "--cycles", "3", "--seed", "1"],                                 # no --out
    ["simulate", "casting", "--cycles", "3", "--out", "x"],
])
def test_usage_errors_exit_2(tmp_path, monkeypatch, capsys, no_simulator, argv):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert list(tmp_path.iterdir()) == []
    capsys.readouterr()


def test_valid_run_reaches_the_simulator_with_the_validated_config(tmp_path, capsys, simulator):
    config = tmp_path / "c.toml"
    config.write_text("[setpoints]\nmold_temp_C = 35\n")
    out = tmp_path / "run"
    argv = ["simulate", "molding", "--cycles", "3", "--seed", "9", "--out", str(out), "--config", str(config),
            "--set", "setpoints.hold_time_s=5", "--no-progress"]
    assert main(argv) == 0
    [call] = simulator
    assert call["cfg"] == load_config(config, ["setpoints.hold_time_s=5", "run.seed=9"])
    assert call["cfg"]["run"]["seed"] == 9 and call["cfg"]["setpoints"]["mold_temp_C"] == 35.0
    assert (call["out_dir"], call["cycles"], call["hours"], call["progress"], call["overwrite"]) == \
        (out, 3, None, None, False)
    stdout = capsys.readouterr().out
    assert f"run folder: {out}" in stdout and "report.html" in stdout


def test_hours_with_progress_bar_and_overwrite(tmp_path, capsys, simulator):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    assert main(["simulate", "molding", "--hours", "0.5", "--seed", "1", "--out", str(out), "--overwrite"]) == 0
    [call] = simulator
    assert call["hours"] == 0.5 and call["cycles"] is None and call["overwrite"] is True
    assert isinstance(call["progress"], TqdmProgress) and call["progress"].unit == "sim_hours"
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]
    capsys.readouterr()


def test_config_show_prints_the_resolved_toml(capsys):
    assert main(["config", "show", "--set", "setpoints.mold_temp_C=33"]) == 0
    shown = tomllib.loads(capsys.readouterr().out)
    assert shown == load_config(None, ["setpoints.mold_temp_C=33"])


def test_config_check(tmp_path, capsys):
    good = tmp_path / "good.toml"
    good.write_text("[setpoints]\nmold_temp_C = 30.0\n")
    assert main(["config", "check", str(good)]) == 0
    assert capsys.readouterr().out.startswith(f"OK {good}")
    bad = tmp_path / "bad.toml"
    bad.write_text("[setpoints]\nmold_temp_C = 300.0\n")
    assert main(["config", "check", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "setpoints.mold_temp_C: 300 degC is above the maximum (allowed: [5, 150] degC)" in captured.err


def test_demo_calls_run_demo_lazily(tmp_path, monkeypatch, capsys):
    seen = []
    module = types.ModuleType("scenarios.demo")
    module.run_demo = lambda out_dir: seen.append(out_dir) or out_dir
    module.run_billet_demo = lambda out_dir: seen.append(out_dir) or out_dir
    monkeypatch.setitem(sys.modules, "scenarios.demo", module)
    assert main(["demo", "--out", str(tmp_path / "d")]) == 0
    assert seen == [tmp_path / "d", tmp_path / "d_billets"]
    assert "run folder:" in capsys.readouterr().out


def test_tqdm_progress_moves_to_absolute_done_and_clamps():
    bar = TqdmProgress(10, "cycles", file=io.StringIO())
    bar(3, 10)
    bar(3, 10)
    bar(7.5, 10)
    assert bar._bar.n == 7.5
    bar(12, 10)
    assert bar._bar.n == 10
    bar.close()
