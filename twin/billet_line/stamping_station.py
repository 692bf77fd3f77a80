"""The stamping station: one robot hot-stamps each billet's ID, one pin per character.

The robot is a SimPy resource. A billet arriving on the roller table waits
for it at most ``max_wait_s``: the table keeps moving, so a billet that is
still waiting then leaves unstamped and gets a stick-on label instead (the
record says ``stamped = false, label_applied = true``). That is what happens
when billets arrive faster than the robot stamps: strands cut close together,
or a pin change keeps the robot busy.

Stamping a billet takes ``positioning_s`` (approach, measure the face,
retract) plus ``strike_s`` per character. The characters' depths come from
the physics (:class:`physics.billet.stamping.StampingModel`) at the
billet's time since the cut when the strikes start.

Pins: the magazine holds one pin per character 0-9, A-Z. Each strike adds
``pin_wear_per_strike`` to that character's pin (wear 1 = worn out), so the
digits, which every ID uses most, wear fastest — a systematic a reader
model can meet in real plants too. Every ``pin_change_every_h`` hours the
robot stops for ``pin_change_min`` and the magazine is renewed.
"""
from __future__ import annotations

import numpy as np
import simpy

from physics.billet.stamping import StampingModel
from twin.billet_line.billet_id import ALPHABET, char_value
from twin.billet_line.caster import Billet
from twin.billet_line.context import LineContext


class StampingStation:
    def __init__(self, env: simpy.Environment, cfg: dict, ctx: LineContext, rng: np.random.Generator,
                 model: StampingModel):
        s = cfg["stamping"]
        self.env, self.ctx, self.rng, self.model = env, ctx, rng, model
        self.robot = simpy.Resource(env, capacity=1)
        self.force_kN = float(s["force_kN"])
        self.force_sd = float(s["force_sd_pct"]) / 100.0
        self.positioning_s = float(s["positioning_s"])
        self.strike_s = float(s["strike_s"])
        self.max_wait_s = float(s["max_wait_s"])
        self.wear_per_strike = float(s["pin_wear_per_strike"])
        self.pin_wear = np.full(len(ALPHABET), float(s["pin_wear_initial"]))
        self.pin_change_every_s = float(s["pin_change_every_h"]) * 3600.0
        self.pin_change_s = float(s["pin_change_min"]) * 60.0
        self.stamped = 0
        self.skipped = 0

    def start(self) -> None:
        if self.pin_change_every_s > 0:
            self.env.process(self._pin_changes())

    def stamp(self, billet: Billet):
        """SimPy process: wait for the robot (or give up and label), then stamp."""
        env = self.env
        arrived = env.now
        req = self.robot.request()
        got = yield req | env.timeout(self.max_wait_s)
        if req not in got:
            req.cancel()
            self.skipped += 1
            billet.stamp = {"stamped": False, "label_applied": True, "wait_at_station_s": env.now - arrived}
            self.ctx.event(env.now, "stamping", "billet_skipped",
                           f"{billet.billet_id}: robot busy for {self.max_wait_s:g} s, stick-on label")
            return
        try:
            wait = env.now - arrived
            # Approach and measure the face; the strikes start then.
            yield env.timeout(0.5 * self.positioning_s)
            start = env.now
            chars = billet.billet_id
            idx = np.array([char_value(c) for c in chars])
            # A pin struck twice in one ID wears between the two strikes.
            wear = self.pin_wear[idx] + self.wear_per_strike * _earlier_uses(idx)
            force = self.force_kN * max(1.0 + self.force_sd * self.rng.standard_normal(), 0.2)
            res = self.model.stamp(
                [list(chars)], time_since_cut_s=np.array([start - billet.cut_time_s]),
                stamp_force_kN=np.array([force]), pin_wear=np.clip(wear, 0.0, 1.0)[None, :],
                tilt_deg=np.array([billet.tilt_deg]), rng=self.rng,
                surface_temp_at_cut_C=np.array([billet.surface_temp_at_cut_C]))
            np.add.at(self.pin_wear, idx, self.wear_per_strike)
            billet.stamp = {"stamped": True, "label_applied": False, "wait_at_station_s": wait,
                            "stamp_time_s": start, "time_since_cut_s": start - billet.cut_time_s,
                            "stamp_force_kN": force, "pin_wear": np.clip(wear, 0.0, 1.0), "result": res}
            yield env.timeout(len(chars) * self.strike_s + 0.5 * self.positioning_s)
            self.stamped += 1
        finally:
            self.robot.release(req)

    def _pin_changes(self):
        while True:
            yield self.env.timeout(self.pin_change_every_s)
            with self.robot.request() as req:
                yield req
                self.ctx.event(self.env.now, "stamping", "pin_change",
                               f"magazine renewed (mean wear {self.pin_wear.mean():.2f})",
                               duration_s=self.pin_change_s)
                yield self.env.timeout(self.pin_change_s)
                self.pin_wear[:] = 0.0


def _earlier_uses(idx: np.ndarray) -> np.ndarray:
    """For each position, how often its character was struck earlier in the same ID."""
    out = np.zeros(len(idx))
    for i in range(len(idx)):
        out[i] = np.count_nonzero(idx[:i] == idx[i])
    return out
