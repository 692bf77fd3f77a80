"""Height map of the stamped characters and its shading under a directional light.

Stamp relief
------------
A die pressed into hot steel leaves a groove whose walls slope (the die
ridge is V- or round-topped and the metal flows), with a little material
piled up along the edges. :func:`stamp_height_patch` builds this from a
character's coverage mask: the mask blurred with a Gaussian of
``wall_sigma_px`` (the walls), normalised so a full-width stroke reaches
exactly the character's depth, plus a low "pile-up" rim just outside the
walls (a wider blur minus the groove's). Heights
are in **pixels** (depth_mm / mm_per_px), so slopes come out right in the
normals; negative = below the face.

Shading
-------
The face is lit by one directional source (the camera site's lamp) plus
ambient light. For the surface normal n of the height field z = h(x, y),
n = (-dh/dx, -dh/dy, 1)/|.|, the radiance is

    L = albedo * (ambient * ao + diffuse * max(n.l, 0) * shadow) + specular * (n.h)^s * shadow

(Lambert plus Blinn-Phong with the camera looking along -z, half vector h).
``ao`` darkens the bottom of deep grooves (ambient occlusion as a function
of depth: a groove d deep and w wide sees a sky fraction of roughly
1 - d/(d + w)) and ``shadow`` is the cast shadow of the groove wall under
a low light, found by marching towards the light inside each character
patch (:func:`cast_shadow_patch`).

All arrays are float32; the full-frame work is a dozen numpy passes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Light:
    """A directional lamp plus ambient light, in face-image coordinates.

    azimuth_deg: where the light comes FROM, in the image plane (0 = from +x,
    i.e. the right, 90 = from +y, i.e. the bottom; y points down).
    elevation_deg: angle above the face plane (90 = from the camera axis).
    """

    azimuth_deg: float = -135.0
    elevation_deg: float = 35.0
    ambient: float = 0.35
    diffuse: float = 0.9
    specular: float = 0.15
    shininess: int = 16            #: Blinn exponent, rounded up to a power of two (evaluated by squaring)

    def __post_init__(self) -> None:
        if not 1.0 <= self.elevation_deg <= 90.0:
            raise ValueError(f"Light.elevation_deg must be in [1, 90], got {self.elevation_deg!r}")
        for name in ("ambient", "diffuse", "specular"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"Light.{name} must be finite and >= 0, got {v!r}")
        if self.shininess < 1:
            raise ValueError(f"Light.shininess must be >= 1, got {self.shininess!r}")

    def direction(self) -> np.ndarray:
        """Unit vector from the surface towards the light (x right, y down, z towards the camera)."""
        az, el = np.radians(self.azimuth_deg), np.radians(self.elevation_deg)
        return np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])

    def rotated(self, degrees: float) -> "Light":
        """The same lamp seen in a frame rotated by ``degrees`` (e.g. a billet turned in the image)."""
        return Light(self.azimuth_deg + degrees, self.elevation_deg, self.ambient, self.diffuse,
                     self.specular, self.shininess)


@lru_cache(maxsize=64)
def blur_matrix(n: int, sigma_px: float, pad: int = 0) -> np.ndarray:
    """(n + 2 pad, n) float32 matrix of a 1-D Gaussian blur that also pads by ``pad`` zeros per side.

    ``M @ x`` blurs ``x`` along axis 0 into an array ``pad`` longer at each
    end (zero outside ``x``): blurring and padding a patch in one product.
    """
    i = np.arange(n + 2 * pad)[:, None] - pad
    d = i - np.arange(n)[None, :]
    if sigma_px <= 1e-3:
        m = (d == 0).astype(np.float32)
    else:
        r = max(1, int(np.ceil(4 * sigma_px)))
        m = np.exp(-0.5 * (d / sigma_px) ** 2)
        m[np.abs(d) > r] = 0.0
        m /= np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_px) ** 2).sum()
        m = m.astype(np.float32)
    m.setflags(write=False)
    return m


def blur2d(a: np.ndarray, sigma_px: float, pad: int = 0) -> np.ndarray:
    """Separable Gaussian blur of a small 2-D patch (zero outside), padded by ``pad`` on every side."""
    return blur_matrix(a.shape[0], float(sigma_px), pad) @ a @ blur_matrix(a.shape[1], float(sigma_px), pad).T


@lru_cache(maxsize=32)
def stroke_peak(stroke_px: float, sigma_px: float) -> float:
    """Peak of a blurred straight stroke of width ``stroke_px``: the normaliser of the groove depth."""
    n = int(np.ceil(stroke_px + 10 * sigma_px)) + 8
    x = np.arange(n) + 0.5 - n / 2.0
    prof = np.clip(stroke_px / 2.0 + 0.5 - np.abs(x), 0.0, 1.0).astype(np.float32)[:, None]
    return float(max((blur_matrix(n, float(sigma_px)) @ prof).max(), 1e-6))


def stamp_height_patch(coverage: np.ndarray, depth_px: float, wall_sigma_px: float, stroke_px: float,
                       rim_fraction: float = 0.1, rim_sigma_px: float | None = None, pad: int = 0) -> np.ndarray:
    """Relief of one stamped character (pixels, negative below the face) from its coverage mask.

    The groove reaches ``-depth_px`` in the middle of a full stroke; the
    pile-up rim rises up to about ``rim_fraction * depth_px`` just outside
    the walls. The result is ``pad`` pixels larger than ``coverage`` on
    every side (room for the walls and the rim; choose pad >= 3 sigma).
    """
    unit = blur2d(coverage, wall_sigma_px, pad)
    unit *= np.float32(1.0 / stroke_peak(float(stroke_px), float(wall_sigma_px)))
    np.minimum(unit, np.float32(1.0), out=unit)
    height = unit * np.float32(-depth_px)
    if rim_fraction > 0:
        rs = rim_sigma_px if rim_sigma_px is not None else 2.0 * max(wall_sigma_px, 0.5)
        rim = blur2d(coverage, rs, pad)
        rim -= unit
        np.maximum(rim, 0.0, out=rim)
        height += np.float32(rim_fraction * depth_px) * rim
    return height


def gradient(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dh/dx, dh/dy) by central differences inside, one-sided at the edges (float32)."""
    gy, gx = np.gradient(h)
    return gx.astype(np.float32, copy=False), gy.astype(np.float32, copy=False)


def occlusion_patch(height: np.ndarray, mm_per_px: float, width_mm: float = 2.5,
                    strength: float = 0.6) -> np.ndarray:
    """Ambient occlusion of a groove: 1 - strength * d / (d + width) with d the depth in mm."""
    d = np.clip(-height, 0.0, None) * np.float32(mm_per_px)
    return (1.0 - strength * d / (d + np.float32(width_mm))).astype(np.float32)


def cast_shadow_patch(height: np.ndarray, light: Light, softness_px: float = 0.6,
                      max_steps: int | None = None) -> np.ndarray:
    """Fraction of direct light reaching each pixel of a relief patch (1 lit, 0 in shadow).

    A pixel p is shadowed when a point p + s on the way towards the light
    rises above the light ray: h(p + s) > h(p) + |s| tan(elevation). With
    G = h - tan(elevation) * (p . u) (u the unit light direction in the
    image plane) this is max_s G(p + s) > G(p), so marching in one-pixel
    steps towards the light needs a single maximum per step. The excess
    height is turned into a soft shadow edge over ``softness_px``. Only
    heights inside the patch occlude.
    """
    lx, ly, lz = light.direction()
    horiz = float(np.hypot(lx, ly))
    if horiz < 1e-6:
        return np.ones_like(height)
    tan_el = lz / horiz
    relief = float(height.max() - height.min())
    steps = int(np.ceil(relief / tan_el)) + 1
    if max_steps is not None:
        steps = min(steps, int(max_steps))
    ux, uy = lx / horiz, ly / horiz
    h, w = height.shape
    yy, xx = np.ogrid[0:h, 0:w]
    g = height - np.float32(tan_el) * (np.float32(ux) * xx.astype(np.float32) + np.float32(uy) * yy.astype(np.float32))
    g = g.astype(np.float32, copy=False)
    top = g.copy()                     # max of g over the pixel and the points towards the light
    for t in range(1, steps + 1):
        sx, sy = int(round(t * ux)), int(round(t * uy))
        if abs(sx) >= w or abs(sy) >= h:
            break
        dst = (slice(max(0, -sy), h - max(0, sy)), slice(max(0, -sx), w - max(0, sx)))
        src = (slice(max(0, sy), h + min(0, sy)), slice(max(0, sx), w + min(0, sx)))
        np.maximum(top[dst], g[src], out=top[dst])
    top -= g                           # excess height of the worst occluder over the light ray
    top *= np.float32(-1.0 / max(softness_px, 1e-3))
    top += np.float32(1.0)
    return np.clip(top, 0.0, 1.0, out=top)


def shade(albedo: np.ndarray, gx: np.ndarray, gy: np.ndarray, light: Light,
          ao: np.ndarray | None = None, shadow: np.ndarray | None = None,
          light_rgb: np.ndarray | None = None) -> np.ndarray:
    """Radiance of a relief under ``light``: float32 (H, W), or (H, W, 3) for RGB albedo / light.

    ``albedo`` is (H, W) luminance or (H, W, 3) colour; ``gx``/``gy`` the
    height gradients (pixels per pixel); ``ao``/``shadow`` optional (H, W)
    factors in [0, 1]; ``light_rgb`` an optional colour of the lamp.
    """
    lx, ly, lz = (np.float32(v) for v in light.direction())
    hx, hy, hz = lx, ly, lz + np.float32(1.0)
    hn = np.float32(np.sqrt(hx * hx + hy * hy + hz * hz))
    hx, hy, hz = hx / hn, hy / hn, hz / hn
    inv_norm = gx * gx
    inv_norm += gy * gy
    inv_norm += np.float32(1.0)
    np.sqrt(inv_norm, out=inv_norm)
    np.reciprocal(inv_norm, out=inv_norm)
    # n = (-gx, -gy, 1) * inv_norm
    lam = gx * (-lx)
    lam -= gy * ly
    lam += lz
    lam *= inv_norm
    np.maximum(lam, 0.0, out=lam)
    spec = gx * (-hx)
    spec -= gy * hy
    spec += hz
    spec *= inv_norm
    np.maximum(spec, 0.0, out=spec)
    k = 1
    while k < light.shininess:
        spec *= spec
        k *= 2
    if shadow is not None:
        lam *= shadow
        spec *= shadow
    lam *= np.float32(light.diffuse)
    if ao is not None:
        lam += ao * np.float32(light.ambient)
    else:
        lam += np.float32(light.ambient)
    spec *= np.float32(light.specular)
    if albedo.ndim == 3 or light_rgb is not None:
        rgb = np.ones(3, np.float32) if light_rgb is None else np.asarray(light_rgb, np.float32)
        alb = albedo if albedo.ndim == 3 else albedo[..., None]
        return (alb * lam[..., None] + spec[..., None]) * rgb
    lam *= albedo
    lam += spec
    return lam
