"""Labelled image sets from folders: a plant's own layout, magnetic tile, NEU-DET.

An :class:`ImageSet` holds grey images resized to one square size (uint8,
``(N, size, size)``), integer labels, the class names and the source paths.
Two layouts are read:

* ``"subfolders"``: one subfolder per class, images anywhere below it
  (``DATA/crack/a.jpg``, ``DATA/free/b.png``) — what a plant exports;
* ``"prefix"``: one flat folder, the class is the file name up to its last
  ``_`` (NEU-DET: ``crazing_12.jpg``).

:func:`load_magnetic_tile` reads ``magnetic_tile/MT_*/Imgs/*.jpg`` (the
``.png`` files beside them are pixel masks, not images) with the classes
named without ``MT_``; :func:`load_neu` reads ``neu_det/IMAGES``. An image
that cannot be decoded is an error naming the file; so is an empty class.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ["ImageSet", "load_image_folder", "load_magnetic_tile", "load_neu", "split_stratified"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


@dataclass
class ImageSet:
    images: np.ndarray          # (N, size, size) uint8
    labels: np.ndarray          # (N,) int64 indices into classes
    classes: tuple[str, ...]
    paths: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx: np.ndarray) -> "ImageSet":
        idx = np.asarray(idx)
        return ImageSet(self.images[idx], self.labels[idx], self.classes, tuple(self.paths[i] for i in idx))

    def counts(self) -> dict[str, int]:
        return {c: int(np.count_nonzero(self.labels == k)) for k, c in enumerate(self.classes)}


def _read_grey(path: Path, size_px: int) -> np.ndarray:
    try:
        with Image.open(path) as im:
            grey = im.convert("L")
            return np.asarray(grey.resize((size_px, size_px), Image.Resampling.BILINEAR), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path}: cannot read the image ({exc})") from None


def _build(items: list[tuple[Path, str]], size_px: int, root: Path) -> ImageSet:
    if not items:
        raise ValueError(f"{root}: no images found")
    classes = tuple(sorted({c for _, c in items}))
    index = {c: k for k, c in enumerate(classes)}
    items = sorted(items, key=lambda t: (t[1], str(t[0])))
    images = np.stack([_read_grey(p, size_px) for p, _ in items])
    labels = np.array([index[c] for _, c in items], dtype=np.int64)
    return ImageSet(images, labels, classes, tuple(str(p) for p, _ in items))


def load_image_folder(root: Path | str, *, size_px: int = 128, layout: str = "subfolders",
                      pattern: str = "*") -> ImageSet:
    """Read a labelled image folder (layouts in the module docstring)."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    if size_px < 16:
        raise ValueError(f"size_px must be >= 16, got {size_px}")
    items: list[tuple[Path, str]] = []
    if layout == "subfolders":
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            found = [p for p in sorted(sub.rglob(pattern)) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
            if not found:
                raise ValueError(f"{sub}: class folder without images matching {pattern!r}")
            items += [(p, sub.name) for p in found]
    elif layout == "prefix":
        for p in sorted(root.glob(pattern)):
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
                if "_" not in p.stem:
                    raise ValueError(f"{p}: file name has no CLASS_ prefix (layout 'prefix')")
                items.append((p, p.stem.rsplit("_", 1)[0]))
    else:
        raise ValueError(f"layout must be 'subfolders' or 'prefix', got {layout!r}")
    return _build(items, size_px, root)


def load_magnetic_tile(realdata: Path | str, *, size_px: int = 128) -> ImageSet:
    """The magnetic-tile set: classes Blowhole, Break, Crack, Fray, Free, Uneven (images only, not masks)."""
    root = Path(realdata) / "magnetic_tile"
    items = [(p, p.parent.parent.name.removeprefix("MT_")) for p in sorted(root.glob("MT_*/Imgs/*.jpg"))]
    return _build(items, size_px, root)


def load_neu(realdata: Path | str, *, size_px: int = 128) -> ImageSet:
    """NEU-DET: 6 classes of hot-rolled steel surface defects, 300 images each."""
    return load_image_folder(Path(realdata) / "neu_det" / "IMAGES", size_px=size_px, layout="prefix",
                             pattern="*.jpg")


def split_stratified(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with every class split in the same proportion (at least one test image each)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        rng.shuffle(idx)
        n_test = max(1, int(round(test_fraction * len(idx)))) if len(idx) > 1 else 0
        test += list(idx[:n_test])
        train += list(idx[n_test:])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(test, dtype=np.int64))
