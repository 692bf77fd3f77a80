"""Billet records -> images and detection targets (what the digit detector reads).

A billet run folder holds ``billets.parquet`` (:data:`twin.schema.BILLETS_SCHEMA`):
one row per photographed billet face with the PNG image (``image_png``) and
one box per visible character (``boxes``: ``char``, ``position`` in the ID,
pixel corners ``x0 <= x < x1``, ``y0 <= y < y1`` and ``visibility``
``well | partial | poor``). This module turns such rows into
:class:`BilletImage` samples:

* the image stays ``uint8`` ``(C, H, W)`` (C = 1 for the grey faces of the
  twin, 3 for colour) — 64 kB for a 256 px grey face, so a few thousand
  fit in memory — and becomes float ``(3, H, W)`` in [0, 1] only when a
  batch is made (:meth:`BilletImage.float_image`);
* the boxes become float ``(N, 4)`` corners ``x0, y0, x1, y1`` in pixel
  coordinates. The schema's exclusive right / bottom edge *is* the
  continuous coordinate of that edge, so a box of one pixel ``x0 = 3,
  x1 = 4`` is 1 px wide, as in COCO (``w = x1 - x0``) and torchvision;
* characters become labels ``1..36`` in the order of the stamp alphabet
  ``0-9A-Z`` (:data:`twin.billet_line.billet_id.ALPHABET`), 0 being
  torchvision's background — the same numbering as the COCO export's
  category ids.

A row that cannot be used — no image, an image that does not decode, a box
outside the image, empty, or with a character or visibility outside the
schema — is a :class:`DetectorInputError` naming the file and the row (and
the box). Rows are never silently dropped.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from learners.records import LearnerInputError
from twin.billet_line.billet_id import ALPHABET
from twin.schema import VISIBILITY_CLASSES

__all__ = ["BilletImage", "DetectorInputError", "CHARACTERS", "char_label", "label_char", "sample_from_row",
           "read_billet_images", "as_billet_images", "data_fingerprint"]

#: The detector's classes, label 1..36 (0 is background).
CHARACTERS: str = ALPHABET
_LABEL = {c: i + 1 for i, c in enumerate(CHARACTERS)}
#: Columns of ``billets.parquet`` the detector reads.
COLUMNS: tuple[str, ...] = ("billet_id", "billet_index", "heat", "strand", "sequence_in_heat", "stamped",
                            "stamped_id", "char_visibility", "site", "image_png", "boxes")


class DetectorInputError(LearnerInputError):
    """A billet record or run folder the detector cannot use; the message names the file, row and box."""


def char_label(c: str) -> int:
    """Label (1-36) of a stamp character."""
    try:
        return _LABEL[c]
    except KeyError:
        raise ValueError(f"{c!r} is not a stamp character (0-9, A-Z)") from None


def label_char(label: int) -> str:
    """Stamp character of a label 1-36."""
    if not 1 <= int(label) <= len(CHARACTERS):
        raise ValueError(f"label {label} is not a character label (1-{len(CHARACTERS)})")
    return CHARACTERS[int(label) - 1]


@dataclass(frozen=True, eq=False)
class BilletImage:
    """One photographed billet face with its character boxes (ground truth when known).

    ``image``: uint8 ``(C, H, W)``; ``boxes_px``: float32 ``(N, 4)``
    ``x0, y0, x1, y1``; ``labels``: int64 ``(N,)`` 1-36; ``chars``,
    ``positions`` (index in the ID), ``visibility``: one per box.
    ``stamped_id`` is the full stamped ID (characters without a box
    included; None for an unstamped billet); ``strand``, ``heat``,
    ``sequence`` identify it on the line (None when unknown).
    ``source`` names where it came from (``file, row n``) for messages.
    """

    image: torch.Tensor
    boxes_px: torch.Tensor
    labels: torch.Tensor
    chars: tuple[str, ...]
    positions: tuple[int, ...]
    visibility: tuple[str, ...]
    billet_id: str
    stamped_id: str | None = None
    strand: int | None = None
    heat: int | None = None
    sequence: int | None = None
    billet_index: int | None = None
    site: str | None = None
    char_visibility: tuple[str, ...] = ()
    source: str = ""

    @property
    def height_px(self) -> int:
        return int(self.image.shape[1])

    @property
    def width_px(self) -> int:
        return int(self.image.shape[2])

    @property
    def worst_visibility(self) -> str:
        """The billet's class: its worst character (poor > partial > well), over every stamped character."""
        vis = set(self.char_visibility) | set(self.visibility)
        for v in reversed(VISIBILITY_CLASSES):
            if v in vis:
                return v
        return VISIBILITY_CLASSES[0]

    def float_image(self) -> torch.Tensor:
        """float32 ``(3, H, W)`` in [0, 1] (a grey image repeated on 3 channels)."""
        x = self.image.to(torch.float32) / 255.0
        return x.expand(3, -1, -1).contiguous() if x.shape[0] == 1 else x

    def target(self) -> dict[str, torch.Tensor]:
        """torchvision's detection target: ``{"boxes": (N, 4) float32, "labels": (N,) int64}``."""
        return {"boxes": self.boxes_px, "labels": self.labels}


def _decode_png(data: Any, where: str) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError

    if data is None:
        raise DetectorInputError(f"{where}: no image (image_png is empty; was the run simulated with "
                                 "render.enabled = false?)")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            mode = im.mode
            if mode not in ("L", "RGB"):
                im = im.convert("RGB" if mode in ("RGBA", "P", "CMYK", "YCbCr") else "L")
            arr = np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DetectorInputError(f"{where}: image_png does not decode as an image ({exc})") from None
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    return torch.from_numpy(np.array(arr, dtype=np.uint8, copy=True))


def sample_from_row(row: dict, where: str = "record") -> BilletImage:
    """A :class:`BilletImage` from one ``billets.parquet`` row (a dict); ``where`` names it in errors."""
    missing = [c for c in ("billet_id", "image_png", "boxes") if c not in row]
    if missing:
        raise DetectorInputError(f"{where}: missing column(s) {missing}")
    image = _decode_png(row["image_png"], where)
    H, W = int(image.shape[1]), int(image.shape[2])
    coords, labels, chars, positions, vis = [], [], [], [], []
    for k, b in enumerate(row["boxes"] or []):
        at = f"{where}, box {k}"
        try:
            x0, y0, x1, y1 = (int(b[n]) for n in ("x0", "y0", "x1", "y1"))
        except (KeyError, TypeError, ValueError):
            raise DetectorInputError(f"{at}: box {b!r} lacks integer x0, y0, x1, y1") from None
        c = b.get("char")
        if c not in _LABEL:
            raise DetectorInputError(f"{at}: character {c!r} is not a stamp character (0-9, A-Z)")
        if not (0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H):
            raise DetectorInputError(f"{at}: box ({x0}, {y0}, {x1}, {y1}) is empty or outside the "
                                     f"{W} x {H} image (x0 < x1 <= width, y0 < y1 <= height)")
        v = b.get("visibility") or "well"
        if v not in VISIBILITY_CLASSES:
            raise DetectorInputError(f"{at}: visibility {v!r} is not one of {VISIBILITY_CLASSES}")
        coords.append((x0, y0, x1, y1))
        labels.append(_LABEL[c])
        chars.append(c)
        positions.append(int(b["position"]) if b.get("position") is not None else k)
        vis.append(v)
    boxes = torch.tensor(coords, dtype=torch.float32).reshape(-1, 4)
    stamped = row.get("stamped", True)
    return BilletImage(
        image=image, boxes_px=boxes, labels=torch.tensor(labels, dtype=torch.int64), chars=tuple(chars),
        positions=tuple(positions), visibility=tuple(vis), billet_id=str(row["billet_id"]),
        stamped_id=(row.get("stamped_id") or None) if stamped is not False else None,
        strand=_opt_int(row.get("strand")), heat=_opt_int(row.get("heat")),
        sequence=_opt_int(row.get("sequence_in_heat")), billet_index=_opt_int(row.get("billet_index")),
        site=row.get("site"), char_visibility=tuple(row.get("char_visibility") or ()), source=where)


def read_billet_images(run_dirs: Path | str | Sequence[Path | str], *, limit: int | None = None) -> list[BilletImage]:
    """Every billet of one or more run folders (their ``billets.parquet``), in file order.

    A missing folder or file, or a missing column, is a :class:`DetectorInputError`
    naming it. ``limit`` reads only the first rows of each file.
    """
    import pyarrow.parquet as pq

    dirs = [run_dirs] if isinstance(run_dirs, (str, Path)) else list(run_dirs)
    if not dirs:
        raise DetectorInputError("no run folders given")
    out: list[BilletImage] = []
    for d in dirs:
        d = Path(d)
        f = d / "billets.parquet" if d.is_dir() else d
        if not d.exists():
            raise DetectorInputError(f"{d}: no such run folder")
        if not f.is_file():
            raise DetectorInputError(f"{d}: no billets.parquet (is it a billet run folder?)")
        try:
            pf = pq.ParquetFile(f)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is an input problem
            raise DetectorInputError(f"{f}: not a readable Parquet file ({exc})") from None
        have = set(pf.schema_arrow.names)
        missing = [c for c in ("billet_id", "image_png", "boxes") if c not in have]
        if missing:
            raise DetectorInputError(f"{f}: missing column(s) {missing}")
        cols = [c for c in COLUMNS if c in have]
        row_no = 0
        for batch in pf.iter_batches(batch_size=256, columns=cols):
            for row in batch.to_pylist():
                if limit is not None and row_no >= limit:
                    break
                out.append(sample_from_row(row, f"{f}, row {row_no}"))
                row_no += 1
    return out


def as_billet_images(X: Any) -> list[BilletImage]:
    """Accept what a learner is given and return samples.

    ``X``: a run folder or a list of them (paths), a ``pyarrow.Table`` of
    billet rows, a list of row dicts, one row dict, or samples already.
    """
    import pyarrow as pa

    if isinstance(X, BilletImage):
        return [X]
    if isinstance(X, (str, Path)):
        return read_billet_images(X)
    if isinstance(X, pa.Table):
        return [sample_from_row(r, f"table, row {i}") for i, r in enumerate(X.to_pylist())]
    if isinstance(X, dict):
        return [sample_from_row(X, "record")]
    items = list(X) if isinstance(X, Iterable) else None
    if items is None:
        raise TypeError(f"cannot read billet images from a {type(X).__name__}")
    if not items:
        return []
    if all(isinstance(i, BilletImage) for i in items):
        return items
    if all(isinstance(i, (str, Path)) for i in items):
        return read_billet_images(items)
    if all(isinstance(i, dict) for i in items):
        return [sample_from_row(r, f"record {i}") for i, r in enumerate(items)]
    raise TypeError("expected run folders, a pyarrow Table, row dicts or BilletImage samples, not a mix")


def data_fingerprint(samples: Sequence[BilletImage]) -> str:
    """A short hash of a training set (ids, image sizes, boxes, pixels sampled): resume refuses other data."""
    import hashlib

    h = hashlib.sha256()
    for s in samples:
        h.update(s.billet_id.encode())
        h.update(np.asarray(s.image.shape, dtype=np.int64).tobytes())
        h.update(s.boxes_px.numpy().tobytes())
        h.update(s.labels.numpy().tobytes())
        h.update(s.image.reshape(-1)[::997].numpy().tobytes())
    return h.hexdigest()[:16]


def _opt_int(v: Any) -> int | None:
    return None if v is None else int(v)
