"""Steel billet end-face texture: procedural, or sampled from real NEU-DET steel images.

A torch-cut billet end face seen by the marking camera shows

* **drag lines** (striations): parallel grooves left by the cutting torch,
  curved because the jet lags behind the torch ("drag"); pitch about
  1-2 mm, depth a few hundredths of a mm;
* **oxide scale**: a dark grey-blue iron-oxide layer, patchy in tone, that
  flakes off in places and exposes lighter metal with a small step at the
  flake edge;
* **rust**: orange-brown tint where the face sat in humid air (colour only);
* **pits**: small round depressions (gas pores, slag spots).

:func:`procedural_face` builds these as an albedo map (luminance), an
optional colour tint and a relief (height) map in pixels, so the same
light as the stamps shades them (see :mod:`.shading`). Fields come from
FFT-filtered white noise, which is isotropic and periodic (no seams).

:class:`NeuBackgrounds` replaces the albedo by real hot-rolled steel
texture: random crops of the NEU-DET surface images (200 x 200 grey JPEGs,
``<root>/neu_det/IMAGES/*.jpg``, see shared/realdata/neu_det/README.txt),
tiled with feathered seams to the face size. The data are never copied
into the repository; :func:`neu_backgrounds_from_env` finds them through
``TWINLOOP_REALDATA`` and returns None when they are absent, so callers
fall back to the procedural texture.
"""
from __future__ import annotations

import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

log = logging.getLogger(__name__)

#: Environment variable naming the real-data folder (shared/realdata).
REALDATA_ENV = "TWINLOOP_REALDATA"
#: Linear RGB colour of bare scale and of rust, relative (luminance about 1 after tinting).
_SCALE_RGB = np.array([0.96, 0.99, 1.06], dtype=np.float32)
_RUST_RGB = np.array([1.32, 0.95, 0.68], dtype=np.float32)


@dataclass(frozen=True)
class SteelFaceParams:
    """Appearance of a torch-cut, scaled billet face (lengths in mm on the face)."""

    striation_pitch_mm: float = 1.6      #: spacing of drag lines
    striation_depth_mm: float = 0.02     #: groove amplitude
    striation_bend: float = 0.06         #: drag-line sag half a face from the apex, fraction of the face width
    scale_albedo: float = 0.34           #: luminance of intact oxide scale
    metal_albedo: float = 0.42           #: luminance of metal where scale flaked off
    scale_mottle: float = 0.22           #: relative tone variation of the scale
    flake_fraction: float = 0.15         #: share of the face where scale flaked off
    flake_step_mm: float = 0.08          #: scale thickness (height step at flake edges)
    rust_amount: float = 0.6             #: strength of the rust tint (colour only)
    pits_per_cm2: float = 0.25           #: density of pits
    pit_radius_mm: tuple[float, float] = (0.25, 0.9)
    pit_depth_mm: float = 0.25

    def __post_init__(self) -> None:
        for name, v in vars(self).items():
            vals = v if isinstance(v, tuple) else (v,)
            if not all(np.isfinite(x) and x >= 0 for x in vals):
                raise ValueError(f"SteelFaceParams.{name} must be finite and >= 0, got {v!r}")
        if not 0.0 <= self.flake_fraction <= 1.0:
            raise ValueError(f"SteelFaceParams.flake_fraction must be in [0, 1], got {self.flake_fraction!r}")


@dataclass(frozen=True)
class FaceTexture:
    """One face texture, all float32 of the face size (H, W).

    albedo: luminance in [0, 1]; tint: (H, W, 3) colour factors (luminance ~1),
    None for grey renders; height_px: relief in pixels (negative = recessed).
    """

    albedo: np.ndarray
    height_px: np.ndarray
    tint: np.ndarray | None = None


def noise_field(shape: tuple[int, int], rng: np.random.Generator, scale_px: float,
                detail: float = 0.0, detail_slope: float = 1.0) -> np.ndarray:
    """Periodic smooth random field of unit sd: white noise low-passed in Fourier space.

    ``scale_px`` is the Gaussian correlation length. ``detail`` > 0 adds a
    power-law tail of finer structure (amplitude ``detail`` relative to the
    main lobe, falling as 1/f^``detail_slope``), which roughens the edges of
    thresholded patches the way oxide flakes are rough.
    """
    h, w = shape
    white = rng.standard_normal((h, w)).astype(np.float32)
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f2 = fy * fy + fx * fx
    transfer = np.exp(-2.0 * (np.pi * scale_px) ** 2 * f2)
    if detail > 0:
        f = np.sqrt(f2)
        tail = np.where(f > 0, np.minimum(1.0, (f * scale_px * 4.0 + 1e-9) ** (-detail_slope)), 0.0)
        transfer = transfer + detail * tail * np.exp(-2.0 * (np.pi * 1.5) ** 2 * f2)
    out = np.fft.irfft2(np.fft.rfft2(white) * transfer, s=(h, w)).astype(np.float32)
    out -= out.mean()
    sd = float(out.std())
    return out / sd if sd > 0 else out


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def procedural_face(size_px: int, mm_per_px: float, rng: np.random.Generator, rgb: bool = False,
                    params: SteelFaceParams = SteelFaceParams()) -> FaceTexture:
    """A procedural torch-cut, scaled steel face of ``size_px`` square at ``mm_per_px``."""
    n = int(size_px)
    shape = (n, n)
    px = 1.0 / mm_per_px  # pixels per mm
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)

    # Drag lines: v = y + 4 bend (x - x0)^2 / n is constant along a line (sag = bend * n
    # half a face away from the apex x0), wobbled by a smooth field; the grooves are a
    # sine of v with a slowly varying amplitude that dies out in places.
    bend = params.striation_bend * rng.uniform(0.5, 1.5)
    x0 = rng.uniform(0.2, 0.8) * n
    v = yy + 4.0 * bend * (xx - x0) ** 2 / n + 2.5 * px * noise_field(shape, rng, 12.0 * px)
    pitch = params.striation_pitch_mm * px * rng.uniform(0.8, 1.25)
    amp = np.clip(0.6 + 0.7 * noise_field(shape, rng, 15.0 * px), 0.0, None)
    # Lines closer than ~3 px would alias (moire): fade them out at coarse resolutions.
    visible = float(np.clip((pitch - 2.5) / 2.0, 0.0, 1.0))
    height = (params.striation_depth_mm * px * visible) * amp * np.sin(2 * np.pi * v / pitch)

    # Oxide scale: mottled tone, flakes where a mid-scale field is highest.
    mottle = 0.8 * noise_field(shape, rng, 7.0 * px) + 0.45 * noise_field(shape, rng, 1.2 * px)
    flake_field = noise_field(shape, rng, 5.0 * px, detail=0.25, detail_slope=0.8)
    thr = np.quantile(flake_field, 1.0 - params.flake_fraction) if params.flake_fraction > 0 else np.inf
    flaked = _smoothstep((flake_field - thr) / 0.25 + 0.5)
    albedo = params.scale_albedo * (1.0 + params.scale_mottle * mottle)
    albedo = albedo * (1.0 - flaked) + params.metal_albedo * (1.0 + 0.6 * params.scale_mottle * mottle) * flaked
    height = height - params.flake_step_mm * px * flaked

    # Pits: small round depressions, darker inside.
    area_cm2 = (n * mm_per_px / 10.0) ** 2
    n_pits = int(rng.poisson(params.pits_per_cm2 * area_cm2))
    if n_pits:
        pits = np.zeros(shape, dtype=np.float32)
        cy, cx = rng.uniform(0, n, n_pits), rng.uniform(0, n, n_pits)
        rad = rng.uniform(*params.pit_radius_mm, n_pits) * px
        for y, x, r in zip(cy, cx, rad):
            r_eff = max(r, 0.7)
            y0, y1 = int(max(0, y - 3 * r_eff)), int(min(n, y + 3 * r_eff + 1))
            x0_, x1_ = int(max(0, x - 3 * r_eff)), int(min(n, x + 3 * r_eff + 1))
            if y1 <= y0 or x1_ <= x0_:
                continue
            d2 = (yy[y0:y1, x0_:x1_] - y) ** 2 + (xx[y0:y1, x0_:x1_] - x) ** 2
            np.maximum(pits[y0:y1, x0_:x1_], np.exp(-d2 / (2 * r_eff * r_eff)), out=pits[y0:y1, x0_:x1_])
        height = height - params.pit_depth_mm * px * pits
        albedo = albedo * (1.0 - 0.3 * pits)

    tint = None
    if rgb:
        rust = _smoothstep(0.5 * noise_field(shape, rng, 12.0 * px, detail=0.05) + 0.2)
        rust = (params.rust_amount * rust * (1.0 - 0.4 * flaked))[..., None]
        tint = (_SCALE_RGB * (1.0 - rust) + _RUST_RGB * rust).astype(np.float32)
        albedo = albedo * (1.0 - 0.15 * rust[..., 0])   # rust is slightly darker than scale
    return FaceTexture(albedo=np.clip(albedo, 0.02, 1.0).astype(np.float32),
                       height_px=height.astype(np.float32), tint=tint)


class NeuBackgrounds:
    """Real hot-rolled steel texture from NEU-DET, tiled to a billet face.

    ``root`` is the real-data folder (what ``TWINLOOP_REALDATA`` names); the
    images are read from ``root/neu_det/IMAGES/*.jpg`` lazily and kept in a
    small cache. :meth:`sample` returns a float32 (size, size) luminance map:
    ``tiles x tiles`` random crops of one random image (random flips and
    quarter turns; one image per face keeps the texture statistics uniform
    and costs one decode) with the photo's uneven illumination removed
    (minus a wide blur), scaled to the face, blended over feathered overlaps
    and set on a random mean tone.
    """

    IMAGE_GLOB = "neu_det/IMAGES/*.jpg"
    #: NEU classes whose texture an oxidised, torch-cut billet face can show. Left
    #: out by default: ``scratches`` (long straight roll marks of strip, which a
    #: cut face does not have).
    FACE_CLASSES: tuple[str, ...] = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale")

    def __init__(self, root: Path, cache_size: int = 256, classes: tuple[str, ...] | None = FACE_CLASSES):
        root = Path(root)
        self.root = root
        paths = sorted(root.glob(self.IMAGE_GLOB))
        if classes is not None:
            unknown = set(classes) - {p.stem.rsplit("_", 1)[0] for p in paths}
            if paths and unknown:
                raise ValueError(f"unknown NEU-DET classes {sorted(unknown)} under {root / 'neu_det' / 'IMAGES'}")
            paths = [p for p in paths if p.stem.rsplit("_", 1)[0] in classes]
        self.paths = paths
        if not self.paths:
            raise FileNotFoundError(f"no NEU-DET images under {root / 'neu_det' / 'IMAGES'} "
                                    f"(expected 200x200 JPEGs; see shared/realdata/neu_det/README.txt)")
        classes: dict[str, list[int]] = {}
        for i, p in enumerate(self.paths):
            classes.setdefault(p.stem.rsplit("_", 1)[0], []).append(i)
        self.classes = {k: classes[k] for k in sorted(classes)}
        self._names = list(self.classes)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()   # decoded, flattened images
        self._cache_size = int(cache_size)

    def __repr__(self) -> str:
        return f"NeuBackgrounds(root={str(self.root)!r}, images={len(self.paths)})"

    def _detail(self, i: int) -> np.ndarray:
        """Image i as uint8 detail: 128 + grey level - a wide blur (removes the photo's uneven lighting)."""
        img = self._cache.get(i)
        if img is None:
            with Image.open(self.paths[i]) as im:
                grey = im.convert("L")
            low = grey.filter(ImageFilter.GaussianBlur(max(grey.size) / 7.0))
            detail = np.asarray(grey, dtype=np.int16) - np.asarray(low, dtype=np.int16) + 128
            img = np.clip(detail, 0, 255).astype(np.uint8)
            img.setflags(write=False)
            self._cache[i] = img
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(i)
        return img

    #: Tile side and feathered overlap (pixels) of the mosaic, built at about the photos' scale.
    TILE_PX, OVERLAP_PX = 128, 20

    @staticmethod
    @lru_cache(maxsize=8)
    def _mosaic_weights(t: int, tile_px: int, overlap: int) -> tuple[np.ndarray, np.ndarray]:
        """Feather weights of one tile and 1 / (sum of weights) over a t x t mosaic."""
        ramp = np.minimum(1.0, (np.arange(tile_px) + 0.5) / overlap)
        w1 = np.minimum(ramp, ramp[::-1])
        weight = (w1[:, None] * w1[None, :]).astype(np.float32)
        step = tile_px - overlap
        side = t * step + overlap
        wsum = np.zeros((side, side), dtype=np.float32)
        for ty in range(t):
            for tx in range(t):
                wsum[ty * step:ty * step + tile_px, tx * step:tx * step + tile_px] += weight
        inv = (1.0 / wsum).astype(np.float32)
        for arr in (weight, inv):
            arr.setflags(write=False)
        return weight, inv

    def sample(self, size_px: int, rng: np.random.Generator, tiles: int | None = None) -> np.ndarray:
        """A (size_px, size_px) float32 luminance map in [0, 1] of real steel texture.

        The ``tiles`` x ``tiles`` mosaic (2 or 3 when None) is blended at the
        photos' scale and then resized once to the face.
        """
        n = int(size_px)
        t = int(tiles) if tiles is not None else int(rng.integers(2, 4))
        src = self._detail(int(rng.integers(len(self.paths))))
        tp, ov = self.TILE_PX, self.OVERLAP_PX
        weight, inv_wsum = self._mosaic_weights(t, tp, ov)
        acc = np.zeros(inv_wsum.shape, dtype=np.float32)
        step = tp - ov
        for ty in range(t):
            for tx in range(t):
                crop = int(rng.integers(100, src.shape[0] + 1))
                oy, ox = rng.integers(0, src.shape[0] - crop + 1), rng.integers(0, src.shape[1] - crop + 1)
                patch = np.rot90(src[oy:oy + crop, ox:ox + crop], int(rng.integers(4)))
                if rng.random() < 0.5:
                    patch = patch[:, ::-1]
                tile = Image.fromarray(np.ascontiguousarray(patch), "L").resize((tp, tp), Image.Resampling.BILINEAR)
                acc[ty * step:ty * step + tp, tx * step:tx * step + tp] += np.asarray(tile, dtype=np.float32) * weight
        acc *= inv_wsum
        mosaic = Image.fromarray(np.clip(acc + 0.5, 0, 255).astype(np.uint8), "L")
        out = np.asarray(mosaic.resize((n, n), Image.Resampling.BILINEAR), dtype=np.float32)
        out -= np.float32(128.0)
        out *= np.float32(rng.uniform(0.8, 1.2) / 255.0)
        out += np.float32(rng.uniform(0.32, 0.5))
        return np.clip(out, 0.02, 1.0, out=out)


def neu_backgrounds_from_env() -> NeuBackgrounds | None:
    """NEU backgrounds from ``$TWINLOOP_REALDATA``, or None when unset, missing or without images."""
    value = os.environ.get(REALDATA_ENV, "")
    if not value:
        log.debug("%s is not set: procedural billet-face texture", REALDATA_ENV)
        return None
    root = Path(value)
    if not (root / "neu_det" / "IMAGES").is_dir():
        log.info("%s=%s has no neu_det/IMAGES folder: procedural billet-face texture", REALDATA_ENV, value)
        return None
    try:
        return NeuBackgrounds(root)
    except FileNotFoundError as exc:
        log.info("%s: procedural billet-face texture", exc)
        return None
