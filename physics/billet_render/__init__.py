"""Billet end-face images with stamped IDs and exact per-character boxes.

numpy + Pillow + scipy only (no simpy, no torch). The entry point is
:class:`BilletFaceRenderer` (``face_renderer.py``); the pieces, one concept
per module:

* ``stamp_font``      0-9, A-Z stamp dies as polygons, and their rasteriser
* ``mask_degrade``    random erasure (tilt / scale blobs) and deformation of glyph masks
* ``surface_texture`` procedural torch-cut, scaled steel face; real NEU-DET texture
* ``shading``         groove height maps, Lambert + specular + occlusion + cast shadow
* ``camera``          sites A and B as data; homography, blur, noise
* ``stamp_layout``    where the characters sit on the face
* ``face_canvas``     the per-pixel layers characters are pasted into (relief, occlusion, labels)

Sources and assumptions: the 150 mm square section is a common billet size
(shared/PHYSICS_REFERENCES.md, continuous-casting billets: 150 x 150 mm at
1.8-2.6 m/min). Character height, stroke width, groove walls, scale and
drag-line appearance, lamp and camera settings have no published source
(NOT FOUND): they are appearance parameters, set by eye against the real
photographs in shared/realdata/stamped_metal_ids and the NEU-DET steel
images, and exposed as dataclass fields so a plant's own photos can
recalibrate them.

Typical use::

    from physics.billet_render import BilletFaceRenderer, RenderParams, neu_backgrounds_from_env
    r = BilletFaceRenderer(RenderParams(size_px=512), backgrounds=neu_backgrounds_from_env())
    face = r.render("K12MN456460", depth_mm, visible_fraction, site="A", rng=np.random.default_rng(7))
    face.image, face.boxes, face.present, face.png_bytes()
"""
from .camera import SITES, CameraPose, CameraSite, get_site
from .face_renderer import MAX_CHARS, BilletFaceRenderer, RenderedFace, RenderParams, boxes_from_label_map
from .mask_degrade import DegradeParams, deform_mask, erase_to_fraction
from .shading import Light
from .stamp_font import ALPHABET, glyph_polygons, rasterize_glyph
from .surface_texture import NeuBackgrounds, SteelFaceParams, neu_backgrounds_from_env, procedural_face

__all__ = [
    "ALPHABET", "MAX_CHARS", "SITES", "BilletFaceRenderer", "CameraPose", "CameraSite", "DegradeParams", "Light",
    "NeuBackgrounds", "RenderParams", "RenderedFace", "SteelFaceParams", "boxes_from_label_map", "deform_mask",
    "erase_to_fraction", "get_site", "glyph_polygons", "neu_backgrounds_from_env", "procedural_face",
    "rasterize_glyph",
]
