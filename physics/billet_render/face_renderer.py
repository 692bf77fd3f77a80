"""Render a photographed billet end face with a stamped ID, and the exact box of every character.

Pipeline of :meth:`BilletFaceRenderer.render` (one photograph):

1. **Face texture** (face canvas: ``size_px`` square = ``face_mm`` square): a
   random crop of a precomputed procedural texture (:mod:`.surface_texture`;
   albedo, relief gradients, rust tint), or real NEU-DET steel albedo when
   :class:`~.surface_texture.NeuBackgrounds` are given (the relief and tint
   still come from the procedural bank).
2. **Characters**: each glyph mask (precomputed from the stamp font) is
   deformed and partly erased to its ``visible_fraction``
   (:mod:`.mask_degrade`), turned into a groove ``depth_mm`` deep
   (:mod:`.shading`), and pasted at its place in the layout
   (:mod:`.stamp_layout`) into the relief gradients, the occlusion and
   shadow maps and an integer **label map** (0 = face, i + 1 = character i,
   where the character's coverage is >= 0.5).
3. **Shading** of the whole face under the site's lamp, exposure and tone
   curve to 8 bit. With a ``stamp_texture`` (:mod:`.stamp_texture`, e.g.
   the stamp cGAN), each character's patch of the shaded face is handed
   to it with the character's coverage mask and pasted back; the label map
   is not touched, so the boxes stay those of the untextured render.
4. **Camera** (:mod:`.camera`): one homography (billet roll, camera tilt and
   yaw, zoom, centring) warps the image (bilinear) and the label map
   (nearest) alike; then focus blur, vignetting and sensor noise on the
   image only.
5. **Boxes**: the tight box of each label in the warped label map.

Box convention
--------------
``boxes[i] = (x0, y0, x1, y1)`` in output pixels with **x1, y1 exclusive**
(Python slice convention: the character's pixels are
``label_map[y0:y1, x0:x1] == i + 1``; width = x1 - x0, COCO ``[x0, y0, x1 - x0, y1 - y0]``).
A box is the tight box of the character's stamped footprint (the part that
survived erasure) after deformation, placement, roll, perspective and
cropping by the frame; because it is read off the label map that went
through exactly the image's warp, it is exact by construction. It does not
include the blur halo of the groove walls or of the lens (about one wall
width plus the focus blur outside the footprint, and the few pixels over
which an erasure cut fades out below 50 % coverage). ``present[i]`` is
False, and ``boxes[i]`` is ``(-1, -1, -1, -1)``, when nothing of character
i is in the image: fully erased (``visible_fraction`` 0, or ``depth_mm`` 0)
or outside the frame.

Randomness and speed
--------------------
Every random choice is drawn from the ``rng`` passed to ``render`` (the
per-character draws from child generators seeded from it, so one
character's erasure does not shift the others'), so the same seed gives a
byte-identical image and PNG. A ``stamp_texture`` gets its own generator
per character (seeded from that character's seed), so it draws nothing
from ``rng``: pose, texture, placement and sensor noise are those of the
untextured render, and without a texture the output is unchanged.
Texture banks, glyph masks, blur matrices, tone tables and the vignette
are built once in ``__init__``.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from PIL import Image
from scipy.ndimage import find_objects

from .camera import (CameraSite, apply_optics, draw_pose, exposure_gain, face_homography, get_site,
                     to_uint8, warp)
from .mask_degrade import DegradeParams, deform_mask, erase_to_fraction
from .face_canvas import FaceCanvas
from .shading import gradient, shade, stamp_height_patch
from .stamp_font import ALPHABET, GLYPH_WIDTH_EM, STROKE_WIDTH_EM, glyph_width_px, rasterize_glyph
from .stamp_layout import LAYOUTS, block_extent_mm, cell_centres_mm
from .stamp_texture import StampTexture, apply_stamp_texture
from .surface_texture import NeuBackgrounds, SteelFaceParams, procedural_face

#: Smallest and largest image size (pixels per side).
MIN_SIZE_PX, MAX_SIZE_PX = 64, 1024
#: Most characters an ID may have (billets carry 11, sometimes 12).
MAX_CHARS = 12
#: Face margin (mm) the stamp block keeps from the billet edge.
_EDGE_MARGIN_MM = 4.0


@dataclass(frozen=True)
class RenderParams:
    """Settings of a :class:`BilletFaceRenderer` (validated on creation).

    Image: ``size_px`` square (64..1024), grey (``rgb=False``) or RGB.
    Face: ``face_mm`` square billet section, characters ``char_height_mm``
    high, placed by ``layout`` (``"two_rows"``: 6 + 5 for 11 characters,
    ``"one_row"``; see :mod:`.stamp_layout`) with ``char_pitch_em`` /
    ``row_pitch_em`` spacing in character heights. The stamp block lands up
    to ``block_offset_mm`` off the face centre (uniform per axis, kept
    ``4 mm`` inside the edge); each die has ``die_play_mm`` (sd) of play.
    Grooves have walls ``wall_sigma_mm`` wide (Gaussian sigma) and a pile-up
    rim of ``rim_fraction`` of the depth. Glyphs are rasterised at
    ``supersample`` x; ``texture_bank`` procedural textures are built from
    ``texture_seed``.
    """

    size_px: int = 512
    rgb: bool = False
    face_mm: float = 150.0
    char_height_mm: float = 18.0
    layout: str = "two_rows"
    char_pitch_em: float = 0.8
    row_pitch_em: float = 1.4
    block_offset_mm: float = 10.0
    die_play_mm: float = 0.2
    wall_sigma_mm: float = 0.45
    rim_fraction: float = 0.1
    supersample: int = 4
    texture_bank: int = 4
    texture_seed: int = 0
    degrade: DegradeParams = DegradeParams()
    steel: SteelFaceParams = SteelFaceParams()

    def __post_init__(self) -> None:
        if isinstance(self.size_px, bool) or int(self.size_px) != self.size_px \
                or not MIN_SIZE_PX <= self.size_px <= MAX_SIZE_PX:
            raise ValueError(f"RenderParams.size_px must be an integer in [{MIN_SIZE_PX}, {MAX_SIZE_PX}], "
                             f"got {self.size_px!r}")
        for name in ("face_mm", "char_height_mm", "char_pitch_em", "row_pitch_em"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"RenderParams.{name} must be a positive number, got {v!r}")
        for name in ("block_offset_mm", "die_play_mm", "wall_sigma_mm", "rim_fraction"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"RenderParams.{name} must be a number >= 0, got {v!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"RenderParams.layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.char_pitch_em < GLYPH_WIDTH_EM + 0.05:
            raise ValueError(f"RenderParams.char_pitch_em={self.char_pitch_em} would make characters touch "
                             f"(glyphs are {GLYPH_WIDTH_EM} em wide; use >= {GLYPH_WIDTH_EM + 0.05:.2f})")
        if self.row_pitch_em < 1.1:
            raise ValueError(f"RenderParams.row_pitch_em={self.row_pitch_em} would make rows touch (use >= 1.1)")
        if int(self.supersample) != self.supersample or not 1 <= self.supersample <= 8:
            raise ValueError(f"RenderParams.supersample must be an integer in [1, 8], got {self.supersample!r}")
        if int(self.texture_bank) != self.texture_bank or not 1 <= self.texture_bank <= 16:
            raise ValueError(f"RenderParams.texture_bank must be an integer in [1, 16], got {self.texture_bank!r}")
        glyph_px = self.char_height_mm / self.face_mm * self.size_px
        if glyph_px < 6:
            raise ValueError(f"characters would be {glyph_px:.1f} px high at size_px={self.size_px}, "
                             f"face_mm={self.face_mm}, char_height_mm={self.char_height_mm}; need >= 6 px")
        if self.layout == "two_rows":
            self.check_fits(MAX_CHARS)

    @property
    def mm_per_px(self) -> float:
        """Face millimetres per face-canvas pixel."""
        return self.face_mm / self.size_px

    def check_fits(self, n: int) -> None:
        """Raise ValueError if an n-character ID does not fit on the face in this layout."""
        w, h = block_extent_mm(n, self.layout, self.char_height_mm, self.char_pitch_em, self.row_pitch_em,
                               GLYPH_WIDTH_EM)
        room = self.face_mm - 2 * _EDGE_MARGIN_MM
        if w > room or h > room:
            raise ValueError(f"{n} characters of {self.char_height_mm} mm in layout {self.layout!r} cover "
                             f"{w:.0f} x {h:.0f} mm, more than the {room:.0f} mm the {self.face_mm} mm face "
                             f"offers; use smaller characters, a tighter pitch or layout 'two_rows'")


@dataclass
class RenderedFace:
    """One rendered photograph and its labels.

    image: uint8 (H, W) or (H, W, 3). boxes: int32 (n, 4) ``x0, y0, x1, y1``
    with x1, y1 **exclusive** (-1s where absent). present: bool (n,).
    label_map: uint8 (H, W), 0 = no character, i + 1 = character i (the
    warped footprints the boxes were read from). homography: 3x3 map from
    face-canvas pixels to image pixels. mm_per_px: face mm per canvas pixel.
    extra: {"pose": the drawn :class:`~.camera.CameraPose`}.
    """

    image: np.ndarray
    boxes: np.ndarray
    present: np.ndarray
    chars: str
    site: str
    label_map: np.ndarray | None = None
    homography: np.ndarray | None = None
    mm_per_px: float = float("nan")
    extra: dict = field(default_factory=dict)

    def png_bytes(self, compress_level: int = 6) -> bytes:
        """The image as PNG (no metadata: the same pixels always give the same bytes)."""
        buf = io.BytesIO()
        Image.fromarray(self.image).save(buf, format="PNG", compress_level=int(compress_level))
        return buf.getvalue()

    def box_records(self, visibility: Sequence[str] | None = None) -> list[dict]:
        """Present characters as ``{"char", "x0", "y0", "x1", "y1"[, "visibility"]}`` dicts
        (the ``boxes`` struct of the ``billets`` records; x1, y1 exclusive)."""
        if visibility is not None and len(visibility) != len(self.chars):
            raise ValueError(f"visibility has {len(visibility)} entries for {len(self.chars)} characters")
        out = []
        for i, ch in enumerate(self.chars):
            if not self.present[i]:
                continue
            x0, y0, x1, y1 = (int(v) for v in self.boxes[i])
            rec = {"char": ch, "x0": x0, "y0": y0, "x1": x1, "y1": y1}
            if visibility is not None:
                rec["visibility"] = str(visibility[i])
            out.append(rec)
        return out


def boxes_from_label_map(label_map: np.ndarray, n: int, window: Sequence[int] | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Tight boxes (x0, y0, x1, y1; ends exclusive) of labels 1..n, and which labels occur.

    ``window`` = (y0, x0, y1, x1) limits the search to where labels can be
    (all of the map when None); boxes are in full-map coordinates.
    """
    boxes = np.full((n, 4), -1, dtype=np.int32)
    present = np.zeros(n, dtype=bool)
    wy0, wx0, wy1, wx1 = window if window is not None else (0, 0, *label_map.shape)
    if wy1 <= wy0 or wx1 <= wx0:
        return boxes, present
    for i, sl in enumerate(find_objects(label_map[wy0:wy1, wx0:wx1], max_label=n)):
        if sl is not None:
            boxes[i] = (sl[1].start + wx0, sl[0].start + wy0, sl[1].stop + wx0, sl[0].stop + wy0)
            present[i] = True
    return boxes, present


def warp_labels(labels: np.ndarray, box: Sequence[int], homography: np.ndarray,
                out_px: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Nearest-neighbour warp of an integer label canvas: exactly what Pillow's full-frame
    PERSPECTIVE/NEAREST warp gives, computed only where labels can land.

    ``box`` = (y0, x0, y1, x1) bounds the non-zero canvas pixels. An output
    pixel can only be labelled if its centre maps into that rectangle, i.e.
    lies in the rectangle's image (a convex quadrilateral while the face is
    in front of the camera); the output is warped in the bounding rectangle
    of that quadrilateral plus one pixel, and zero elsewhere. Returns the
    (out_px, out_px) uint8 map and that window (y0, x0, y1, x1).
    """
    out = np.zeros((out_px, out_px), dtype=np.uint8)
    y0, x0, y1, x1 = (int(v) for v in box)
    if y1 <= y0 or x1 <= x0:
        return out, (0, 0, 0, 0)
    corners = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], dtype=np.float64).T
    q = homography @ corners
    if np.any(q[2] <= 0):
        full = warp(Image.fromarray(labels, "L"), homography, out_px, Image.Resampling.NEAREST, fill=0)
        return np.array(full), (0, 0, out_px, out_px)
    qx, qy = q[0] / q[2], q[1] / q[2]
    ox0, oy0 = max(0, int(np.floor(qx.min())) - 1), max(0, int(np.floor(qy.min())) - 1)
    ox1, oy1 = min(out_px, int(np.ceil(qx.max())) + 1), min(out_px, int(np.ceil(qy.max())) + 1)
    if ox1 <= ox0 or oy1 <= oy0:
        return out, (0, 0, 0, 0)
    shift = np.array([[1.0, 0.0, -ox0], [0.0, 1.0, -oy0], [0.0, 0.0, 1.0]])   # output -> sub-window
    inv = np.linalg.inv(shift @ homography)
    inv = inv / inv[2, 2]
    sub = Image.fromarray(labels, "L").transform((ox1 - ox0, oy1 - oy0), Image.Transform.PERSPECTIVE,
                                                  tuple(inv.ravel()[:8].tolist()), Image.Resampling.NEAREST,
                                                  fillcolor=0)
    out[oy0:oy1, ox0:ox1] = np.asarray(sub)
    return out, (oy0, ox0, oy1, ox1)


class BilletFaceRenderer:
    """Renders billet end faces with stamped IDs; see the module docstring for the pipeline.

    ``backgrounds``: real steel albedo (:class:`NeuBackgrounds`, e.g. from
    :func:`~.surface_texture.neu_backgrounds_from_env`); None = procedural.
    ``stamp_texture``: optional per-character texture
    (:class:`~.stamp_texture.StampTexture`, e.g. the stamp cGAN's adapter in
    ``generative/stamp_texture_adapter.py``); None = physics shading only.
    """

    def __init__(self, params: RenderParams = RenderParams(), backgrounds: NeuBackgrounds | None = None,
                 stamp_texture: StampTexture | None = None):
        self.params = params
        self.backgrounds = backgrounds
        if stamp_texture is not None and not callable(getattr(stamp_texture, "apply", None)):
            raise TypeError(f"stamp_texture must have an apply(patch, mask, rng) method, "
                            f"got {type(stamp_texture).__name__}")
        self.stamp_texture = stamp_texture
        p = params
        s = int(p.size_px)
        self.mm_per_px = p.mm_per_px
        self.glyph_h_px = int(round(p.char_height_mm / self.mm_per_px))
        self.glyph_w_px = glyph_width_px(self.glyph_h_px)
        self.stroke_px = STROKE_WIDTH_EM * self.glyph_h_px
        self.wall_sigma_px = p.wall_sigma_mm / self.mm_per_px
        self.rim_sigma_px = 2.0 * max(self.wall_sigma_px, 0.5)
        # Two nested patches per character: the glyph with room for its deformation (deform
        # patch), and that padded for the wall blur and the pile-up rim (relief patch).
        m = int(math.ceil(0.1 * self.glyph_h_px)) + 1
        self.deform_margin_px = m
        self.blur_pad_px = int(math.ceil(3.0 * self.rim_sigma_px)) + 1
        self.deform_shape = (self.glyph_h_px + 2 * m, self.glyph_w_px + 2 * m)
        self._glyphs = {}
        for ch in ALPHABET:
            patch = np.zeros(self.deform_shape, dtype=np.float32)
            patch[m:m + self.glyph_h_px, m:m + self.glyph_w_px] = rasterize_glyph(ch, self.glyph_h_px, p.supersample)
            patch.setflags(write=False)
            self._glyphs[ch] = patch
        # Texture bank: face-size textures plus a margin for random crops.
        self.bank_margin_px = max(8, s // 4)
        seeds = np.random.SeedSequence(p.texture_seed).spawn(p.texture_bank)
        self._bank = []
        for ss in seeds:
            tex = procedural_face(s + self.bank_margin_px, self.mm_per_px, np.random.default_rng(ss), rgb=p.rgb,
                                  params=p.steel)
            gx, gy = gradient(tex.height_px)
            for a in (tex.albedo, gx, gy) + ((tex.tint,) if tex.tint is not None else ()):
                a.setflags(write=False)
            self._bank.append((tex.albedo, gx, gy, tex.tint))
        self._edge = self._edge_falloff(s, self.mm_per_px)

    @staticmethod
    def _edge_falloff(s: int, mm_per_px: float, chamfer_mm: float = 3.0) -> np.ndarray:
        """Darkening towards the billet edge (the rounded corner of the section turns away from the light)."""
        d = np.minimum(np.arange(s) + 0.5, s - 0.5 - np.arange(s)) * mm_per_px
        f = 0.55 + 0.45 * np.clip(d / chamfer_mm, 0.0, 1.0) ** 0.5
        out = np.minimum(f[:, None], f[None, :]).astype(np.float32)
        out.setflags(write=False)
        return out

    # ------------------------------------------------------------------ validation
    def _check_inputs(self, chars: str, depth_mm, visible_fraction, rng) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(chars, str):
            raise TypeError(f"chars must be a str, got {type(chars).__name__}")
        n = len(chars)
        if not 1 <= n <= MAX_CHARS:
            raise ValueError(f"chars must have 1 to {MAX_CHARS} characters, got {n} ({chars!r})")
        for i, c in enumerate(chars):
            if c not in ALPHABET:
                hint = " (stamped IDs use capitals)" if c.upper() in ALPHABET else ""
                raise ValueError(f"chars[{i}]={c!r} in {chars!r} has no stamp glyph{hint}; allowed: 0-9, A-Z")
        out = []
        for name, arr, hi in (("depth_mm", depth_mm, self.params.char_height_mm), ("visible_fraction",
                                                                                  visible_fraction, 1.0)):
            a = np.asarray(arr, dtype=np.float64)
            if a.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},) for the {n} characters of {chars!r}, "
                                 f"got shape {a.shape}")
            bad = ~np.isfinite(a) | (a < 0) | (a > hi)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"{name}[{i}]={float(a[i])!r} is outside [0, {hi:g}]")
            out.append(a)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        self.params.check_fits(n)
        return out[0], out[1]

    # ------------------------------------------------------------------ texture
    def _texture(self, rng: np.random.Generator):
        """Albedo view, relief gradient copies (writable) and tint view for one face."""
        s = self.params.size_px
        k = int(rng.integers(len(self._bank)))
        oy, ox = (int(v) for v in rng.integers(0, self.bank_margin_px + 1, size=2))
        fy, fx = (1 if b else -1 for b in rng.integers(0, 2, size=2))
        albedo, gx, gy, tint = self._bank[k]
        sl = (slice(oy, oy + s), slice(ox, ox + s))
        flip = (slice(None, None, fy), slice(None, None, fx))
        albedo = albedo[sl][flip]
        gx_out = np.multiply(gx[sl][flip], np.float32(fx), dtype=np.float32)   # flipping x negates d/dx
        gy_out = np.multiply(gy[sl][flip], np.float32(fy), dtype=np.float32)
        tint = tint[sl][flip] if tint is not None else None
        if self.backgrounds is not None:
            albedo = self.backgrounds.sample(s, rng)
        return albedo, gx_out, gy_out, tint

    def _texture_patch(self, img8: np.ndarray, y0: int, x0: int, coverage: np.ndarray,
                       rng: np.random.Generator) -> None:
        """Hand one character's patch (top-left at face pixel (y0, x0), cut by the face) to the texture."""
        s = img8.shape[0]
        ya, yb, xa, xb = max(0, y0), min(s, y0 + coverage.shape[0]), max(0, x0), min(s, x0 + coverage.shape[1])
        if yb <= ya or xb <= xa:
            return
        mask = coverage[ya - y0:yb - y0, xa - x0:xb - x0]
        region = img8[ya:yb, xa:xb].astype(np.float32)
        grey = region if region.ndim == 2 else region @ np.array([0.299, 0.587, 0.114], np.float32)
        grey *= np.float32(1.0 / 255.0)
        new = apply_stamp_texture(self.stamp_texture, grey, mask, rng)
        if region.ndim == 3:                   # colour: shift every channel by the grey change
            new = region + ((new - grey) * np.float32(255.0))[..., None]
        else:
            new = new * np.float32(255.0)
        img8[ya:yb, xa:xb] = np.clip(new + np.float32(0.5), 0.0, 255.0).astype(np.uint8)

    # ------------------------------------------------------------------ render
    def render(self, chars: str, depth_mm, visible_fraction, site: "str | CameraSite",
               rng: np.random.Generator) -> RenderedFace:
        """Render one photograph of a face stamped with ``chars``.

        ``depth_mm[i]`` (mm, >= 0) and ``visible_fraction[i]`` (0..1) are
        character i's indentation depth and the share of its footprint that
        shows; ``site`` is ``"A"``, ``"B"`` or a :class:`CameraSite`.
        """
        depth, frac = self._check_inputs(chars, depth_mm, visible_fraction, rng)
        cam = get_site(site)
        p = self.params
        s, n = int(p.size_px), len(chars)
        mpp = self.mm_per_px

        # Billet-level draws (fixed count and order).
        pose = draw_pose(cam, rng, s)
        albedo, gx, gy, tint = self._texture(rng)
        bw, bh = block_extent_mm(n, p.layout, p.char_height_mm, p.char_pitch_em, p.row_pitch_em, GLYPH_WIDTH_EM)
        room_x = max(0.0, min(p.block_offset_mm, (p.face_mm - bw) / 2 - _EDGE_MARGIN_MM))
        room_y = max(0.0, min(p.block_offset_mm, (p.face_mm - bh) / 2 - _EDGE_MARGIN_MM))
        off = rng.uniform(-1.0, 1.0, size=2) * (room_x, room_y)
        centres = cell_centres_mm(n, p.layout, p.char_height_mm, p.char_pitch_em, p.row_pitch_em)
        centres = centres + off + rng.standard_normal((n, 2)) * p.die_play_mm
        tilt_dir = float(rng.uniform(0.0, 2.0 * np.pi))
        tilt_weight = float(rng.uniform(0.2, 0.9))
        groove_tone = float(np.clip(np.exp(0.3 * rng.standard_normal()), 0.6, 1.8))
        char_seeds = rng.integers(0, 2**63 - 1, size=n)

        light = cam.light.rotated(-pose.roll_deg)     # the lamp is fixed to the camera, the billet turned
        canvas = FaceCanvas(albedo, gx, gy)
        bp = self.blur_pad_px
        dh, dw = self.deform_shape
        stamped = []                           # (relief patch corner y, x, coverage, seed) for the texture
        for i, ch in enumerate(chars):
            crng = np.random.Generator(np.random.PCG64(int(char_seeds[i])))
            cov = deform_mask(self._glyphs[ch], self.glyph_h_px, crng, p.degrade)
            cov = erase_to_fraction(cov, frac[i], self.glyph_h_px, crng, direction_rad=tilt_dir,
                                    tilt_weight=tilt_weight, params=p.degrade)
            foot = cov >= 0.5
            if depth[i] <= 0 or not foot.any():
                continue                       # nothing stamped: no relief, no label
            cx, cy = (centres[i] + p.face_mm / 2) / mpp            # cell centre, canvas pixels
            y0, x0 = int(round(cy - dh / 2)), int(round(cx - dw / 2))   # deform patch corner
            depth_px = depth[i] / mpp
            h = stamp_height_patch(cov, depth_px, self.wall_sigma_px, self.stroke_px,
                                   rim_fraction=p.rim_fraction, rim_sigma_px=self.rim_sigma_px, pad=bp)
            if canvas.add_relief(y0 - bp, x0 - bp, h, depth_px, mpp, light, groove_tone):
                canvas.add_label(y0, x0, foot, i + 1)
                if self.stamp_texture is not None:
                    stamped.append((y0 - bp, x0 - bp, cov, int(char_seeds[i])))

        albedo = canvas.albedo
        if tint is not None:
            albedo = albedo[..., None] * tint
        radiance = shade(albedo, canvas.gx, canvas.gy, light, ao=canvas.ao, shadow=canvas.shadow,
                         light_rgb=np.asarray(cam.light_rgb, np.float32) if p.rgb else None)
        radiance *= self._edge[..., None] if radiance.ndim == 3 else self._edge
        img8 = to_uint8(radiance, exposure_gain(cam, pose), cam.gamma)
        for py, px, cov, seed in stamped:
            self._texture_patch(img8, py, px, np.pad(cov, bp), np.random.default_rng([seed, 1]))

        hom = face_homography(cam, pose, s, p.face_mm, s)
        bg = int(round(cam.background * 255))
        face_img = Image.fromarray(img8, "RGB" if p.rgb else "L")
        warped = warp(face_img, hom, s, Image.Resampling.BILINEAR, fill=(bg, bg, bg) if p.rgb else bg)
        label_map, window = warp_labels(canvas.labels, canvas.label_box, hom, s)
        image = apply_optics(warped, cam, s, rng)
        boxes, present = boxes_from_label_map(label_map, n, window)
        return RenderedFace(image=image, boxes=boxes, present=present, chars=chars, site=cam.name,
                            label_map=label_map, homography=hom, mm_per_px=mpp,
                            extra={"pose": pose})
