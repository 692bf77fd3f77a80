"""The molding cell: machines sharing a take-out robot and an operator, plus the schedule.

Build → run → result, as in desmod: :func:`build_cell` creates the SimPy
environment (plain, or ``simpy.rt.RealtimeEnvironment`` with a speed factor
for simulation in the loop with wall-clock consumers), the shared
resources, the machines with their breakdown processes and the schedule
process that applies timed setpoint changes, lot changes and maintenance.
"""
from __future__ import annotations

from dataclasses import dataclass

import simpy
import simpy.rt

from twin.machine import MoldingMachine, RunContext

#: Maintenance takes the operator and stops the machines for this long (default).
MAINTENANCE_S = 30 * 60.0


@dataclass
class Cell:
    env: simpy.Environment
    machines: list[MoldingMachine]
    robot: simpy.Resource
    operator: simpy.Resource


def build_cell(cfg: dict, ctx: RunContext, realtime_factor: float | None = None) -> Cell:
    if realtime_factor:
        # factor = wall seconds per simulated second (0.01 = 100x faster than real time).
        env = simpy.rt.RealtimeEnvironment(factor=realtime_factor, strict=False)
    else:
        env = simpy.Environment()
    cell_cfg = cfg["cell"]
    robot = simpy.Resource(env, capacity=int(cell_cfg["robot_count"]))
    operator = simpy.Resource(env, capacity=int(cell_cfg["operator_count"]))
    machines = []
    for k in range(int(cell_cfg["machines"])):
        m = MoldingMachine(env, f"M{k + 1}", cfg, ctx, robot, operator)
        m.proc = env.process(m.run())
        env.process(m.breakdowns())
        machines.append(m)
    env.process(_schedule(env, cfg, machines, operator, ctx))
    return Cell(env, machines, robot, operator)


def _schedule(env, cfg, machines, operator, ctx):
    """Apply the timed events of ``[schedule]`` in ``at_h`` order."""
    events = sorted(cfg.get("schedule", {}).get("events", []), key=lambda e: float(e["at_h"]))
    for ev in events:
        at_s = float(ev["at_h"]) * 3600.0
        if at_s > env.now:
            yield env.timeout(at_s - env.now)
        kind = ev["kind"]
        note = f" ({ev['note']})" if ev.get("note") else ""
        if kind == "setpoint":
            changes = dict(ev.get("set", {}))
            for m in machines:
                m.apply_config_changes(changes)
                m._event("setpoint_change", ", ".join(f"{k}={v}" for k, v in changes.items()) + note)
        elif kind == "lot":
            for m in machines:
                m.change_lot(ev.get("lot_id"), ev.get("viscosity_factor"))
                m._event("lot_change", f"lot {m.lot_label}, viscosity factor {m.lot_factor:.3f} (scheduled){note}")
        elif kind == "maintenance":
            # The machines finish their running cycle and stop; the operator
            # works for duration_s; then wear is reset and they restart cold.
            duration_s = float(ev.get("duration_min", MAINTENANCE_S / 60.0)) * 60.0
            for m in machines:
                m.pause = env.event()
            with operator.request() as req:
                yield req
                for m in machines:
                    m._event("maintenance", f"parting line and vents cleaned, wear reset{note}", duration_s=duration_s)
                yield env.timeout(duration_s)
                for m in machines:
                    m.maintenance_done()
                    m.pause.succeed()
