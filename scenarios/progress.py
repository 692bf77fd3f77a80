"""A tqdm progress bar behind the simulator's progress-callback protocol.

Protocol (what ``twin.simulate.simulate_molding`` calls): ``progress(done,
total)``, both in one unit — cycles when the run length was given in cycles,
simulated hours when it was given in hours. ``done`` is absolute (not an
increment) and never decreases. Progress bars belong to the CLI edge; library
code only calls the callback.
"""
from __future__ import annotations

from typing import Any

from tqdm import tqdm

__all__ = ["TqdmProgress"]


class TqdmProgress:
    """Callable ``progress(done, total=None)`` that moves a tqdm bar to ``done``.

    ``unit`` is ``"cycles"`` or ``"sim_hours"`` (any text works). tqdm
    throttles redraws itself, so calling this once per cycle is cheap.
    """

    def __init__(self, total: float, unit: str, **tqdm_kwargs: Any):
        self.unit = unit
        fmt = {} if unit == "cycles" else {"bar_format": "{l_bar}{bar}| {n:.2f}/{total:.2f} {unit} [{elapsed}<{remaining}]"}
        self._bar = tqdm(total=total, unit=unit, dynamic_ncols=True, **{**fmt, **tqdm_kwargs})

    def __call__(self, done: float, total: float | None = None) -> None:
        if total is not None and total != self._bar.total:
            self._bar.total = total
        step = min(done, self._bar.total) - self._bar.n
        if step > 0:
            self._bar.update(step)

    def close(self) -> None:
        """Finish the bar (call once the run is over)."""
        self._bar.close()

    def __enter__(self) -> "TqdmProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
