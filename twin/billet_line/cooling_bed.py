"""The cooling bed: billets rest there after the camera until the crane takes them away.

A SimPy resource with ``slots`` places; each billet holds one for
``dwell_min``. When the bed is full a billet waits on the roller table
(its wait is logged as an event); the bed's occupancy over the run is
reported in ``metrics.json``.
"""
from __future__ import annotations

import simpy

from twin.billet_line.caster import Billet
from twin.billet_line.context import LineContext


class CoolingBed:
    def __init__(self, env: simpy.Environment, cfg: dict, ctx: LineContext):
        c = cfg["cooling_bed"]
        self.env, self.ctx = env, ctx
        self.slots = simpy.Resource(env, capacity=int(c["slots"]))
        self.dwell_s = float(c["dwell_min"]) * 60.0
        self.max_occupancy = 0
        self.total_wait_s = 0.0

    def rest(self, billet: Billet):
        arrived = self.env.now
        with self.slots.request() as req:
            yield req
            self.total_wait_s += self.env.now - arrived
            self.max_occupancy = max(self.max_occupancy, self.slots.count)
            yield self.env.timeout(self.dwell_s)
