"""``twinloop run SCENARIO.toml --out DIR``: the scenario runner.

A scenario file is TOML with a top-level ``scenario = "NAME"``; the module
``scenarios/NAME.py`` provides ``run(spec, out, *, progress, overwrite,
finalize) -> Path`` and, optionally, ``write_report`` used as the
``finalize`` hook (it adds ``report.html`` to the run folder before the
folder is committed). Each scenario validates its own keys.
"""
from __future__ import annotations

import importlib
import inspect
import re
import tomllib
from pathlib import Path
from typing import Callable

#: Scenarios that ``twinloop run`` knows, by the module that runs them.
SCENARIOS: dict[str, str] = {
    "kassel_calibration": "scenarios.kassel_calibration",
    "kamp_calibration": "scenarios.kamp_calibration",
    "defect_classifier": "scenarios.defect_classifier",
    "kamp_prequential": "scenarios.kamp_prequential",
    "lstm_offset_sampling": "scenarios.lstm_offset_sampling",
    "sensor_texture": "scenarios.sensor_texture",
    "stamp_cgan": "scenarios.stamp_cgan",
    "billet_detector": "scenarios.billet_detector",
    "defect_synthesis": "scenarios.defect_synthesis",
    "what_if_defect_rate": "scenarios.what_if_defect_rate",
    "synthetic_fraction_molding": "scenarios.synthetic_fraction_molding",
    "defect_augmentation": "scenarios.defect_augmentation",
    "closed_loop": "scenarios.closed_loop",
    "synthetic_fraction_billets": "scenarios.synthetic_fraction_billets",
}
#: The report hook of each scenario (module, function).
REPORTS: dict[str, tuple[str, str]] = {
    "kassel_calibration": ("scenarios.report_kassel", "write_report"),
}


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names the file and key."""


def load_scenario(path: Path | str) -> tuple[str, dict]:
    path = Path(path)
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: TOML syntax error: {exc}") from None
    name = spec.get("scenario")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ScenarioError(f"{path}: key 'scenario' must name a scenario (one of {sorted(SCENARIOS)}), got {name!r}")
    if name not in SCENARIOS:
        raise ScenarioError(f"{path}: unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
    return name, spec


def run_scenario(path: Path | str, out: Path | str, *, overwrite: bool = False,
                 progress: Callable[[int, int], None] | None = None, dask: dict | None = None) -> Path:
    """Run the scenario file into ``out``. ``dask`` (``workers``, ``scheduler``, ``task_cache``; None values ignored)
    overrides the file's ``[dask]`` section; it is an error for a scenario that does not run on Dask."""
    name, spec = load_scenario(path)
    module = importlib.import_module(SCENARIOS[name])
    finalize = None
    if name in REPORTS:
        mod, fn = REPORTS[name]
        finalize = getattr(importlib.import_module(mod), fn)
    kwargs = {}
    if dask and any(v is not None for v in dask.values()):
        if "dask" not in inspect.signature(module.run).parameters:
            raise ScenarioError(f"{path}: scenario {name!r} does not run on Dask (--workers / --scheduler / --task-cache)")
        kwargs["dask"] = dask
    try:
        return module.run(spec, Path(out), progress=progress, overwrite=overwrite, finalize=finalize, **kwargs)
    except KeyError as exc:
        raise ScenarioError(f"{path}: {exc.args[0] if exc.args else exc}") from None
