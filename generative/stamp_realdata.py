"""Stand-in training pairs for the stamp cGAN, built from the real data that exists here.

What a plant would use: photos of its own stamped characters with a mask
per character (:mod:`generative.stamp_pairs` describes the folder). What
this project has: **3** photos of stamped metal (``stamped_metal_ids``,
kept for a look by eye only), **1,006** real photographed digit crops from
utility meters (``meter_digits``, digits 0-9; the ``N`` class of digits in
transition is left out) and **1,770** real hot-rolled steel images
(``neu_det``). So the pairs built here are **stand-ins, not stamps**:

* **mask** = the real digit's footprint, segmented from its crop: Otsu's
  threshold on the grey crop; the digit is the class that covers less of
  the crop's border (meter digits come dark-on-light and light-on-dark);
  only connected pieces whose centre lies in the middle 70 % of the crop
  are kept (neighbouring digits of a rolling counter are cut off). Crops
  whose footprint is implausible (under 6 % or over 45 % of the crop,
  touching much of the border, less than half the crop high) are skipped.
* **image** = the real digit's *luminance structure* printed onto *real
  steel texture*: a "darkness" map ``d`` = the crop's grey level between
  its background and stroke class means (1 = stroke, 0 = background;
  blur, glare, uneven ink, broken 7-segment bars — all real), limited to
  the digit's own surroundings (footprint grown by 3 px, softened), and a
  random NEU-DET crop with the photo's uneven lighting removed, set on a
  mean tone in [0.35, 0.55]: ``image = steel * (1 - a d)`` with
  ``a`` uniform in [0.45, 0.8].

The geometry matches what the twin hands to the cGAN: each pair is an
``S x S`` patch (default 64) with the footprint ``0.58 S`` high (a
character of the billet renderer and its wall/rim margin, squared and
resized, see :mod:`generative.stamp_texture_adapter`), centred.

What the cGAN can learn from these: photographic stroke structure (soft
and uneven edges, fill variation, breaks) and real steel grain around and
under the stroke. What it cannot: how an indentation catches the light
(walls, shadows, pile-up rims). Those come from the physics renderer, which
is the cGAN's second input.

Splits: digit crops and NEU images are each split at random (``seed``)
into train and held-out parts (``holdout_fraction``), so held-out pairs
share neither the digit photo nor the steel photo with training. Some
meter photos are near-duplicates (the same meter photographed minutes
apart), so the held-out split is optimistic.

This module needs numpy, scipy and Pillow only (no torch, no twinloop
package): :func:`build_stamp_pairs` writes ``OUT/train`` and
``OUT/holdout`` (each a pair folder with ``pairs.json``: sources, digit
labels, seed). Real data are read from the folder given (the project
passes ``$TWINLOOP_REALDATA``); nothing of it is copied into the
repository.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

__all__ = ["build_stamp_pairs", "digit_footprint", "otsu_threshold", "StandInPairSpec", "DIGIT_GLOB", "NEU_GLOB",
           "NEU_CLASSES"]

DIGIT_GLOB = "meter_digits/01_data_raw_all_original/*.jpg"
NEU_GLOB = "neu_det/IMAGES/*.jpg"
#: NEU classes whose texture a cut billet face can show (as the renderer's NeuBackgrounds: no scratches).
NEU_CLASSES = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale")


@dataclass(frozen=True)
class StandInPairSpec:
    """Geometry and appearance of the stand-in pairs (see the module docstring)."""

    size: int = 64                     #: patch side, px
    glyph_frac: float = 0.58           #: footprint height / patch side
    work_height: int = 96              #: crops are segmented at this height (px)
    tone: tuple[float, float] = (0.35, 0.55)        #: mean grey level of the steel
    contrast: tuple[float, float] = (0.8, 1.2)      #: steel detail gain
    darkening: tuple[float, float] = (0.45, 0.8)    #: a in image = steel * (1 - a d)


def otsu_threshold(grey: np.ndarray) -> int:
    """Otsu's threshold of a uint8 image: the level that maximises the between-class variance."""
    hist = np.bincount(np.asarray(grey, np.uint8).ravel(), minlength=256).astype(np.float64)
    p = hist / max(hist.sum(), 1.0)
    w = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * w - mu) ** 2 / (w * (1.0 - w))
    between[~np.isfinite(between)] = -1.0
    return int(np.argmax(between))


def digit_footprint(grey: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """(footprint bool, stroke mean, background mean) of a grey uint8 digit crop, or None if implausible."""
    g = np.asarray(grey, np.uint8)
    t = otsu_threshold(g)
    fg = g > t
    border = np.concatenate([fg[0], fg[-1], fg[:, 0], fg[:, -1]])
    if border.mean() > 0.5:             # the digit is the class that does not fill the border
        fg = ~fg
    lab, n = ndimage.label(fg)
    if n == 0:
        return None
    h, w = g.shape
    idx = np.arange(1, n + 1)
    sizes = ndimage.sum(fg, lab, idx)
    centres = ndimage.center_of_mass(fg, lab, idx)
    keep = np.zeros_like(fg)
    for k, (s, (cy, cx)) in enumerate(zip(sizes, centres)):
        if s >= 0.1 * sizes.max() and 0.15 * h < cy < 0.85 * h and 0.15 * w < cx < 0.85 * w:
            keep |= lab == k + 1
    frac = keep.mean()
    edge = np.concatenate([keep[0], keep[-1], keep[:, 0], keep[:, -1]]).mean()
    rows = np.flatnonzero(keep.any(axis=1))
    if not (0.06 <= frac <= 0.45) or edge > 0.08 or rows.size == 0 or rows[-1] - rows[0] + 1 < 0.5 * h:
        return None
    stroke, back = float(g[keep].mean()), float(g[~keep].mean())
    if abs(stroke - back) < 20:
        return None
    return keep, stroke, back


def _place(a: np.ndarray, centre: tuple[float, float], scale: float, size: int,
           resample: Image.Resampling) -> np.ndarray:
    """Resample float array ``a`` so that ``centre`` (y, x) lands in the middle, scaled by ``scale``; 0 outside."""
    cy, cx = centre
    inv = 1.0 / scale                   # output pixel -> source pixel
    coeffs = (inv, 0.0, cx - inv * size / 2.0, 0.0, inv, cy - inv * size / 2.0)
    img = Image.fromarray(a.astype(np.float32), "F").transform((size, size), Image.Transform.AFFINE, coeffs,
                                                                resample, fillcolor=0.0)
    return np.asarray(img, dtype=np.float32)


def _steel(path: Path, size: int, rng: np.random.Generator, spec: StandInPairSpec) -> np.ndarray:
    with Image.open(path) as im:
        grey = im.convert("L")
    side = int(rng.integers(64, min(grey.size) + 1))
    ox, oy = (int(rng.integers(0, d - side + 1)) for d in grey.size)
    crop = grey.crop((ox, oy, ox + side, oy + side)).resize((size, size), Image.Resampling.BILINEAR)
    crop = crop.rotate(90 * int(rng.integers(4)))
    low = crop.filter(ImageFilter.GaussianBlur(size / 4.0))
    detail = (np.asarray(crop, np.float32) - np.asarray(low, np.float32)) / 255.0
    return np.float32(rng.uniform(*spec.tone)) + np.float32(rng.uniform(*spec.contrast)) * detail


def _make_pair(digit_path: Path, neu_path: Path, rng: np.random.Generator,
               spec: StandInPairSpec) -> tuple[np.ndarray, np.ndarray] | None:
    with Image.open(digit_path) as im:
        grey = im.convert("L")
    w = max(4, int(round(grey.size[0] * spec.work_height / grey.size[1])))
    g = np.asarray(grey.resize((w, spec.work_height), Image.Resampling.BILINEAR), np.uint8)
    found = digit_footprint(g)
    if found is None:
        return None
    foot, stroke, back = found
    rows, cols = np.flatnonzero(foot.any(axis=1)), np.flatnonzero(foot.any(axis=0))
    scale = spec.glyph_frac * spec.size / (rows[-1] - rows[0] + 1)
    if (cols[-1] - cols[0] + 1) * scale > 0.9 * spec.size:
        return None
    centre = ((rows[0] + rows[-1] + 1) / 2.0, (cols[0] + cols[-1] + 1) / 2.0)
    dark = np.clip((g.astype(np.float32) - back) / (stroke - back), 0.0, 1.0)
    near = ndimage.gaussian_filter(ndimage.binary_dilation(foot, iterations=3).astype(np.float32), 1.0)
    dark *= near
    mask = np.clip(_place(foot.astype(np.float32), centre, scale, spec.size, Image.Resampling.BILINEAR), 0, 1)
    d = np.clip(_place(dark, centre, scale, spec.size, Image.Resampling.BICUBIC), 0, 1)
    steel = _steel(neu_path, spec.size, rng, spec)
    image = np.clip(steel * (1.0 - np.float32(rng.uniform(*spec.darkening)) * d), 0.0, 1.0)
    if not (mask >= 0.5).any():
        return None
    return mask, image


def _split(paths: list[Path], fraction: float, rng: np.random.Generator) -> tuple[list[Path], list[Path]]:
    order = rng.permutation(len(paths))
    n_hold = int(round(fraction * len(paths)))
    hold = sorted(paths[i] for i in order[:n_hold])
    train = sorted(paths[i] for i in order[n_hold:])
    return train, hold


def build_stamp_pairs(realdata: Path | str, out: Path | str, *, seed: int = 0, holdout_fraction: float = 0.2,
                      max_pairs: int | None = None, spec: StandInPairSpec = StandInPairSpec()) -> dict:
    """Write stand-in pair folders ``OUT/train`` and ``OUT/holdout`` from ``realdata``; returns the summary.

    ``realdata`` holds ``meter_digits/`` and ``neu_det/`` (the folder
    ``$TWINLOOP_REALDATA`` names). ``max_pairs`` caps the pairs per split
    (None: every usable crop). Raises FileNotFoundError naming what is
    missing, FileExistsError if ``OUT/train`` or ``OUT/holdout`` exists and
    is not empty.
    """
    root, out = Path(realdata), Path(out)
    digits = sorted(p for p in root.glob(DIGIT_GLOB) if p.name[:1].isdigit())
    neu = sorted(p for p in root.glob(NEU_GLOB) if p.stem.rsplit("_", 1)[0] in NEU_CLASSES)
    if not digits:
        raise FileNotFoundError(f"no digit crops {root / DIGIT_GLOB} (see shared/realdata/meter_digits/README.txt)")
    if not neu:
        raise FileNotFoundError(f"no NEU-DET images {root / NEU_GLOB} (see shared/realdata/neu_det/README.txt)")
    for part in ("train", "holdout"):
        if (out / part).exists() and any((out / part).iterdir()):
            raise FileExistsError(f"{out / part}: pair folder exists and is not empty")
    rng = np.random.default_rng(seed)
    d_train, d_hold = _split(digits, holdout_fraction, rng)
    n_train, n_hold = _split(neu, holdout_fraction, rng)
    summary = {"what": "stand-in pairs: real meter-digit luminance structure on real NEU-DET steel texture "
                       "(NOT photos of stamped characters)",
               "seed": int(seed), "holdout_fraction": float(holdout_fraction), "size": spec.size,
               "glyph_frac": spec.glyph_frac, "splits": {}}
    for part, dpaths, npaths in (("train", d_train, n_train), ("holdout", d_hold, n_hold)):
        folder = out / part
        (folder / "masks").mkdir(parents=True, exist_ok=True)
        (folder / "images").mkdir(parents=True, exist_ok=True)
        prng = np.random.default_rng([int(seed), 1 if part == "train" else 2])
        labels, sources, skipped = {}, {}, 0
        for k, dp in enumerate(dpaths):
            if max_pairs is not None and len(labels) >= int(max_pairs):
                break
            npath = npaths[int(prng.integers(len(npaths)))]
            made = _make_pair(dp, npath, prng, spec)
            if made is None:
                skipped += 1
                continue
            name = f"{dp.name[0]}_{k:05d}"
            for sub, arr in (("masks", made[0]), ("images", made[1])):
                Image.fromarray(np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8), "L").save(
                    folder / sub / f"{name}.png", compress_level=6)
            labels[name] = int(dp.name[0])
            sources[name] = {"digit": dp.name, "steel": npath.name}
        info = {**{k: v for k, v in summary.items() if k != "splits"}, "split": part, "labels": labels,
                "sources": sources, "skipped_crops": skipped,
                "mask": "Otsu footprint of the real digit crop", "image": "steel * (1 - a * darkness(real crop))"}
        (folder / "pairs.json").write_text(json.dumps(info, indent=1, sort_keys=True), encoding="utf-8")
        summary["splits"][part] = {"pairs": len(labels), "skipped_crops": skipped, "digit_photos": len(dpaths),
                                   "steel_photos": len(npaths)}
    return summary
