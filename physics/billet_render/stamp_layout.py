"""Where the characters of a stamped ID sit on the billet face.

A stamping head holds its dies in a fixed frame, so the characters of one
ID keep their relative positions; what varies from billet to billet is
where the head hit the face (``block offset``, drawn by the renderer) and
a fraction of a millimetre of play per die.

Layouts (``RenderParams.layout``):

* ``"two_rows"``: ceil(n/2) characters on the upper row and the rest on
  the lower one, each row centred: an 11-character ID is 6 + 5, 12 is
  6 + 6. This is the usual layout for 11-12 character IDs on a
  150 mm face (one row of 11 characters at 18 mm would not fit).
* ``"one_row"``: all characters in one row (short IDs or small characters).

Positions are cell centres in mm relative to the block centre (x right,
y down). The pitch is in character heights (em): ``char_pitch_em``
between neighbours in a row, ``row_pitch_em`` between rows.
"""
from __future__ import annotations

import numpy as np

LAYOUTS = ("two_rows", "one_row")


def row_counts(n: int, layout: str) -> list[int]:
    """Characters per row, top row first."""
    if layout == "two_rows":
        top = (n + 1) // 2
        return [top, n - top] if n - top > 0 else [top]
    if layout == "one_row":
        return [n]
    raise ValueError(f"unknown layout {layout!r}; known layouts: {', '.join(LAYOUTS)}")


def cell_centres_mm(n: int, layout: str, char_height_mm: float, char_pitch_em: float,
                    row_pitch_em: float) -> np.ndarray:
    """(n, 2) float64 cell centres (x, y) in mm around the block centre, in reading order."""
    counts = row_counts(n, layout)
    pitch, row = char_pitch_em * char_height_mm, row_pitch_em * char_height_mm
    out = []
    for r, k in enumerate(counts):
        y = (r - (len(counts) - 1) / 2.0) * row
        for j in range(k):
            out.append(((j - (k - 1) / 2.0) * pitch, y))
    return np.asarray(out, dtype=np.float64).reshape(n, 2)


def block_extent_mm(n: int, layout: str, char_height_mm: float, char_pitch_em: float, row_pitch_em: float,
                    glyph_width_em: float) -> tuple[float, float]:
    """Width and height in mm of the area the characters of an n-character ID cover."""
    counts = row_counts(n, layout)
    width = ((max(counts) - 1) * char_pitch_em + glyph_width_em) * char_height_mm
    height = ((len(counts) - 1) * row_pitch_em + 1.0) * char_height_mm
    return width, height
