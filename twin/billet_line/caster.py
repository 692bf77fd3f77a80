"""The continuous caster: N strands cast side by side; the torch cuts each into billets.

Each strand withdraws steel at the casting speed v (m/min); the torch cuts a
billet every time the strand has advanced one cut length L, so a strand
releases a billet every L / v (6 m at 2.4 m/min: every 150 s) and the caster
N of them in that time. The strands run independently: each starts at a
random phase of its cut period (the cuts of a real caster are not
synchronised) and the torch's cut length scatters by ``cut_length_sd_mm``.

Heats: the caster casts ``heat_size_t`` of steel per ladle, sequence
casting without a gap (the tundish bridges the ladle change), at a mass
rate N·ρ·a²·v. A billet belongs to the heat being cast when it is cut; the
heat number grows by one every heat duration, and each strand's sequence
number restarts at 01 in a new heat (billet ID positions 2-6 and 8-9,
:mod:`twin.billet_line.billet_id`).

Each billet draws its own surface temperature at the cut (secondary cooling
varies, ``surface_temp_sd_K``) and its face tilt: a persistent tilt per
strand (mould wear makes a strand's billets rhomboid in the same way) plus a
billet-to-billet part.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import simpy

from physics.billet.steel import get_steel
from twin.billet_line.billet_id import BilletId
from twin.billet_line.context import LineContext


@dataclass
class Billet:
    """One billet as it moves down the line; the stations fill in their parts."""

    index: int
    strand: int
    heat: int
    sequence: int
    billet_id: str
    cut_time_s: float
    length_m: float
    surface_temp_at_cut_C: float
    tilt_deg: float
    stamp: dict = field(default_factory=dict)   # filled by the stamping station
    photo_time_s: float | None = None


class Caster:
    """The strands' cutting processes; calls ``on_cut(billet)`` for every billet."""

    def __init__(self, env: simpy.Environment, cfg: dict, ctx: LineContext, rng: np.random.Generator,
                 on_cut: Callable[[Billet], None]):
        c = cfg["caster"]
        self.env, self.ctx, self.rng, self.on_cut = env, ctx, rng, on_cut
        self.strands = int(c["strands"])
        self.section_m = float(c["section_mm"]) / 1000.0
        self.speed_m_s = float(c["casting_speed_m_min"]) / 60.0
        self.cut_length_m = float(c["cut_length_m"])
        self.cut_sd_m = float(c["cut_length_sd_mm"]) / 1000.0
        self.code = str(c["code"])
        self.first_heat = int(c["first_heat"])
        self.surface_C = float(c["surface_temp_at_cut_C"])
        self.surface_sd_K = float(c["surface_temp_sd_K"])
        self.core_C = float(c["core_temp_at_cut_C"])
        self.tilt_sd = float(c["rhomboidity_sd_deg"])
        steel = get_steel(str(cfg["steel"]["grade"]))
        mass_rate_t_s = self.strands * steel.density_kg_m3 * self.section_m ** 2 * self.speed_m_s / 1000.0
        #: Time to cast one heat at the caster's mass rate (s).
        self.heat_duration_s = float(c["heat_size_t"]) / mass_rate_t_s
        self.strand_tilt_deg = rng.normal(0.0, float(c["strand_rhomboidity_sd_deg"]), self.strands)
        self._count = 0
        self._seq: dict[tuple[int, int], int] = {}
        self._last_heat = self.first_heat

    @property
    def cut_period_s(self) -> float:
        """Mean time between two cuts of one strand."""
        return self.cut_length_m / self.speed_m_s

    def start(self) -> None:
        # Draw every strand's phase here, in strand order, before any process runs.
        phases = self.rng.uniform(0.0, self.cut_period_s, self.strands)
        for k in range(self.strands):
            self.env.process(self._strand(k + 1, float(phases[k])))

    def heat_at(self, t_s: float) -> int:
        return self.first_heat + int(t_s // self.heat_duration_s)

    def _strand(self, strand: int, phase_s: float):
        yield self.env.timeout(phase_s)
        while True:
            length = max(self.cut_length_m + self.rng.normal(0.0, self.cut_sd_m), 0.5 * self.cut_length_m)
            yield self.env.timeout(length / self.speed_m_s)
            self._cut(strand, length)

    def _cut(self, strand: int, length_m: float) -> None:
        now = self.env.now
        heat = self.heat_at(now)
        if heat != self._last_heat:
            self._last_heat = heat
            self.ctx.event(now, "caster", "heat_change", f"heat {heat}")
        seq = self._seq.get((heat, strand), 0) + 1
        self._seq[(heat, strand)] = seq
        if seq > 99:
            raise RuntimeError(f"heat {heat} strand {strand}: more than 99 billets; the ID sequence has 2 digits "
                               "(lower caster.heat_size_t)")
        bid = BilletId(self.code, self.ctx.year_digit, heat % 100000, strand, seq).text()
        billet = Billet(
            index=self._count, strand=strand, heat=heat, sequence=seq, billet_id=bid, cut_time_s=now,
            length_m=length_m,
            # Kept inside the physics' cooling table and below the core temperature.
            surface_temp_at_cut_C=float(np.clip(self.surface_C + self.rng.normal(0.0, self.surface_sd_K),
                                                600.0, min(1500.0, self.core_C))),
            # A face tilted beyond 25 deg is not a stamping face (physics accepts up to 30).
            tilt_deg=float(np.clip(self.strand_tilt_deg[strand - 1] + self.rng.normal(0.0, self.tilt_sd), -25, 25)),
        )
        self._count += 1
        self.on_cut(billet)
