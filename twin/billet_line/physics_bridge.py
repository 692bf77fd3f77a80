"""Build the physics and the renderer of the billet line from its configuration.

The one place where config keys meet the parameters of
:class:`physics.billet.stamping.StampParams` and
:class:`physics.billet_render.face_renderer.RenderParams`: the twin's
components take the built objects, so the physics stays free of config
handling and the config free of physics defaults.

Stamp texture (``render.stamp_gan``): the twin does not import torch, so a
checkpoint path cannot be turned into a texture here. Whoever runs the
twin with torch available injects a *factory* — a callable from the key's
value (a string) to a :class:`physics.billet_render.stamp_texture.StampTexture`
— either as ``renderer_from_config(cfg, stamp_texture_factory=...)`` or,
for code that builds the line itself, for the duration of a ``with``
block::

    from generative.stamp_texture_adapter import load_stamp_texture
    with use_stamp_texture_factory(load_stamp_texture):
        simulate_billets(cfg, out, billets=100)

``twinloop simulate billets`` does this at the CLI edge. A non-empty
``render.stamp_gan`` without a factory is an error that says so; the
factory's own errors (a missing or corrupt checkpoint) name the file.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Callable, Iterator

from physics.billet.stamping import StampingModel, StampParams

#: Builds the stamp texture from the value of ``render.stamp_gan``.
StampTextureFactory = Callable[[str], Any]

_STAMP_TEXTURE_FACTORY: contextvars.ContextVar[StampTextureFactory | None] = contextvars.ContextVar(
    "twinloop_stamp_texture_factory", default=None)

#: Longest time from the cut to the stamp the physics is asked about (s): the
#: roller-table limit of the config (2 h) plus waiting, with margin.
MAX_TIME_SINCE_CUT_S = 4 * 3600.0


def stamp_params_from_config(cfg: dict) -> StampParams:
    c, d = cfg["caster"], cfg["stamp_die"]
    return StampParams(
        steel=str(cfg["steel"]["grade"]), section_mm=float(c["section_mm"]),
        surface_temp_at_cut_C=float(c["surface_temp_at_cut_C"]), core_temp_at_cut_C=float(c["core_temp_at_cut_C"]),
        ambient_C=float(c["ambient_C"]), emissivity=float(cfg["steel"]["emissivity"]),
        char_height_mm=float(d["char_height_mm"]), punch_speed_mm_s=float(d["punch_speed_mm_s"]),
        tip_half_angle_deg=float(d["tip_half_angle_deg"]), land_width_new_mm=float(d["land_width_new_mm"]),
        land_width_per_wear_mm=float(d["land_width_per_wear_mm"]),
        readable_depth_mm=float(cfg["camera"]["readable_depth_mm"]),
        max_time_since_cut_s=MAX_TIME_SINCE_CUT_S,
    )


def stamping_model_from_config(cfg: dict) -> StampingModel:
    return StampingModel(stamp_params_from_config(cfg))


@contextlib.contextmanager
def use_stamp_texture_factory(factory: StampTextureFactory) -> Iterator[None]:
    """Within the block, :func:`renderer_from_config` resolves ``render.stamp_gan`` with ``factory``."""
    token = _STAMP_TEXTURE_FACTORY.set(factory)
    try:
        yield
    finally:
        _STAMP_TEXTURE_FACTORY.reset(token)


def stamp_texture_from_config(cfg: dict, factory: StampTextureFactory | None = None):
    """The stamp texture ``render.stamp_gan`` asks for, or None when the key is empty."""
    spec = str(cfg["render"].get("stamp_gan", "") or "").strip()
    if not spec:
        return None
    factory = factory if factory is not None else _STAMP_TEXTURE_FACTORY.get()
    if factory is None:
        raise ValueError(f"render.stamp_gan = {spec!r} needs the generative models (torch), which the twin does "
                         "not import: run `twinloop simulate billets`, or build the line inside "
                         "twin.billet_line.physics_bridge.use_stamp_texture_factory("
                         "generative.stamp_texture_adapter.load_stamp_texture)")
    return factory(spec)


def renderer_from_config(cfg: dict, *, stamp_texture_factory: StampTextureFactory | None = None):
    """The face renderer (real NEU-DET steel texture under ``TWINLOOP_REALDATA`` when asked and present;
    the stamp cGAN's texture when ``render.stamp_gan`` names checkpoints, see the module docstring)."""
    from physics.billet_render.face_renderer import BilletFaceRenderer, RenderParams
    from physics.billet_render.surface_texture import neu_backgrounds_from_env

    r = cfg["render"]
    params = RenderParams(size_px=int(r["size_px"]), rgb=bool(r["rgb"]), face_mm=float(cfg["caster"]["section_mm"]),
                          char_height_mm=float(cfg["stamp_die"]["char_height_mm"]))
    texture = stamp_texture_from_config(cfg, stamp_texture_factory)
    backgrounds = neu_backgrounds_from_env() if bool(r["real_texture"]) else None
    return BilletFaceRenderer(params, backgrounds, stamp_texture=texture)
