"""The end-to-end demonstration behind ``twinloop demo`` and ``make demo``.

One shift of the default molding cell (``twin/defaults/molding.toml``: a
PP strip mold on one machine, seed 42, breakdowns every ~10 h on average,
34 sensor channels at 10 ms) is simulated into a run folder, and the HTML
report is written into the same folder by the simulator's ``finalize``
hook, so the folder appears complete or not at all::

    from scenarios.demo import run_demo
    report = run_demo(Path("runs/demo"))      # -> runs/demo/report.html

Then a short shift of the default billet line (``twin/defaults/billets.toml``:
a 4-strand caster, hot stamping, camera site A; :data:`DEMO_BILLETS`
billets) goes into its own folder, whose report shows a grid of example
face images with their character boxes::

    from scenarios.demo import run_billet_demo
    report = run_billet_demo(Path("runs/demo_billets"))

The demo folders are meant to be thrown away: they are overwritten on every
run. The seed is the config's (``run.seed = 42``), so every demo run gives
the same cycles and the same report.
"""
from __future__ import annotations

from pathlib import Path

from scenarios.report_molding import REPORT_NAME, write_report
from twin.config import load_config
from twin.simulate import simulate_molding

__all__ = ["run_demo", "run_billet_demo", "DEMO_HOURS", "DEMO_BILLETS"]

#: Default length of the demo: one 8-hour shift of simulated time (~1,400 cycles).
DEMO_HOURS = 8.0
#: Billets in the billet-line demo (~2.5 simulated hours of a 4-strand caster).
DEMO_BILLETS = 240


def run_demo(out_dir: Path, hours: float = DEMO_HOURS, progress: bool = True) -> Path:
    """Simulate ``hours`` of the default cell into ``out_dir`` (replacing it) and return the report's path.

    ``progress`` shows a tqdm bar in simulated hours on stderr.
    """
    cfg = load_config()
    bar = None
    if progress:
        from scenarios.progress import TqdmProgress

        bar = TqdmProgress(hours, "sim_hours", desc="demo")
    try:
        run_dir = simulate_molding(cfg, Path(out_dir), hours=hours, progress=bar, overwrite=True,
                                   finalize=write_report)
    finally:
        if bar is not None:
            bar.close()
    return Path(run_dir) / REPORT_NAME


def run_billet_demo(out_dir: Path, billets: int = DEMO_BILLETS, progress: bool = True) -> Path:
    """Simulate ``billets`` billets of the default billet line into ``out_dir`` (replacing it); the report's path."""
    from scenarios.report_billets import REPORT_NAME as BILLET_REPORT
    from scenarios.report_billets import write_report as write_billet_report
    from twin.billet_line.simulate import simulate_billets

    cfg = load_config(kind="billets")
    bar = None
    if progress:
        from scenarios.progress import TqdmProgress

        bar = TqdmProgress(billets, "billets", desc="billet demo")
    try:
        run_dir = simulate_billets(cfg, Path(out_dir), billets=billets, progress=bar, overwrite=True,
                                   finalize=write_billet_report)
    finally:
        if bar is not None:
            bar.close()
    return Path(run_dir) / BILLET_REPORT
