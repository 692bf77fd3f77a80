"""Write the example billet-face images of ``docs/`` (well, partial, poor; sites A and B).

``python -m scenarios.billet_examples --out docs`` simulates short shifts of
the default billet line at both camera sites (with real NEU-DET texture when
``TWINLOOP_REALDATA`` is set) and writes, for each of the four examples, the
face image with its character boxes drawn in the colour of their visibility
class (green well, orange partial, red poor): ``billet_well_siteA.png``,
``billet_partial_siteB.png``, ``billet_poor_siteA.png``,
``billet_poor_siteB.png``. Deterministic for a given seed.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from PIL import Image, ImageDraw

from twin.billet_line.simulate import simulate_billets
from twin.config import load_config

COLOURS = {"well": (26, 152, 80), "partial": (243, 156, 18), "poor": (215, 48, 39)}
# (file, site, wanted class): the first billet of that site whose worst character has that class.
EXAMPLES = (("billet_well_siteA.png", "A", "well"), ("billet_partial_siteB.png", "B", "partial"),
            ("billet_poor_siteA.png", "A", "poor"), ("billet_poor_siteB.png", "B", "poor"))


def _worst(vis: list[str]) -> str:
    return "poor" if "poor" in vis else "partial" if "partial" in vis else "well"


def write_examples(out: Path, *, billets: int = 120, seed: int = 11, size_px: int = 384) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for site in ("A", "B"):
            # Another seed per site: other billets, not the same ones under another lamp.
            cfg = load_config(None, [f"run.seed={seed + (site == 'B')}", f"camera.site={site}",
                                     f"render.size_px={size_px}"], kind="billets")
            run = simulate_billets(cfg, Path(tmp) / site, billets=billets)
            rows[site] = [r for r in pq.read_table(run / "billets.parquet").to_pylist() if r["stamped"]]
    written = []
    for name, site, wanted in EXAMPLES:
        rec = next((r for r in rows[site] if _worst(r["char_visibility"]) == wanted), None)
        if rec is None:
            raise RuntimeError(f"no billet with a {wanted} worst character at site {site}: raise --billets")
        im = Image.open(io.BytesIO(rec["image_png"])).convert("RGB")
        draw = ImageDraw.Draw(im)
        for b in rec["boxes"]:
            draw.rectangle([b["x0"], b["y0"], b["x1"] - 1, b["y1"] - 1], outline=COLOURS[b["visibility"]])
        path = out / name
        tmp_path = path.with_suffix(".png.tmp")
        im.save(tmp_path, format="PNG", optimize=True)
        tmp_path.replace(path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs"))
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)
    for p in write_examples(args.out, seed=args.seed):
        sys.stdout.write(f"{p}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
