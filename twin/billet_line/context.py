"""What every component of the billet line shares: run identity, clock origin, the bus."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass
class LineContext:
    run_id: str
    seed: int
    config_hash: str
    code_version: str
    start_epoch_ms: int
    year_digit: int                      # last digit of the casting year (billet ID position 1)
    bus: object
    on_billet: Callable[[float], None] | None = None   # called when a billet record is published

    def epoch_ms(self, sim_time_s: float) -> int:
        return self.start_epoch_ms + int(round(sim_time_s * 1000.0))

    def event(self, now: float, component: str, kind: str, detail: str, duration_s: float | None = None) -> None:
        self.bus.publish("events", {"run_id": self.run_id, "time": self.epoch_ms(now), "sim_time_s": now,
                                    "component": component, "kind": kind, "detail": detail,
                                    "duration_s": duration_s})
