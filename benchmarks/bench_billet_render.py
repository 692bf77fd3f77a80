"""Billet-face images per second at 512 x 512 grey, against a bare numpy/PIL compositing loop.

Candidate (``billet_render``): :meth:`physics.billet_render.BilletFaceRenderer.render`
of an 11-character ID (6 + 5 layout, per-character depths and visible
fractions from 0.3 to 1) alternating sites A and B: texture crop, per-character
deformation and erasure, relief, occlusion and cast shadow, shading, tone
curve, one homography for image and label map, focus blur, vignetting,
sensor noise and the exact per-character boxes. With ``TWINLOOP_REALDATA``
set, a second figure uses real NEU-DET steel albedo.

Baseline (``bare numpy/PIL``): the same layers composited in the most direct
way, with nothing per character: the renderer's own texture bank and a
stamp relief built ONCE for the whole ID (glyphs pasted at the layout
positions, blurred, scaled by depth), then per image a random texture crop,
relief gradients added, Lambert + Blinn shading with a depth darkening,
clip to 8 bit, a PIL perspective warp (random roll and tilt), PIL
GaussianBlur and ``standard_normal`` noise. No deformation, erasure, shadow
marching, label map or boxes.

Target: >= 50 images/s for the renderer (one core; ``python -m benchmarks`` pins it).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import SEED, Result, interleaved, ratio

SIZE_PX = 512
CHARS = "K12MN456460"
TARGET_IMAGES_PER_S = 50.0


def _inputs() -> tuple[np.ndarray, np.ndarray]:
    n = len(CHARS)
    depth_mm = np.linspace(0.6, 2.0, n)
    visible = np.linspace(0.3, 1.0, n)
    return depth_mm, visible


def render_loop(renderer: Any, n_images: int, seed: int = SEED) -> int:
    """The candidate: ``n_images`` renders, sites A and B alternating; returns the boxes seen."""
    depth_mm, visible = _inputs()
    rng = np.random.default_rng(seed)
    boxes = 0
    for k in range(n_images):
        face = renderer.render(CHARS, depth_mm, visible, "AB"[k % 2], rng)
        boxes += int(face.present.sum())
    return boxes


class BareCompositor:
    """The baseline: texture + one precomputed relief, shaded, warped, blurred and noised directly."""

    def __init__(self, renderer: Any):
        from scipy.ndimage import gaussian_filter

        from physics.billet_render.stamp_font import rasterize_glyph
        from physics.billet_render.stamp_layout import cell_centres_mm

        p = renderer.params
        self.s = s = p.size_px
        self.margin = renderer.bank_margin_px
        self.bank = [(a, gx, gy) for a, gx, gy, _ in renderer._bank]
        depth_mm, _ = _inputs()
        height = np.zeros((s, s), np.float32)
        gh = renderer.glyph_h_px
        centres = cell_centres_mm(len(CHARS), p.layout, p.char_height_mm, p.char_pitch_em, p.row_pitch_em)
        for ch, (x, y), d in zip(CHARS, centres, depth_mm):
            g = rasterize_glyph(ch, gh, p.supersample)
            cy, cx = int((y + p.face_mm / 2) / p.mm_per_px - gh / 2), int((x + p.face_mm / 2) / p.mm_per_px
                                                                          - g.shape[1] / 2)
            height[cy:cy + gh, cx:cx + g.shape[1]] -= g * np.float32(d / p.mm_per_px)
        height = gaussian_filter(height, renderer.wall_sigma_px).astype(np.float32)
        self.stamp_gy, self.stamp_gx = (a.astype(np.float32) for a in np.gradient(height))
        self.dark = (1.0 - 0.4 * np.clip(-height / height.min(), 0, 1)).astype(np.float32)
        light = np.array([-0.5, -0.6, 0.62])
        self.light = (light / np.linalg.norm(light)).astype(np.float32)
        half = self.light + np.array([0, 0, 1], np.float32)
        self.half = (half / np.linalg.norm(half)).astype(np.float32)

    def homography(self, rng: np.random.Generator) -> tuple[float, ...]:
        a = np.radians(rng.normal(0.0, 4.0))
        c, s_ = np.cos(a), np.sin(a)
        h = self.s / 2
        rot = np.array([[c, -s_, h - c * h + s_ * h], [s_, c, h - s_ * h - c * h], [0, 0, 1]])
        rot[2, :2] = rng.normal(0.0, 1e-4, 2)
        inv = np.linalg.inv(rot)
        return tuple((inv / inv[2, 2]).ravel()[:8].tolist())

    def one(self, rng: np.random.Generator) -> np.ndarray:
        from PIL import Image, ImageFilter

        s = self.s
        albedo, tgx, tgy = self.bank[int(rng.integers(len(self.bank)))]
        oy, ox = rng.integers(0, self.margin + 1, 2)
        albedo = albedo[oy:oy + s, ox:ox + s]
        gx = tgx[oy:oy + s, ox:ox + s] + self.stamp_gx
        gy = tgy[oy:oy + s, ox:ox + s] + self.stamp_gy
        inv_norm = 1.0 / np.sqrt(gx * gx + gy * gy + 1.0)
        lam = np.maximum((-gx * self.light[0] - gy * self.light[1] + self.light[2]) * inv_norm, 0.0)
        spec = np.maximum((-gx * self.half[0] - gy * self.half[1] + self.half[2]) * inv_norm, 0.0) ** 16
        radiance = albedo * (0.3 + 0.9 * lam) * self.dark + 0.2 * spec
        img = Image.fromarray(np.clip(radiance * 255.0, 0, 255).astype(np.uint8), "L")
        img = img.transform((s, s), Image.Transform.PERSPECTIVE, self.homography(rng), Image.Resampling.BILINEAR,
                            fillcolor=12)
        img = img.filter(ImageFilter.GaussianBlur(1.0))
        out = np.asarray(img, dtype=np.float32) + rng.standard_normal((s, s), dtype=np.float32) * 4.0
        return np.clip(out, 0, 255).astype(np.uint8)

    def loop(self, n_images: int, seed: int = SEED) -> int:
        rng = np.random.default_rng(seed)
        total = 0
        for _ in range(n_images):
            total += int(self.one(rng)[0, 0])
        return total


def run(quick: bool = False, repeat: int = 3) -> list[Result]:
    from physics.billet_render import BilletFaceRenderer, RenderParams, neu_backgrounds_from_env

    n_images = 6 if quick else 200
    repeat = 1 if quick else repeat
    params = RenderParams(size_px=SIZE_PX)
    renderer = BilletFaceRenderer(params)
    bare = BareCompositor(renderer)
    fns = {"bare": lambda: bare.loop(n_images), "render": lambda: render_loop(renderer, n_images)}
    backgrounds = neu_backgrounds_from_env()
    if backgrounds is not None:
        real = BilletFaceRenderer(params, backgrounds=backgrounds)
        # Warm the image cache for the images this seed draws (decoding is a one-off per image).
        render_loop(real, n_images)
        fns["neu"] = lambda: render_loop(real, n_images)
    # Warm-up: first-call costs of numpy, PIL and the renderer's caches.
    bare.loop(2)
    render_loop(renderer, 2)
    t = interleaved(fns, repeat, warmup=False)
    base = n_images / t["bare"].best
    value = n_images / t["render"].best
    shape = {"size_px": SIZE_PX, "chars": CHARS, "images": n_images, "grey": True}
    out = [
        Result("billet_render: bare numpy/PIL composite (baseline)", base, "images/s",
               note="texture crop + fixed relief, Lambert/Blinn, PIL warp + GaussianBlur, normal noise",
               extra={"timing": t["bare"].summary(), "shape": shape}),
        Result("billet_render: BilletFaceRenderer.render", value, "images/s", baseline=base, ratio=ratio(value, base),
               target=TARGET_IMAGES_PER_S, target_on="value",
               note="512x512 grey, 11 chars, sites A/B, exact boxes; procedural steel",
               extra={"timing": t["render"].summary(), "baseline_timing": t["bare"].summary(), "shape": shape}),
    ]
    if "neu" in t:
        neu = n_images / t["neu"].best
        out.append(Result("billet_render: render with NEU-DET backgrounds", neu, "images/s", baseline=base,
                          ratio=ratio(neu, base), target=TARGET_IMAGES_PER_S, target_on="value",
                          note=f"real steel albedo from {os.environ.get('TWINLOOP_REALDATA', '')} (image cache warm)",
                          extra={"timing": t["neu"].summary(), "shape": shape,
                                 "realdata": str(Path(os.environ.get("TWINLOOP_REALDATA", "")))}))
    return out


if __name__ == "__main__":
    # Stand-alone run before the module is registered with ``python -m benchmarks``:
    # ``python -m benchmarks.bench_billet_render [--quick]`` (pinned to one core like the harness).
    import sys

    from benchmarks.__main__ import pin_to_one_core, table

    pin_to_one_core(None)
    print(table(run(quick="--quick" in sys.argv[1:])))
