"""Build the physics and the renderer of the billet line from its configuration.

The one place where config keys meet the parameters of
:class:`physics.billet.stamping.StampParams` and
:class:`physics.billet_render.face_renderer.RenderParams`: the twin's
components take the built objects, so the physics stays free of config
handling and the config free of physics defaults.
"""
from __future__ import annotations

from physics.billet.stamping import StampingModel, StampParams

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


def renderer_from_config(cfg: dict):
    """The face renderer (real NEU-DET steel texture under ``TWINLOOP_REALDATA`` when asked and present)."""
    from physics.billet_render.face_renderer import BilletFaceRenderer, RenderParams
    from physics.billet_render.surface_texture import neu_backgrounds_from_env

    r = cfg["render"]
    params = RenderParams(size_px=int(r["size_px"]), rgb=bool(r["rgb"]), face_mm=float(cfg["caster"]["section_mm"]),
                          char_height_mm=float(cfg["stamp_die"]["char_height_mm"]))
    backgrounds = neu_backgrounds_from_env() if bool(r["real_texture"]) else None
    return BilletFaceRenderer(params, backgrounds)
