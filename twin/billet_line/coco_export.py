"""Export a billet run's images and character boxes as a COCO detection data set.

``export_coco(run_dir)`` writes ``RUN_DIR/coco/``::

    coco/
      annotations.json     COCO "instances" JSON
      images/<billet_index>_<billet_id>.png

* categories: the 36 stamp characters ``0-9``, ``A-Z`` (ids 1-36, in that
  order; ``supercategory`` "character");
* images: ``id`` = billet index, ``file_name`` (relative to ``coco/``),
  ``width``, ``height``, plus ``billet_id``, ``site``, ``stamped``;
* annotations: one per visible character, ``bbox = [x, y, w, h]`` from the
  record's box (``x0 <= x < x1``: ``w = x1 - x0``), ``area = w·h``,
  ``iscrowd = 0`` and ``attributes.visibility`` (``well`` | ``partial`` |
  ``poor``), the character's position in the ID as ``attributes.position``.

The folder is built under a temporary name beside it and renamed into place
at the end, so a reader never sees a half-written export; an existing
export is replaced only with ``overwrite=True``.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from twin.billet_line.billet_id import ALPHABET

__all__ = ["export_coco", "CATEGORIES"]

CATEGORIES: list[dict] = [{"id": i + 1, "name": c, "supercategory": "character"} for i, c in enumerate(ALPHABET)]
_CAT_ID = {c["name"]: c["id"] for c in CATEGORIES}


def export_coco(run_dir: Path | str, out: Path | str | None = None, *, overwrite: bool = False) -> Path:
    """Write the COCO export of ``run_dir`` (default ``run_dir/coco``); returns its folder."""
    run_dir = Path(run_dir)
    src = run_dir / "billets.parquet"
    if not src.is_file():
        raise FileNotFoundError(f"{src}: no billets.parquet (is {run_dir} a billet run folder?)")
    target = Path(out) if out is not None else run_dir / "coco"
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists (use overwrite)")
    table = pq.read_table(src, columns=["billet_index", "billet_id", "site", "stamped", "image_png",
                                        "image_width", "image_height", "boxes"])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
    try:
        (tmp / "images").mkdir()
        images, annotations = [], []
        for row_no, rec in enumerate(table.to_pylist()):
            if rec["image_png"] is None:
                raise ValueError(f"{src}: row {row_no} (billet {rec['billet_id']}) has no image: "
                                 "the run was simulated with render.enabled = false")
            name = f"images/{rec['billet_index']:06d}_{rec['billet_id']}.png"
            (tmp / name).write_bytes(rec["image_png"])
            images.append({"id": int(rec["billet_index"]), "file_name": name, "width": int(rec["image_width"]),
                           "height": int(rec["image_height"]), "billet_id": rec["billet_id"], "site": rec["site"],
                           "stamped": bool(rec["stamped"])})
            for pos, box in enumerate(rec["boxes"] or []):
                w, h = box["x1"] - box["x0"], box["y1"] - box["y0"]
                if box["char"] not in _CAT_ID or w <= 0 or h <= 0:
                    raise ValueError(f"{src}: row {row_no}, box {pos}: invalid box {box}")
                annotations.append({
                    "id": len(annotations) + 1, "image_id": int(rec["billet_index"]),
                    "category_id": _CAT_ID[box["char"]], "bbox": [box["x0"], box["y0"], w, h], "area": w * h,
                    "iscrowd": 0, "attributes": {"visibility": box["visibility"],
                                                 "position": box["position"]},
                })
        doc = {"info": {"description": f"twinloop billet run {run_dir.name}", "version": "1.0"},
               "licenses": [], "categories": CATEGORIES, "images": images, "annotations": annotations}
        (tmp / "annotations.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
