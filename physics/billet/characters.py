"""The stamped alphabet and the stroke length of each character punch.

A billet ID is 11 characters from ``ALPHABET`` (0-9, A-Z). Each character
punch carries the glyph as a raised ridge; what matters for the force
balance of :mod:`physics.billet.indentation` is the total length L of ridge
that enters the steel — "1" has a short ridge, "8" or "W" a long one, so at
the same force "1" is stamped deeper.

``STROKE_LENGTH_PER_HEIGHT`` gives L / H for a glyph of height H. The
values are [D, engineering estimate]: the length of a single-stroke
sans-serif glyph (the construction of Hershey "simplex"-type fonts) drawn
0.6·H wide (W and M 0.8·H), summed from straight segments and circular or
elliptical arcs. Examples: "0" an ellipse of semi-axes 0.3·H × 0.5·H
(Ramanujan perimeter 2.55·H); "8" two circles of radius 0.22·H and 0.27·H
(3.08·H); "1" a 1.0·H stem with a 0.25·H flag; "I" a bare stem (1.0·H).
Real stamping fonts differ (serifs, stroke ends), by perhaps ±15 %; only the
ratios between characters and the order of magnitude (L ≈ 1-4·H) matter here.
Replace the table if the punch drawings are available.
"""
from __future__ import annotations

import numpy as np

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Total ridge length of each glyph in units of its height [D, see module docstring].
STROKE_LENGTH_PER_HEIGHT: dict[str, float] = {
    "0": 2.55, "1": 1.25, "2": 2.15, "3": 2.30, "4": 2.43, "5": 2.37, "6": 2.46, "7": 1.77,
    "8": 3.08, "9": 2.46,
    "A": 2.44, "B": 3.62, "C": 1.90, "D": 2.82, "E": 2.70, "F": 2.10, "G": 2.35, "H": 2.60,
    "I": 1.00, "J": 1.55, "K": 2.56, "L": 1.60, "M": 3.34, "N": 3.17, "O": 2.55, "P": 2.50,
    "Q": 2.85, "R": 3.08, "S": 2.35, "T": 1.60, "U": 2.34, "V": 2.09, "W": 4.08, "X": 2.33,
    "Y": 1.67, "Z": 2.37,
}

#: Mean L/H over the alphabet (≈ 2.40): the "typical character" of force sizing.
MEAN_STROKE_LENGTH_PER_HEIGHT = float(np.mean([STROKE_LENGTH_PER_HEIGHT[c] for c in ALPHABET]))

# Lookup by code point: index into ALPHABET, −1 for anything else.
_CODE_TO_INDEX = np.full(128, -1, dtype=np.int64)
for _i, _c in enumerate(ALPHABET):
    _CODE_TO_INDEX[ord(_c)] = _i
_LENGTH_BY_INDEX = np.array([STROKE_LENGTH_PER_HEIGHT[c] for c in ALPHABET])


def stroke_length_mm(char: str, char_height_mm: float) -> float:
    """Total ridge length in mm of the punch for ``char`` at glyph height ``char_height_mm``."""
    if not isinstance(char, str) or len(char) != 1 or char not in STROKE_LENGTH_PER_HEIGHT:
        raise ValueError(f"unknown character {char!r}; stamped characters are {ALPHABET}")
    if not char_height_mm > 0:
        raise ValueError(f"char_height_mm must be > 0, got {char_height_mm!r}")
    return STROKE_LENGTH_PER_HEIGHT[char] * float(char_height_mm)


def char_indices(chars) -> np.ndarray:
    """Indices into ``ALPHABET`` of a batch of IDs, shape (B, N), int64.

    ``chars`` is a list of equal-length strings (one ID per billet), or a
    (B, N) array or nested list of single characters. Unknown characters
    (lower case, punctuation, …) and ragged IDs raise a ValueError naming
    the first offender.
    """
    if isinstance(chars, np.ndarray) and chars.ndim == 2 and chars.dtype.kind != "U":
        raise ValueError(f"chars array must hold str, got dtype {chars.dtype}")
    if isinstance(chars, np.ndarray) and chars.ndim == 2 and chars.dtype.itemsize == 4 and chars.size:
        # Fast path for a (B, N) '<U1' array: its buffer is the code points.
        codes = np.ascontiguousarray(chars).view(np.uint32).astype(np.int64).reshape(chars.shape)
        idx = np.where(codes < 128, _CODE_TO_INDEX[np.minimum(codes, 127)], -1)
        if np.any(idx < 0):
            b, j = (int(v) for v in np.argwhere(idx < 0)[0])
            raise ValueError(f"unknown character {str(chars[b, j])!r} in ID {''.join(chars[b])!r} (billet {b}); "
                             f"stamped characters are {ALPHABET}")
        return idx
    if not isinstance(chars, (list, tuple, np.ndarray)):
        raise ValueError("chars must be a list of ID strings or a (B, N) array/list of single characters")
    ids = []
    for k, item in enumerate(chars):
        if isinstance(item, str):
            ids.append(item)
            continue
        if isinstance(item, (list, tuple, np.ndarray)) and all(isinstance(c, str) and len(c) == 1 for c in item):
            ids.append("".join(item))
            continue
        raise ValueError(f"chars[{k}] must be an ID string or a sequence of single characters, got {item!r}")
    if not ids:
        raise ValueError("chars is empty: stamp at least one billet")
    n = len(ids[0])
    if n == 0:
        raise ValueError("IDs must have at least one character")
    for k, s in enumerate(ids):
        if len(s) != n:
            raise ValueError(f"all IDs must have the same length: chars[0] has {n}, chars[{k}]={s!r} has {len(s)}")
    joined = "".join(ids)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    idx = np.where(codes < 128, _CODE_TO_INDEX[np.minimum(codes, 127)], -1)
    if np.any(idx < 0):
        pos = int(np.flatnonzero(idx < 0)[0])
        raise ValueError(f"unknown character {joined[pos]!r} in ID {ids[pos // n]!r} (billet {pos // n}); "
                         f"stamped characters are {ALPHABET}")
    return idx.reshape(len(ids), n)


def stroke_lengths_mm(indices: np.ndarray, char_height_mm: float) -> np.ndarray:
    """Vectorised :func:`stroke_length_mm` for an index array from :func:`char_indices`."""
    return _LENGTH_BY_INDEX[indices] * float(char_height_mm)
