"""Build the billet line: caster → roller table → stamping robot → camera → cooling bed.

Build → run → result, as the molding cell: :func:`build_line` creates the
SimPy environment and the components, each with its own random generator
(:func:`twin.rng.component_rng`, by name); every billet the torch cuts is
then one SimPy process that walks it down the line.
"""
from __future__ import annotations

from dataclasses import dataclass

import simpy

from twin.billet_line.camera_station import CameraStation
from twin.billet_line.caster import Billet, Caster
from twin.billet_line.context import LineContext
from twin.billet_line.cooling_bed import CoolingBed
from twin.billet_line.physics_bridge import renderer_from_config, stamping_model_from_config
from twin.billet_line.stamping_station import StampingStation
from twin.rng import component_rng


@dataclass
class BilletLine:
    env: simpy.Environment
    caster: Caster
    station: StampingStation
    camera: CameraStation
    bed: CoolingBed


def build_line(cfg: dict, ctx: LineContext, *, render: bool | None = None) -> BilletLine:
    """The line, ready to run (``env.run``); ``render`` overrides ``render.enabled``."""
    env = simpy.Environment()
    seed = ctx.seed
    station = StampingStation(env, cfg, ctx, component_rng(seed, "stamping"), stamping_model_from_config(cfg))
    do_render = bool(cfg["render"]["enabled"]) if render is None else render
    camera = CameraStation(env, cfg, ctx, renderer_from_config(cfg) if do_render else None,
                           site=str(cfg["camera"]["site"]))
    bed = CoolingBed(env, cfg, ctx)
    table_rng = component_rng(seed, "roller-table")
    to_station_s = float(cfg["transfer"]["to_stamping_s"])
    to_station_sd = float(cfg["transfer"]["to_stamping_sd_s"])

    def walk(billet: Billet):
        yield env.timeout(max(to_station_s + to_station_sd * table_rng.standard_normal(), 0.0))
        yield from station.stamp(billet)
        yield from camera.photograph(billet)
        yield from bed.rest(billet)

    caster = Caster(env, cfg, ctx, component_rng(seed, "caster"), lambda b: env.process(walk(b)))
    caster.start()
    station.start()
    return BilletLine(env, caster, station, camera, bed)


