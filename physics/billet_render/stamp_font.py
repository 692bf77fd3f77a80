"""A stamp-die font for billet IDs: 0-9 and A-Z as polygons, and their rasteriser.

Hot-stamping heads carry one steel die per character. The die face is a
raised *stroke* of constant width (a V- or round-bottomed ridge) that follows
the character's centre line, so the indentation it leaves is a stroke too:
counters (the inside of 0, 8, B, O ...) stay unstamped, free stroke ends are
rounded by die wear, and sharp corners are where two strokes meet. This is
the "pre-defined pairs of numbers that describe the area of the stamping for
each distinct digit and letter ... including additional open parts that
several numbers show, e.g. the two cutout parts of an eight" of the billet
stamp study (shared/studies/billet_stamp_cgan.txt, §2.2.4).

Construction
------------
Each glyph is described by centre lines on a 6 x 10 design grid (x right,
y down, stroke width :data:`STROKE_WIDTH_EM` = 1.4 grid units). Every smooth
run of a centre line becomes ONE polygon: the line offset by half the stroke
width on both sides, closed by round caps. Centre lines are split at sharp
corners (the round caps of the two pieces overlap into a round joint) and
closed loops are split into two halves (so each polygon stays simple and the
counter is the hole between them). The union of a glyph's polygons is the
stamped area.

Coordinates returned by :func:`glyph_polygons` are in the **em box**: the
glyph occupies x in [0, :data:`GLYPH_WIDTH_EM`], y in [0, 1] (1 em = the
character height; y points down, as in images).

Shapes distinguish the usual look-alikes the way stamp fonts do: ``0`` is a
narrow stadium, ``O`` a full-width ellipse; ``1`` has a flag and a foot,
``I`` two serifs; ``5``/``S``, ``2``/``Z``, ``8``/``B`` differ in their
corners.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

#: Height of the design grid (grid units per em).
_GRID_H = 10.0
#: Glyph width in em (the design grid is 6 units wide).
GLYPH_WIDTH_EM = 0.6
#: Stroke width of the dies in em (1.4 grid units), roughly the 2-2.5 mm
#: strokes of an 18 mm billet stamp.
STROKE_WIDTH_EM = 0.14
#: Characters the font knows: stamped billet IDs use digits and capitals.
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_R = STROKE_WIDTH_EM * _GRID_H / 2.0  # half stroke, grid units
_L, _RX, _T, _B = 0.7, 5.3, 0.7, 9.3  # centre-line extents: the stroke edge touches the em box
_CX, _MY = 3.0, 5.0
#: Turn (degrees) above which a centre line is split into two strokes.
_SHARP_DEG = 35.0
#: Points per full turn when sampling arcs and caps.
_ARC_STEPS = 72


def _arc(cx: float, cy: float, rx: float, ry: float, a0_deg: float, a1_deg: float) -> list[tuple[float, float]]:
    """Points of an elliptic arc from angle a0 to a1 (degrees, 0 = +x, 90 = +y i.e. down)."""
    n = max(2, int(np.ceil(abs(a1_deg - a0_deg) / 360.0 * _ARC_STEPS)) + 1)
    a = np.radians(np.linspace(a0_deg, a1_deg, n))
    return list(zip(cx + rx * np.cos(a), cy + ry * np.sin(a)))


def _loop(cx: float, cy: float, rx: float, ry: float) -> list[tuple[float, float]]:
    """A closed ellipse as a centre line (first point repeated at the end)."""
    return _arc(cx, cy, rx, ry, -90.0, 270.0)


def _join(*parts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Concatenate centre-line pieces, dropping repeated joint points."""
    out: list[tuple[float, float]] = []
    for part in parts:
        for p in part:
            if not out or np.hypot(p[0] - out[-1][0], p[1] - out[-1][1]) > 1e-6:
                out.append((float(p[0]), float(p[1])))
    return out


def _centre_lines() -> dict[str, list[list[tuple[float, float]]]]:
    """Centre lines of every glyph on the 6 x 10 grid (a list of polylines per character)."""
    L, R, T, B, CX, MY = _L, _RX, _T, _B, _CX, _MY
    P = {
        "0": [_join([(1.2, 2.9), (1.2, 7.1)], _arc(CX, 7.1, 1.8, 2.2, 180, 0),
                    [(4.8, 7.1), (4.8, 2.9)], _arc(CX, 2.9, 1.8, 2.2, 0, -180))],
        "1": [[(1.5, 2.6), (3.4, T), (3.4, B)], [(1.5, B), (5.1, B)]],
        "2": [_join(_arc(CX, 3.0, 2.3, 2.3, 195, 380), [(L, B), (R, B)])],
        "3": [_arc(CX, 2.8, 2.2, 2.1, 200, 450), _arc(CX, 7.1, 2.3, 2.2, 270, 520)],
        "4": [[(4.0, B), (4.0, T), (L, 6.8), (R, 6.8)]],
        "5": [_join([(5.1, T), (1.1, T), (0.9, 4.6)], _arc(2.9, 6.6, 2.4, 2.7, 225, 500))],
        "6": [_join(_arc(CX, 3.0, 2.3, 2.3, 325, 180), [(L, 6.9)]), _loop(CX, 6.9, 2.3, 2.4)],
        "7": [[(L, T), (R, T), (2.2, B)]],
        "8": [_loop(CX, 2.85, 2.0, 2.15), _loop(CX, 7.15, 2.3, 2.15)],
        "9": [_loop(CX, 3.1, 2.3, 2.4), _join([(R, 3.1)], _arc(CX, 7.0, 2.3, 2.3, 0, 145))],
        "A": [[(L, B), (CX, T), (R, B)], [(1.55, 6.2), (4.45, 6.2)]],
        "B": [[(L, T), (L, B)],
              _join([(L, T), (3.3, T)], _arc(3.3, 2.85, 1.7, 2.15, 270, 450), [(L, MY)]),
              _join([(L, MY), (3.4, MY)], _arc(3.4, 7.15, 1.9, 2.15, 270, 450), [(L, B)])],
        "C": [_arc(CX, MY, 2.3, 4.3, 320, 40)],
        "D": [[(L, T), (L, B)],
              _join([(L, T), (2.3, T)], _arc(2.3, 3.7, 3.0, 3.0, 270, 360), [(R, 6.3)],
                    _arc(2.3, 6.3, 3.0, 3.0, 0, 90), [(L, B)])],
        "E": [[(R, T), (L, T), (L, B), (R, B)], [(L, MY), (4.3, MY)]],
        "F": [[(R, T), (L, T), (L, B)], [(L, MY), (4.3, MY)]],
        "G": [_join(_arc(CX, MY, 2.3, 4.3, 320, 0), [(3.2, MY)])],
        "H": [[(L, T), (L, B)], [(R, T), (R, B)], [(L, MY), (R, MY)]],
        "I": [[(CX, T), (CX, B)], [(1.3, T), (4.7, T)], [(1.3, B), (4.7, B)]],
        "J": [[(2.4, T), (5.0, T)], _join([(5.0, T), (5.0, 6.8)], _arc(2.85, 6.8, 2.15, 2.5, 0, 165))],
        "K": [[(L, T), (L, B)], [(R, T), (L, 6.0)], [(2.3, 4.5), (R, B)]],
        "L": [[(L, T), (L, B), (R, B)]],
        "M": [[(L, B), (L, T), (CX, 6.0), (R, T), (R, B)]],
        "N": [[(L, B), (L, T), (R, B), (R, T)]],
        "O": [_loop(CX, MY, 2.3, 4.3)],
        "P": [_join([(L, B), (L, T), (3.2, T)], _arc(3.2, 3.0, 2.1, 2.3, 270, 450), [(L, 5.3)])],
        "Q": [_loop(CX, MY, 2.3, 4.3), [(3.3, 6.8), (R, B)]],
        "R": [_join([(L, B), (L, T), (3.2, T)], _arc(3.2, 3.0, 2.1, 2.3, 270, 450), [(L, 5.3)]),
              [(2.8, 5.3), (R, B)]],
        "S": [_arc(CX, 2.85, 2.2, 2.15, 340, 90), _arc(CX, 7.15, 2.3, 2.15, 270, 520)],
        "T": [[(L, T), (R, T)], [(CX, T), (CX, B)]],
        "U": [_join([(L, T), (L, 6.8)], _arc(CX, 6.8, 2.3, 2.5, 180, 0), [(R, T)])],
        "V": [[(L, T), (CX, B), (R, T)]],
        "W": [[(L, T), (1.7, B), (CX, 3.5), (4.3, B), (R, T)]],
        "X": [[(L, T), (R, B)], [(R, T), (L, B)]],
        "Y": [[(L, T), (CX, MY), (R, T)], [(CX, MY), (CX, B)]],
        "Z": [[(L, T), (R, T), (L, B), (R, B)]],
    }
    return P


def _split(line: list[tuple[float, float]]) -> list[np.ndarray]:
    """Split a centre line into smooth runs: at sharp corners, and closed loops into two halves."""
    p = np.asarray(line, dtype=np.float64)
    closed = len(p) > 3 and np.hypot(*(p[0] - p[-1])) < 1e-6
    d = np.diff(p, axis=0)
    heading = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    turn = np.abs((np.diff(heading) + 180.0) % 360.0 - 180.0)
    cuts = [0] + [i + 1 for i in np.flatnonzero(turn > _SHARP_DEG)] + [len(p) - 1]
    runs = [p[a:b + 1] for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
    if closed and len(runs) == 1:
        h = len(p) // 2
        runs = [p[:h + 1], p[h:]]
    return runs


def _stroke_polygon(run: np.ndarray, r: float) -> np.ndarray:
    """Outline of a smooth centre-line run thickened to half-width ``r``, with round caps."""
    d = np.diff(run, axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    seg_n = np.stack([-d[:, 1], d[:, 0]], axis=1)             # left normals of the segments
    n = np.empty_like(run)
    n[0], n[-1] = seg_n[0], seg_n[-1]
    if len(run) > 2:
        m = seg_n[:-1] + seg_n[1:]
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        cos_half = np.clip(np.sum(m * seg_n[1:], axis=1), 0.5, 1.0)   # miter, limited
        n[1:-1] = m / cos_half[:, None]
    left, right = run + r * n, run - r * n
    steps = _ARC_STEPS // 2

    def cap(centre: np.ndarray, start_normal: np.ndarray) -> np.ndarray:
        a0 = np.arctan2(start_normal[1], start_normal[0])
        a = a0 - np.linspace(0.0, np.pi, steps + 1)[1:-1]   # clockwise on screen: round the tip
        return centre + r * np.stack([np.cos(a), np.sin(a)], axis=1)

    # left side forward, cap at the end (from left normal round to right), right side back, start cap.
    end_cap = cap(run[-1], n[-1] / np.linalg.norm(n[-1]))
    start_cap = cap(run[0], -n[0] / np.linalg.norm(n[0]))
    return np.concatenate([left, end_cap, right[::-1], start_cap])


@lru_cache(maxsize=None)
def _polygons_cached(char: str) -> tuple[np.ndarray, ...]:
    lines = _centre_lines()[char]
    polys = []
    for line in lines:
        for run in _split(line):
            poly = _stroke_polygon(run, _R) / _GRID_H   # grid units -> em
            # miters and sampled caps may overshoot the box by ~1e-4 em: keep the contract exact
            np.clip(poly, [0.0, 0.0], [GLYPH_WIDTH_EM, 1.0], out=poly)
            poly.setflags(write=False)
            polys.append(poly)
    return tuple(polys)


def check_char(char: str) -> str:
    """Return ``char`` if the stamp font has it, else raise a ValueError that says what is allowed."""
    if not isinstance(char, str) or len(char) != 1 or char not in ALPHABET:
        hint = " (stamped IDs use capitals: try upper case)" if isinstance(char, str) and char.upper() in ALPHABET \
            and len(char) == 1 else ""
        raise ValueError(f"stamp font has no glyph for {char!r}{hint}; allowed characters: 0-9 and A-Z")
    return char


def glyph_polygons(char: str) -> list[np.ndarray]:
    """Polygons of one stamp die, each a ``(k, 2)`` float array of (x, y) vertices in the em box.

    The glyph is the union of the polygons (fill each one): x in
    [0, GLYPH_WIDTH_EM], y in [0, 1], y down. Counters are the uncovered
    holes between polygons. Raises ValueError for characters outside 0-9, A-Z.
    """
    return [p.copy() for p in _polygons_cached(check_char(char))]


def glyph_width_px(height_px: int) -> int:
    """Width in pixels of a glyph mask rasterised at ``height_px``."""
    return max(1, int(round(height_px * GLYPH_WIDTH_EM)))


def rasterize_glyph(char: str, height_px: int, supersample: int = 4) -> np.ndarray:
    """Coverage mask of a glyph: float32 ``(height_px, round(0.6 * height_px))`` in [0, 1].

    The polygons are filled with Pillow at ``supersample`` times the
    resolution and box-averaged down, so edge pixels hold their covered
    fraction (anti-aliasing); ``mask >= 0.5`` is the binary footprint.
    """
    check_char(char)
    if int(height_px) != height_px or height_px < 4:
        raise ValueError(f"height_px must be an integer >= 4, got {height_px!r}")
    if int(supersample) != supersample or supersample < 1:
        raise ValueError(f"supersample must be a positive integer, got {supersample!r}")
    h, w, s = int(height_px), glyph_width_px(int(height_px)), int(supersample)
    img = Image.new("L", (w * s, h * s), 0)
    draw = ImageDraw.Draw(img)
    # em -> supersampled pixels; the width scale keeps the 0.6 em box on exactly w pixels.
    scale = np.array([w * s / GLYPH_WIDTH_EM, h * s], dtype=np.float64)
    for poly in _polygons_cached(char):
        pts = poly * scale
        draw.polygon([tuple(p) for p in pts], fill=255)
    big = np.asarray(img, dtype=np.float32) / 255.0
    return big.reshape(h, s, w, s).mean(axis=(1, 3)).astype(np.float32)
