"""Defect images with pixel masks: the data the defect synthesizer learns from.

A :class:`DefectData` holds grey images resized to one square size, their
boolean pixel masks, a label per image and the class names. Label 0 is the
normal (defect-free) class; labels 1..K are the K defect classes, so
``classes[0]`` is the normal class and ``classes[1:]`` the defect classes.
The masks of normal images are all False.

Folder layouts read by :func:`load_defect_folder` (the class folders are
the direct subfolders of ``DATA``; their names are the class names, an
``MT_`` prefix is dropped):

**Plant layout** — images and masks in separate folders::

    DATA/
      normal/            defect-free images (any of .png .jpg .jpeg .bmp .tif .tiff), any depth
      scratch/images/    defect images of class "scratch"
      scratch/masks/     one mask per image: same file stem, .png (or any image suffix)
      dent/images/ ...
      dent/masks/ ...

**Side-by-side layout** (the magnetic-tile set,
``$TWINLOOP_REALDATA/magnetic_tile``) — the mask is a ``.png`` with the
image's stem beside a ``.jpg`` image (``MT_Crack/Imgs/exp1_num_4.jpg`` and
``.../exp1_num_4.png``), or ``NAME_mask.png`` beside ``NAME.<ext>``::

    DATA/
      MT_Free/Imgs/*.jpg (+ black .png masks, ignored)
      MT_Crack/Imgs/*.jpg + *.png
      ...

The normal class is the folder named ``normal_class`` (default: the first
of ``Free``, ``normal``, ``good``, ``ok``, ``defect_free``, case-insensitive).
A mask pixel is a defect where the grey value is above 127 (the masks may
be anti-aliased); masks are resized with an area filter and kept where at
least ``mask_cover`` of the pixel was defect, so a thin crack survives the
downsizing (a mask that would vanish keeps its most covered pixels).
Colour images are read as grey. A defect image without a mask, an
unreadable file or a class without images is an error naming it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ["DefectData", "load_defect_folder", "load_magnetic_tile_masks", "split_defect_data", "read_image",
           "read_mask", "list_images", "IMAGE_SUFFIXES", "NORMAL_NAMES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
NORMAL_NAMES = ("free", "normal", "good", "ok", "defect_free")


@dataclass
class DefectData:
    """Images (N, S, S) uint8, masks (N, S, S) bool, labels (N,) int64 (0 = normal), class names, paths."""

    images: np.ndarray
    masks: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.images = np.asarray(self.images, dtype=np.uint8)
        self.masks = np.asarray(self.masks, dtype=bool)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        n = len(self.labels)
        if self.images.ndim != 3 or self.images.shape[1] != self.images.shape[2]:
            raise ValueError(f"images must be (N, S, S) square grey images, got shape {self.images.shape}")
        if self.masks.shape != self.images.shape or len(self.images) != n:
            raise ValueError(f"images {self.images.shape}, masks {self.masks.shape} and labels ({n},) do not match")
        if len(self.classes) < 2:
            raise ValueError(f"need the normal class and at least one defect class, got {self.classes}")
        if n and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            raise ValueError(f"labels must be in 0..{len(self.classes) - 1}")
        if n and self.masks[self.labels == 0].any():
            raise ValueError("normal images (label 0) must have empty masks")
        if not self.paths:
            self.paths = tuple(f"#{i}" for i in range(n))

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def size_px(self) -> int:
        return int(self.images.shape[1])

    @property
    def defect_classes(self) -> tuple[str, ...]:
        return tuple(self.classes[1:])

    def subset(self, idx) -> "DefectData":
        idx = np.asarray(idx, dtype=np.int64)
        return DefectData(self.images[idx], self.masks[idx], self.labels[idx], self.classes,
                          tuple(self.paths[i] for i in idx))

    def normal(self) -> "DefectData":
        return self.subset(np.flatnonzero(self.labels == 0))

    def defects(self) -> "DefectData":
        return self.subset(np.flatnonzero(self.labels > 0))

    def counts(self) -> dict[str, int]:
        return {c: int(np.count_nonzero(self.labels == k)) for k, c in enumerate(self.classes)}


def _open_grey(path: Path) -> Image.Image:
    try:
        with Image.open(path) as im:
            return im.convert("L")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path}: cannot read the image ({exc})") from None


def _resize_image(im: Image.Image, size_px: int) -> np.ndarray:
    return np.asarray(im.resize((size_px, size_px), Image.Resampling.BILINEAR), dtype=np.uint8)


def _resize_mask(im: Image.Image, size_px: int, cover: float) -> np.ndarray:
    """Area-resize a 0/1 mask; keep pixels covered at least ``cover``; never lose a whole defect."""
    binary = (np.asarray(im, dtype=np.uint8) > 127).astype(np.float32)
    if not binary.any():
        return np.zeros((size_px, size_px), dtype=bool)
    frac = np.asarray(Image.fromarray(binary, mode="F").resize((size_px, size_px), Image.Resampling.BOX))
    out = frac >= cover
    if not out.any():
        out = frac >= 0.5 * frac.max()
    return out


def read_image(path: Path | str, size_px: int) -> np.ndarray:
    """One image file as grey uint8 (size_px, size_px) (bilinear resize of the whole image)."""
    return _resize_image(_open_grey(Path(path)), size_px)


def read_mask(path: Path | str, size_px: int, cover: float = 0.25) -> np.ndarray:
    """One mask file (grey > 127 = defect) as bool (size_px, size_px), resized as the loader does."""
    return _resize_mask(_open_grey(Path(path)), size_px, cover)


def _mask_path(image: Path) -> Path | None:
    """Where a defect image's mask is, by the layouts of the module docstring (None: not found)."""
    if image.parent.name.lower() == "images":
        folder = image.parent.parent / "masks"
        for suf in IMAGE_SUFFIXES:
            cand = folder / f"{image.stem}{suf}"
            if cand.is_file():
                return cand
        return None
    cand = image.with_name(f"{image.stem}_mask.png")
    if cand.is_file():
        return cand
    if image.suffix.lower() != ".png":
        cand = image.with_suffix(".png")
        if cand.is_file():
            return cand
    return None


def _is_mask_file(p: Path, root: Path) -> bool:
    """Is ``p`` a mask, not an image: under ``masks/``, named ``*_mask.png``, or a .png beside a same-stem image?"""
    if "masks" in (q.lower() for q in p.relative_to(root).parts[:-1]):
        return True
    if p.stem.endswith("_mask"):
        return True
    if p.suffix.lower() == ".png":
        return any(p.with_suffix(s).is_file() for s in IMAGE_SUFFIXES if s != ".png")
    return False


def list_images(folder: Path | str) -> list[Path]:
    """Image files anywhere below ``folder`` in sorted order, masks left out (the rules of the module docstring)."""
    folder = Path(folder)
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            and not _is_mask_file(p, folder)]


def _class_name(folder: Path) -> str:
    return folder.name.removeprefix("MT_")


def load_defect_folder(root: Path | str, *, size_px: int = 64, normal_class: str | None = None,
                       mask_cover: float = 0.25, max_per_class: int | None = None) -> DefectData:
    """Read a folder of normal images and defect images with masks (layouts in the module docstring).

    ``max_per_class`` keeps the first images of each class in sorted path
    order (for quick runs and tests). Images and masks are resized to
    ``size_px`` x ``size_px`` (the whole image, no crop).
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    if size_px < 16:
        raise ValueError(f"size_px must be >= 16, got {size_px}")
    if not 0.0 < mask_cover <= 1.0:
        raise ValueError(f"mask_cover must be in (0, 1], got {mask_cover}")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ValueError(f"{root}: no class folders (see generative.defect_synth.data for the layout)")
    names = [_class_name(f) for f in folders]
    if normal_class is None:
        found = [n for n in names if n.lower() in NORMAL_NAMES]
        if len(found) != 1:
            raise ValueError(f"{root}: cannot tell the normal (defect-free) folder among {names}: name it "
                             f"one of {NORMAL_NAMES} or pass normal_class")
        normal_class = found[0]
    if normal_class not in names:
        raise ValueError(f"{root}: no folder for the normal class {normal_class!r} among {names}")
    classes = (normal_class,) + tuple(n for n in names if n != normal_class)
    index = {c: k for k, c in enumerate(classes)}
    images, masks, labels, paths = [], [], [], []
    for folder, name in zip(folders, names):
        files = list_images(folder)
        if not files:
            raise ValueError(f"{folder}: class folder without images")
        if max_per_class is not None:
            files = files[:int(max_per_class)]
        label = index[name]
        for p in files:
            im = _open_grey(p)
            images.append(_resize_image(im, size_px))
            if label == 0:
                masks.append(np.zeros((size_px, size_px), dtype=bool))
            else:
                mp = _mask_path(p)
                if mp is None:
                    raise ValueError(f"{p}: defect image without a mask (expected {p.with_suffix('.png').name} "
                                     f"beside it, or masks/{p.stem}.png)")
                mask_im = _open_grey(mp)
                if mask_im.size != im.size:
                    raise ValueError(f"{mp}: mask size {mask_im.size} differs from its image's {im.size}")
                masks.append(_resize_mask(mask_im, size_px, mask_cover))
            labels.append(label)
            paths.append(str(p))
    return DefectData(np.stack(images), np.stack(masks), np.array(labels), classes, tuple(paths))


def load_magnetic_tile_masks(realdata: Path | str, *, size_px: int = 64,
                             max_per_class: int | None = None) -> DefectData:
    """The magnetic-tile set with its masks: normal class ``Free``, defects Blowhole, Break, Crack, Fray, Uneven."""
    return load_defect_folder(Path(realdata) / "magnetic_tile", size_px=size_px, normal_class="Free",
                              max_per_class=max_per_class)


def split_defect_data(data: DefectData, test_fraction: float, seed: int) -> tuple[DefectData, DefectData]:
    """Train and held-out parts, every class split in the same proportion (seeded; >= 1 held out per class)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for k in range(len(data.classes)):
        idx = np.flatnonzero(data.labels == k)
        rng.shuffle(idx)
        n_test = max(1, int(round(test_fraction * len(idx)))) if len(idx) > 1 else 0
        test += list(idx[:n_test])
        train += list(idx[n_test:])
    return data.subset(np.sort(train)), data.subset(np.sort(test))
