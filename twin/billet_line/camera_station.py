"""The camera station: photographs each billet face and publishes the billet's record.

A billet reaches the camera ``to_camera_s`` after leaving the stamping
station (stamped or labelled). The face image is rendered from what the
physics decided (each character's depth and visible share) by the
renderer (:class:`physics.billet_render.face_renderer.BilletFaceRenderer`),
under the site's lighting and viewing angle, with the exact box of every
character that is visible in the image.

Randomness: the image of billet k uses its own generator, spawned from the
run seed by the billet's index, so an image does not depend on which
billets were rendered before it (a run with rendering off has the same
records otherwise).
"""
from __future__ import annotations

import numpy as np
import simpy

from twin.billet_line.caster import Billet
from twin.billet_line.context import LineContext
from twin.rng import component_rng
from twin.schema import VISIBILITY_CLASSES


class CameraStation:
    def __init__(self, env: simpy.Environment, cfg: dict, ctx: LineContext, renderer, *, site: str):
        self.env, self.ctx, self.renderer, self.site = env, ctx, renderer, site
        self.to_camera_s = float(cfg["transfer"]["to_camera_s"])
        self.grade = str(cfg["steel"]["grade"])
        self.section_mm = float(cfg["caster"]["section_mm"])
        self.photographed = 0

    def photograph(self, billet: Billet):
        """SimPy process: travel to the camera, take the picture, publish the record."""
        yield self.env.timeout(self.to_camera_s)
        billet.photo_time_s = self.env.now
        self.ctx.bus.publish("billets", self.record(billet))
        self.photographed += 1
        if self.ctx.on_billet is not None:
            self.ctx.on_billet(self.env.now)

    def record(self, billet: Billet) -> dict:
        st = billet.stamp
        ctx = self.ctx
        rec = {
            "run_id": ctx.run_id, "source": "sim", "billet_id": billet.billet_id, "billet_index": billet.index,
            "heat": billet.heat, "strand": billet.strand, "sequence_in_heat": billet.sequence,
            "steel_grade": self.grade, "section_mm": self.section_mm, "length_m": billet.length_m,
            "cut_time": ctx.epoch_ms(billet.cut_time_s), "photo_time": ctx.epoch_ms(billet.photo_time_s),
            "sim_time_s": billet.photo_time_s, "stamped": bool(st.get("stamped", False)),
            "label_applied": bool(st.get("label_applied", False)),
            "wait_at_station_s": st.get("wait_at_station_s"), "tilt_deg": billet.tilt_deg, "site": self.site,
            "seed": ctx.seed, "config_hash": ctx.config_hash, "code_version": ctx.code_version,
            "generator_checkpoint": None,
        }
        if st.get("stamped"):
            res = st["result"]
            vis = [VISIBILITY_CLASSES[int(v)] for v in res.visibility[0]]
            rec.update({
                "stamped_id": billet.billet_id, "stamp_time": ctx.epoch_ms(st["stamp_time_s"]),
                "time_since_cut_s": st["time_since_cut_s"], "surface_temp_C": float(res.surface_temp_C[0]),
                "scale_thickness_mm": float(res.scale_thickness_mm[0]), "stamp_force_kN": st["stamp_force_kN"],
                "char_depth_mm": res.depth_mm[0].astype(np.float32),
                "char_effective_depth_mm": res.effective_depth_mm[0].astype(np.float32),
                "char_visible_fraction": res.visible_fraction[0].astype(np.float32),
                "char_pin_wear": np.asarray(st["pin_wear"], dtype=np.float32),
                "char_visibility": vis,
                "n_well": vis.count("well"), "n_partial": vis.count("partial"), "n_poor": vis.count("poor"),
            })
            chars = billet.billet_id
            # What the camera sees: the groove left open by the scale (effective depth).
            # A well or partial character shows the share the physics calls visible
            # (the rest is occluded, or too shallow on a tilted face); a poor one is
            # shallow everywhere but still there, faint, wherever the punch touched.
            depth = res.effective_depth_mm[0]
            poor = res.visibility[0] == VISIBILITY_CLASSES.index("poor")
            visible = np.where(poor, res.contact_fraction[0] * (1.0 - res.occluded_fraction[0]),
                               res.visible_fraction[0])
        else:
            rec.update({"char_depth_mm": [], "char_effective_depth_mm": [], "char_visible_fraction": [],
                        "char_pin_wear": [], "char_visibility": [], "n_well": 0, "n_partial": 0, "n_poor": 0})
            vis = []
            # An unstamped face: nothing to see, no boxes.
            chars, depth, visible = billet.billet_id, np.zeros(len(billet.billet_id)), np.zeros(len(billet.billet_id))
        if self.renderer is not None:
            rng = component_rng(ctx.seed, f"billet-image/{billet.index}")
            face = self.renderer.render(chars, depth, visible, self.site, rng)
            img = face.image
            rec.update({"image_png": face.png_bytes(), "image_height": int(img.shape[0]),
                        "image_width": int(img.shape[1]), "image_channels": 1 if img.ndim == 2 else int(img.shape[2])})
            boxes = []
            for i, ok in enumerate(face.present):
                if ok and vis:
                    x0, y0, x1, y1 = (int(v) for v in face.boxes[i])
                    boxes.append({"char": chars[i], "position": i, "x0": x0, "y0": y0, "x1": x1, "y1": y1, "visibility": vis[i]})
            rec["boxes"] = boxes
        return rec
