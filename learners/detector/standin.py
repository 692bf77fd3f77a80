"""A real-texture stand-in for stamped billets: real digit crops on real steel surfaces, with known boxes.

There is no public data set of stamped billet faces with character boxes.
This module builds the closest thing from two real data sets (read from
the folders the caller gives — the project reads them through
``TWINLOOP_REALDATA`` and never copies them):

* ``meter_digits`` — 1,290 real photographed digit crops (20 x 32 px RGB,
  roller counters and LCDs of utility meters); the label is the first
  character of the file name, ``0``-``9``; ``N`` (a digit in transition)
  is skipped;
* ``neu_det`` — real hot-rolled steel strip surfaces (200 x 200 px grey).

**It is a stand-in, not stamped billets.** The characters are printed /
displayed digits, not indentations; only digits occur (no caster letter,
no check letters), so the ID decoder's letter positions and check
character do not apply here. What it does test is whether a detector
trained from scratch finds and reads real, photographed glyphs on real
steel texture, with real glare, blur and half-rolled digits.

:func:`compose_standin` draws, per image (seeded): a steel texture
(resized to ``size_px``, random flips), a block of 6 + 5 digit crops at the
stamp's layout (centred rows, pitch 1.25 glyph widths, row pitch 1.35
heights, glyph height ``U(char_height_frac) x size_px`` — 22-31 px at 256 px,
about the twin's stamped characters), and for every crop a
visibility class, which the stand-in *imposes* (it is not measured):

* ``well``: the crop's grey contrast pattern (zero mean, scaled to
  ``U(28, 45)`` grey levels per standard deviation) is added onto the steel;
* ``partial``: the same, but the top or bottom 30-55 % of the glyph is not
  drawn (covered by scale); the box is the drawn part;
* ``poor``: contrast ``U(12, 20)`` levels and a 1-px blur (the steel's own
  texture varies by 10-30 levels: faint, not invisible).

The shares are :data:`STANDIN_VISIBILITY` (75 / 17 / 8 % of the glyphs).

Boxes follow the schema's convention (exclusive right / bottom edges).
:func:`split_files` splits crops and textures into disjoint training and
test parts, so test images use glyphs and steel the detector never saw.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from learners.detector.dataset import BilletImage, DetectorInputError, char_label

__all__ = ["list_digit_crops", "list_textures", "split_files", "compose_standin", "STANDIN_VISIBILITY"]

#: Share of each imposed visibility class among the pasted glyphs.
STANDIN_VISIBILITY: dict[str, float] = {"well": 0.75, "partial": 0.17, "poor": 0.08}


def list_digit_crops(folder: Path | str) -> list[tuple[Path, str]]:
    """``(file, digit)`` of every ``*.jpg`` crop in ``folder`` whose name starts with a digit (``N`` skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DetectorInputError(f"{folder}: no such folder of digit crops")
    out = [(f, f.name[0]) for f in sorted(folder.glob("*.jpg")) if f.name[0].isdigit()]
    if not out:
        raise DetectorInputError(f"{folder}: no digit crops (*.jpg named after their digit)")
    return out


def list_textures(folder: Path | str) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise DetectorInputError(f"{folder}: no such folder of texture images")
    out = sorted(folder.glob("*.jpg"))
    if not out:
        raise DetectorInputError(f"{folder}: no *.jpg texture images")
    return out


def split_files(items: Sequence, test_fraction: float, seed: int) -> tuple[list, list]:
    """A seeded split of ``items`` into (train, test), disjoint."""
    g = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(len(items), generator=g).tolist()
    n_test = int(round(test_fraction * len(items)))
    test = sorted(perm[:n_test])
    train = sorted(perm[n_test:])
    return [items[i] for i in train], [items[i] for i in test]


def _load_grey(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("L")
            if size is not None:
                im = im.resize(size, Image.BILINEAR)
            return np.asarray(im, dtype=np.float64)
    except (UnidentifiedImageError, OSError) as exc:
        raise DetectorInputError(f"{path}: cannot read image ({exc})") from None


def _blur1(a: np.ndarray) -> np.ndarray:
    p = np.pad(a, 1, mode="edge")
    return (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] + 4 * p[1:-1, 1:-1]) / 8.0


def compose_standin(crops: Sequence[tuple[Path, str]], textures: Sequence[Path], n_images: int, *, seed: int,
                    size_px: int = 256, char_height_frac: tuple[float, float] = (0.085, 0.12),
                    row_counts: tuple[int, ...] = (6, 5), visibility: dict[str, float] | None = None,
                    name: str = "standin") -> list[BilletImage]:
    """``n_images`` stand-in faces (see the module docstring); deterministic for a ``seed``."""
    if not crops or not textures:
        raise DetectorInputError("compose_standin needs digit crops and textures")
    vis = dict(visibility or STANDIN_VISIBILITY)
    classes, probs = list(vis), np.asarray(list(vis.values()), dtype=np.float64)
    probs = probs / probs.sum()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x57A4D]))
    out = []
    n_chars = sum(row_counts)
    for k in range(int(n_images)):
        tex = _load_grey(textures[int(rng.integers(len(textures)))], (size_px, size_px))
        if rng.random() < 0.5:
            tex = tex[:, ::-1]
        if rng.random() < 0.5:
            tex = tex[::-1, :]
        canvas = tex.copy()
        h = float(rng.uniform(*char_height_frac)) * size_px
        w = h * 20.0 / 32.0
        pitch, row_pitch = 1.25 * w, 1.35 * h
        block_w, block_h = (max(row_counts) - 1) * pitch + w, (len(row_counts) - 1) * row_pitch + h
        if block_w + 8 > size_px or block_h + 8 > size_px:
            raise ValueError(f"compose_standin: a {block_w:.0f} x {block_h:.0f} px block does not fit {size_px} px")
        cx = rng.uniform(block_w / 2 + 4, size_px - block_w / 2 - 4)
        cy = rng.uniform(block_h / 2 + 4, size_px - block_h / 2 - 4)
        boxes, chars, vclass, positions = [], [], [], []
        pos = 0
        for r, n in enumerate(row_counts):
            y_c = cy + (r - (len(row_counts) - 1) / 2.0) * row_pitch
            for j in range(n):
                x_c = cx + (j - (n - 1) / 2.0) * pitch + rng.normal(0, 0.04 * w)
                path, digit = crops[int(rng.integers(len(crops)))]
                gw, gh = max(4, int(round(w))), max(6, int(round(h)))
                glyph = _load_grey(path, (gw, gh))
                glyph = (glyph - glyph.mean()) / max(glyph.std(), 1.0)
                v = classes[int(rng.choice(len(classes), p=probs))]
                mask = np.ones_like(glyph)
                if v == "poor":
                    glyph = _blur1(glyph) * rng.uniform(12, 20)
                else:
                    glyph = glyph * rng.uniform(28, 45)
                if v == "partial":
                    cut = int(round(rng.uniform(0.30, 0.55) * gh))
                    if rng.random() < 0.5:
                        mask[:cut] = 0.0
                    else:
                        mask[gh - cut:] = 0.0
                x0, y0 = int(round(x_c - gw / 2)), int(round(y_c - gh / 2))
                x0, y0 = min(max(x0, 0), size_px - gw), min(max(y0, 0), size_px - gh)
                canvas[y0:y0 + gh, x0:x0 + gw] += glyph * mask
                rows = np.nonzero(mask.any(axis=1))[0]
                boxes.append((x0, y0 + int(rows[0]), x0 + gw, y0 + int(rows[-1]) + 1))
                chars.append(digit)
                vclass.append(v)
                positions.append(pos)
                pos += 1
        noise = rng.normal(0, 2.0, canvas.shape)
        img = np.clip(np.round(canvas + noise), 0, 255).astype(np.uint8)[None]
        text = "".join(chars)
        assert len(text) == n_chars
        out.append(BilletImage(
            image=torch.from_numpy(np.ascontiguousarray(img)), boxes_px=torch.tensor(boxes, dtype=torch.float32),
            labels=torch.tensor([char_label(c) for c in chars], dtype=torch.int64), chars=tuple(chars),
            positions=tuple(positions), visibility=tuple(vclass), billet_id=f"{name}-{k:05d}", stamped_id=text,
            billet_index=k, site="standin", char_visibility=tuple(vclass), source=f"{name} image {k}"))
    return out
