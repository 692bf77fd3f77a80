"""The per-character texture hook of the billet renderer, and one character rendered on its own.

Why a hook: the renderer's grooves are clean physics (a blurred mask
shaded under the site's lamp). Real stamps show more — torn walls, scale
pressed into the groove, uneven fill — which the billet stamp study adds
with a pix2pix cGAN (shared/studies/billet_stamp_cgan.txt §2.2, §2.2.4:
procedural masks, GAN texture, embedded into billet faces). The GAN lives
in ``generative/`` (torch); ``physics`` does not import torch, so the
renderer only knows this small protocol::

    class StampTexture(Protocol):
        def apply(self, patch, mask, rng) -> np.ndarray: ...

``patch`` is the shaded face around one character, float32 ``(h, w)``
grey levels in [0, 1] (the 8-bit face image / 255, **before** the camera
warp, blur and noise); ``mask`` is the character's coverage on the same
pixels (float32 in [0, 1], ``>= 0.5`` = footprint); ``rng`` a
``numpy.random.Generator`` of that character alone. ``apply`` returns the
textured patch, same shape, values in [0, 1]. The renderer
(:class:`~.face_renderer.BilletFaceRenderer` with ``stamp_texture=``)
calls it once per stamped character, pastes the result back and only then
warps the face; the label map is built from the masks and never sees the
texture, so the boxes are exactly those of the untextured render.

:func:`render_stamp_patch` renders one character patch from a coverage
mask with the renderer's own physics (groove relief, ambient occlusion,
cast shadow, Lambert + specular shading, the site's tone curve): the
"procedural" input of the cGAN when it is trained on (mask, photo) pairs,
so that training sees the same kind of patch the twin hands to the hook.
"""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from .camera import SITES, CameraPose, CameraSite, exposure_gain, to_uint8
from .shading import cast_shadow_patch, gradient, occlusion_patch, shade, stamp_height_patch
from .stamp_font import STROKE_WIDTH_EM
from .surface_texture import procedural_face

__all__ = ["StampTexture", "apply_stamp_texture", "render_stamp_patch", "albedo_from_image"]


@runtime_checkable
class StampTexture(Protocol):
    """Texture for one stamped character's patch (see the module docstring)."""

    def apply(self, patch: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        ...


def apply_stamp_texture(texture: StampTexture, patch: np.ndarray, mask: np.ndarray,
                        rng: np.random.Generator) -> np.ndarray:
    """Call ``texture.apply`` and check its answer: float32, the patch's shape, finite, clipped to [0, 1]."""
    out = np.asarray(texture.apply(patch, mask, rng), dtype=np.float32)
    if out.shape != patch.shape:
        raise ValueError(f"{type(texture).__name__}.apply returned shape {out.shape} for a patch of shape "
                         f"{patch.shape}; a stamp texture must keep the patch's shape")
    if not np.isfinite(out).all():
        raise ValueError(f"{type(texture).__name__}.apply returned non-finite values")
    return np.clip(out, 0.0, 1.0)


def albedo_from_image(grey: np.ndarray, site: CameraSite) -> np.ndarray:
    """Albedo that a flat face must have to show the grey levels ``grey`` (0..1) at ``site``.

    Inverts the flat-face part of the photometry (gain = exposure / flat
    radiance, tone curve ``in ** (1 / gamma)`` below its shoulder): used to
    put the physics grooves onto the background of a real photo.
    """
    g = np.clip(np.asarray(grey, dtype=np.float32), 0.0, 1.0)
    return np.clip(g ** np.float32(site.gamma) / np.float32(site.exposure), 0.02, 1.0).astype(np.float32)


def render_stamp_patch(coverage: np.ndarray, rng: np.random.Generator, *, background: np.ndarray | None = None,
                       char_height_mm: float = 15.0, glyph_height_px: float | None = None,
                       depth_mm: float | Sequence[float] = (0.4, 2.0), wall_sigma_mm: float = 0.45,
                       rim_fraction: float = 0.1, site: "str | CameraSite | None" = None,
                       light_turn_deg: float = 10.0) -> np.ndarray:
    """One stamped character, shaded like the renderer's face before the camera: float32 (h, w) in [0, 1].

    ``coverage``: float32 (h, w) mask of the character (>= 0.5 footprint)
    with some margin around it (the walls and the rim spread about
    ``3 * wall_sigma``). The scale comes from ``char_height_mm`` over the
    glyph's height in pixels (``glyph_height_px``, default: the
    footprint's height). ``depth_mm``: a depth, or a (low, high) range
    drawn uniformly. ``site``: ``"A"``, ``"B"``, a :class:`CameraSite`, or
    None to draw one of the two sites; the lamp is turned by up to
    ``light_turn_deg`` (billet roll). ``background``: grey levels (0..1)
    of the face under the character (e.g. a real photo with the character
    painted out); None draws a procedural steel face.

    Draw order (fixed): site, lamp turn, depth, groove tone, then the
    procedural texture if no background is given.
    """
    cov = np.asarray(coverage, dtype=np.float32)
    if cov.ndim != 2 or min(cov.shape) < 4:
        raise ValueError(f"coverage must be a 2-D mask of at least 4 x 4 pixels, got shape {cov.shape}")
    foot = cov >= 0.5
    if glyph_height_px is None:
        rows = np.flatnonzero(foot.any(axis=1))
        glyph_height_px = float(rows[-1] - rows[0] + 1) if rows.size else float(cov.shape[0])
    mpp = float(char_height_mm) / max(float(glyph_height_px), 1.0)
    names = sorted(SITES)
    k = int(rng.integers(len(names)))
    cam = SITES[names[k]] if site is None else (SITES[site] if isinstance(site, str) else site)
    light = cam.light.rotated(float(rng.uniform(-light_turn_deg, light_turn_deg)))
    depth = float(rng.uniform(*depth_mm)) if isinstance(depth_mm, (tuple, list)) else float(depth_mm)
    groove_tone = float(np.clip(np.exp(0.3 * rng.standard_normal()), 0.6, 1.8))
    h, w = cov.shape
    if background is None:
        tex = procedural_face(max(h, w), mpp, rng)
        albedo = tex.albedo[:h, :w].copy()
        relief = tex.height_px[:h, :w]
    else:
        bg = np.asarray(background, dtype=np.float32)
        if bg.shape != cov.shape:
            raise ValueError(f"background has shape {bg.shape}, coverage {cov.shape}: they must match")
        albedo = albedo_from_image(bg, cam)
        relief = np.zeros_like(cov)
    wall = float(wall_sigma_mm) / mpp
    depth_px = depth / mpp
    height = stamp_height_patch(cov, depth_px, wall, STROKE_WIDTH_EM * float(glyph_height_px),
                                rim_fraction=rim_fraction, rim_sigma_px=2.0 * max(wall, 0.5))
    gx, gy = gradient(height + relief)
    if groove_tone != 1.0 and depth_px > 0:          # as FaceCanvas.add_relief: scale / fresh metal in the groove
        albedo *= np.maximum(height * np.float32((1.0 - groove_tone) / depth_px) + np.float32(1.0), np.float32(0.3))
    radiance = shade(albedo, gx, gy, light, ao=occlusion_patch(height, mpp), shadow=cast_shadow_patch(height, light))
    pose = CameraPose(roll_deg=0.0, tilt_deg=0.0, yaw_deg=0.0, offset_px=(0.0, 0.0), exposure_factor=1.0)
    return to_uint8(radiance, exposure_gain(cam, pose), cam.gamma).astype(np.float32) / np.float32(255.0)
