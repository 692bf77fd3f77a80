"""Training data of the stamp cGAN: a folder of (mask, image) pairs, and its loader.

Layout (any plant can fill one with its own stamps)::

    PAIR_DIR/
      masks/NAME.png      grey 8-bit mask of the stamped character: 255 (>= 128)
                          where the die pressed the metal, 0 elsewhere
                          (anti-aliased edges allowed: value / 255 = coverage)
      images/NAME.png     the photo of that character on the same pixels
                          (grey or colour: colour is turned into luminance);
                          .jpg / .jpeg are accepted too
      pairs.json          optional provenance (what the pairs are, where
                          they came from), written by the builders

Every mask needs an image with the same NAME (file stem) and every image a
mask; a mask and its image must have the same size. Pairs need not be
square: each is padded to a square (mask with 0, image with its edge
pixels) around its centre and resized to ``size`` (default 64). A good
crop shows one character about 0.6 of the patch high with some metal
around it — the size the billet renderer hands to the cGAN (see
:mod:`generative.stamp_texture_adapter`).

:func:`load_pair_folder` reads such a folder into :class:`StampPairs` and
raises :class:`PairFolderError` (a ValueError) naming the folder or file
on any problem: missing sub-folder, no pairs, a missing partner, an
unreadable image, sizes that differ, an empty mask.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ["StampPairs", "PairFolderError", "load_pair_folder", "load_mask_folder", "write_pair_folder", "to_square",
           "MASK_DIR", "IMAGE_DIR", "IMAGE_SUFFIXES"]

MASK_DIR, IMAGE_DIR = "masks", "images"
#: File endings read as images (masks must be PNG: lossless).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class PairFolderError(ValueError):
    """A pair folder that cannot be used; the message names the folder or file and what is wrong."""


@dataclass
class StampPairs:
    """(mask, image) pairs as arrays: ``masks`` and ``images`` float32 (N, S, S) in [0, 1].

    ``labels``: optional per-pair class (e.g. the digit), ``-1`` = unknown.
    ``info``: the folder's ``pairs.json`` (provenance), if any.
    """

    names: list[str]
    masks: np.ndarray
    images: np.ndarray
    labels: np.ndarray | None = None
    info: dict = field(default_factory=dict)
    root: Path | None = None

    def __post_init__(self) -> None:
        m, im = np.asarray(self.masks, np.float32), np.asarray(self.images, np.float32)
        if m.ndim != 3 or m.shape != im.shape or m.shape[1] != m.shape[2]:
            raise ValueError(f"masks and images must both be (N, S, S), got {m.shape} and {im.shape}")
        if len(self.names) != len(m):
            raise ValueError(f"{len(self.names)} names for {len(m)} pairs")
        self.masks, self.images = m, im
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def size(self) -> int:
        return int(self.masks.shape[1])

    def subset(self, index) -> "StampPairs":
        idx = np.asarray(index)
        return StampPairs([self.names[i] for i in idx], self.masks[idx], self.images[idx],
                          None if self.labels is None else self.labels[idx], dict(self.info), self.root)


def to_square(a: np.ndarray, fill: str) -> np.ndarray:
    """Pad a 2-D array to a square around its centre: ``fill="zero"`` or ``"edge"``."""
    h, w = a.shape
    side = max(h, w)
    py, px = side - h, side - w
    pad = ((py // 2, py - py // 2), (px // 2, px - px // 2))
    return np.pad(a, pad, mode="constant") if fill == "zero" else np.pad(a, pad, mode="edge")


def _resize(a: np.ndarray, size: int) -> np.ndarray:
    if a.shape == (size, size):
        return a.astype(np.float32)
    img = Image.fromarray(a.astype(np.float32), "F").resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.float32)


def _read_grey(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im.load()
            grey = im.convert("L")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise PairFolderError(f"{path}: unreadable image ({exc})") from None
    return np.asarray(grey, dtype=np.float32) / np.float32(255.0)


def _listing(folder: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith("."):
            if p.stem in out:
                raise PairFolderError(f"{p}: two files named {p.stem!r} ({out[p.stem].name} and {p.name})")
            out[p.stem] = p
    return out


def load_pair_folder(path: Path | str, size: int = 64) -> StampPairs:
    """Read a pair folder (layout in the module docstring) into :class:`StampPairs` of ``size`` pixels."""
    root = Path(path)
    if not root.is_dir():
        raise PairFolderError(f"{root}: no such pair folder (expected {MASK_DIR}/ and {IMAGE_DIR}/ inside)")
    for sub in (MASK_DIR, IMAGE_DIR):
        if not (root / sub).is_dir():
            raise PairFolderError(f"{root}: no {sub}/ folder (a pair folder holds {MASK_DIR}/NAME.png and "
                                  f"{IMAGE_DIR}/NAME.png with the same names)")
    if int(size) < 8:
        raise ValueError(f"size must be >= 8, got {size}")
    masks = _listing(root / MASK_DIR, (".png",))
    images = _listing(root / IMAGE_DIR, IMAGE_SUFFIXES)
    for name in sorted(set(masks) - set(images)):
        raise PairFolderError(f"{masks[name]}: no partner image {IMAGE_DIR}/{name}.png in {root}")
    for name in sorted(set(images) - set(masks)):
        raise PairFolderError(f"{images[name]}: no partner mask {MASK_DIR}/{name}.png in {root}")
    if not masks:
        raise PairFolderError(f"{root}: no pairs ({MASK_DIR}/ and {IMAGE_DIR}/ are empty)")
    info = {}
    if (root / "pairs.json").is_file():
        try:
            info = json.loads((root / "pairs.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PairFolderError(f"{root / 'pairs.json'}: unreadable ({exc})") from None
    names = sorted(masks)
    m_out = np.empty((len(names), size, size), np.float32)
    i_out = np.empty_like(m_out)
    for k, name in enumerate(names):
        m, im = _read_grey(masks[name]), _read_grey(images[name])
        if m.shape != im.shape:
            raise PairFolderError(f"{images[name]}: image is {im.shape[1]}x{im.shape[0]} px, its mask "
                                  f"{masks[name].name} {m.shape[1]}x{m.shape[0]} px; they must match")
        if not (m >= 0.5).any():
            raise PairFolderError(f"{masks[name]}: empty mask (no pixel >= 128)")
        m_out[k] = np.clip(_resize(to_square(m, "zero"), size), 0.0, 1.0)
        i_out[k] = np.clip(_resize(to_square(im, "edge"), size), 0.0, 1.0)
    labels = info.get("labels")
    lab = np.array([int(labels.get(n, -1)) for n in names]) if isinstance(labels, dict) else None
    return StampPairs(names, m_out, i_out, lab, info, root)


def load_mask_folder(path: Path | str, size: int = 64) -> tuple[list[str], np.ndarray]:
    """(names, masks float32 (N, size, size)) of every ``*.png`` mask in a folder (padded square, resized).

    Used to sample the cGAN on masks of one's own; errors as :func:`load_pair_folder`.
    """
    root = Path(path)
    if not root.is_dir():
        raise PairFolderError(f"{root}: no such mask folder")
    files = _listing(root, (".png",))
    if not files:
        raise PairFolderError(f"{root}: no *.png masks")
    out = np.empty((len(files), int(size), int(size)), np.float32)
    for k, name in enumerate(sorted(files)):
        m = _read_grey(files[name])
        if not (m >= 0.5).any():
            raise PairFolderError(f"{files[name]}: empty mask (no pixel >= 128)")
        out[k] = np.clip(_resize(to_square(m, "zero"), int(size)), 0.0, 1.0)
    return sorted(files), out


def write_pair_folder(path: Path | str, pairs: StampPairs, info: dict | None = None) -> Path:
    """Write ``pairs`` as a pair folder (PNG masks and images, ``pairs.json``); returns the folder.

    The folder must not exist or be empty (nothing is overwritten).
    """
    root = Path(path)
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root}: pair folder exists and is not empty")
    (root / MASK_DIR).mkdir(parents=True, exist_ok=True)
    (root / IMAGE_DIR).mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(pairs.names):
        for sub, arr in ((MASK_DIR, pairs.masks[k]), (IMAGE_DIR, pairs.images[k])):
            Image.fromarray(np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8), "L").save(
                root / sub / f"{name}.png", compress_level=6)
    meta = dict(info or pairs.info)
    if pairs.labels is not None:
        meta["labels"] = {n: int(v) for n, v in zip(pairs.names, pairs.labels)}
    (root / "pairs.json").write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
    return root
