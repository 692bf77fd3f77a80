"""Stamp cGAN study: train pix2pix stamp texture, then measure how real the twin's characters look with it.

Steps (``twinloop run scenarios/stamp_cgan.toml --out DIR``):

1. **Pairs.** Build stand-in (mask, image) pairs from the real data under
   ``TWINLOOP_REALDATA`` (:mod:`generative.stamp_realdata`: the Otsu
   footprint of a real meter-digit photo, and that photo's luminance
   structure printed onto real NEU-DET steel), split into train and
   held-out by photo; or read ``[data] pairs`` (a folder with ``train/``
   and ``holdout/`` pair folders). These are **not photos of stamps**:
   only three such photos exist here (``stamped_metal_ids``), shown in the
   report for a look by eye and used for nothing else.
2. **Train** a :class:`generative.stamp_cgan.StampCGAN` (U-Net + PatchGAN,
   adversarial + L1) with a checkpoint every ``checkpoint_every`` steps.
3. **Measure** the domain FID/KID (features of a digit classifier trained
   on the training split's real patches) of procedural-only renders and
   of procedural + cGAN renders against the held-out real patches, at
   patch level and on whole billet faces rendered by the twin with and
   without the texture hook (:mod:`generative.stamp_eval`), next to the
   real-vs-real floor.

Writes ``metrics.json``, ``model.ckpt``, ``checkpoints/``, ``pairs.json``
(what the pairs were built from; no real pixels) and ``report.html`` (loss
curves, sample grids mask | procedural | cGAN | real, the checkpoint pool,
twin faces without and with the cGAN, the three real stamp photos).
The trained model plugs into the twin with
``render.stamp_gan = "DIR/model.ckpt"`` (or several checkpoints,
comma-separated).

:func:`write_training_report` is the report of ``twinloop train gan stamp``
(loss curves and a sample grid on the training pairs).
"""
from __future__ import annotations

import base64
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from scenarios.report_html import Section, esc, figure_html, fmt, page_html, table_html
from scenarios.spec import merge_spec
from twin.runfolder import RunFolder

DEFAULTS: dict = {
    "data": {"pairs": "", "size": 64, "holdout_fraction": 0.2, "seed": 0, "max_pairs": 0},
    "model": {"width": 16, "depth": 5, "d_width": 16, "d_layers": 2, "lambda_l1": 100.0, "lr": 2e-4,
              "batch_size": 16, "dropout": 0.5, "gan_loss": "vanilla", "procedural_variants": 2},
    "train": {"steps": 4000, "checkpoint_every": 1000, "seed": 0, "pool": 3, "threads": 1},
    "eval": {"feature_steps": 800, "feature_seed": 0, "faces": 12, "face_seed": 5, "site": "A",
             "face_size_px": 512, "shown": 10},
}
STAMP_PHOTOS = ("mst.png", "mstl1.png", "mstl2.png")


# ----------------------------------------------------------------------------- images in the report
def png_uri(a: np.ndarray) -> str:
    """uint8 grey or RGB array -> ``data:image/png;base64,...``."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a)).save(buf, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def mosaic(columns: Sequence[np.ndarray], gap: int = 2) -> np.ndarray:
    """Rows of patches: ``columns[j][i]`` is row i, column j (uint8 (n, S, S) each); grey gaps between."""
    n, s = len(columns[0]), columns[0].shape[1]
    out = np.full((n * (s + gap) - gap, len(columns) * (s + gap) - gap), 200, np.uint8)
    for j, col in enumerate(columns):
        for i in range(n):
            out[i * (s + gap):i * (s + gap) + s, j * (s + gap):j * (s + gap) + s] = col[i]
    return out


def img_html(a: np.ndarray, width_px: int, title: str = "") -> str:
    return (f'<img src="{png_uri(a)}" width="{int(width_px)}" title="{esc(title)}" '
            f'style="image-rendering:pixelated;border:1px solid #dde2e8;margin:2px">')


def grid_html(cols: Sequence[np.ndarray], names: Sequence[str], scale: int = 2) -> str:
    """A mosaic with a header line naming its columns."""
    m = mosaic(cols)
    s = cols[0].shape[1]
    head = "".join(f'<span style="display:inline-block;width:{(s + 2) * scale}px;font-size:12px;color:#5a6b7d">'
                   f"{esc(n)}</span>" for n in names)
    return f"<div>{head}</div>" + img_html(m, m.shape[1] * scale, " | ".join(names))


def loss_figure(history: list[dict], smooth: int = 50):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    steps = np.array([h["step"] for h in history])
    fig = make_subplots(rows=1, cols=2, subplot_titles=("adversarial losses", "L1 to the real patch (0..1 grey)"))
    k = max(1, min(int(smooth), len(steps) // 5 or 1))

    def sm(v):
        v = np.asarray(v, float)
        return np.convolve(v, np.ones(k) / k, mode="valid") if len(v) >= k else v

    xs = steps[k - 1:] if len(steps) >= k else steps
    for name, col in (("D", "d"), ("G adversarial", "g_adv")):
        fig.add_trace(go.Scatter(x=xs, y=sm([h[col] for h in history]), name=name, mode="lines"), 1, 1)
    fig.add_trace(go.Scatter(x=xs, y=sm([h["l1"] for h in history]), name="L1", mode="lines"), 1, 2)
    fig.update_xaxes(title_text="step")
    fig.update_layout(margin=dict(l=50, r=20, t=40, b=80), legend=dict(orientation="h", y=-0.3))
    return fig


def _fid_row(name: str, d: dict) -> list:
    return [name, fmt(d["fid"], 2), f"{d['kid']:.4f} ± {d['kid_std']:.4f}", d["n_real"], d["n_fake"]]


# ----------------------------------------------------------------------------- training report (CLI)
def training_sections(gan, pairs, *, shown: int = 8, seed: int = 0) -> list[Section]:
    """Loss curves and a grid (mask | procedural | cGAN | target) on the first ``shown`` pairs."""
    from generative.stamp_eval import to_u8
    from generative.stamp_procedural import procedural_inputs

    sub = pairs.subset(np.arange(min(int(shown), len(pairs))))
    proc = procedural_inputs(sub, 1, seed + 1000, float(gan.char_height_mm))[:, 0]
    out = to_u8(gan.translate(sub.masks, proc))
    grid = grid_html([to_u8(sub.masks), proc, out, to_u8(sub.images)], ["mask", "procedural", "cGAN", "target"])
    return [
        Section("Training losses", f"{gan.step_} steps, moving average over 50 steps. The L1 term is the mean "
                "absolute grey-level error to the target patch (0..1).",
                figure_html(loss_figure(gan.history_), "loss-curves", 340), "losses"),
        Section("Samples", "Pairs of the training folder (seen in training): the mask, its procedural "
                "rendering (physics shading on the painted-out target), the cGAN's output, the target.",
                grid, "samples"),
    ]


def write_training_report(path: Path, gan, pairs, info: dict) -> None:
    sections = training_sections(gan, pairs)
    what = info.get("what", "")
    subtitle = (f"pix2pix U-Net + PatchGAN trained on {esc(info.get('pairs', len(pairs)))} pairs from "
                f"<code>{esc(info.get('data', ''))}</code>" + (f" — {esc(what)}" if what else ""))
    Path(path).write_text(page_html("Stamp cGAN training", subtitle, sections), encoding="utf-8")


# ----------------------------------------------------------------------------- the study
def _realdata() -> Path:
    root = os.environ.get("TWINLOOP_REALDATA")
    if not root:
        raise FileNotFoundError("TWINLOOP_REALDATA is not set: point it at the folder holding meter_digits/ "
                                "and neu_det/")
    return Path(root)


def _stamp_photos(root: Path) -> list[tuple[str, np.ndarray]]:
    from PIL import Image

    out = []
    for name in STAMP_PHOTOS:
        p = root / "stamped_metal_ids" / name
        if p.is_file():
            with Image.open(p) as im:
                g = im.convert("L")
                g.thumbnail((420, 320))
                out.append((name, np.asarray(g)))
    return out


def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None,
        overwrite: bool = False, finalize: Callable | None = None) -> Path:
    spec = merge_spec(DEFAULTS, spec, "stamp_cgan")
    d, m, t, e = spec["data"], spec["model"], spec["train"], spec["eval"]
    import torch

    from generative.stamp_cgan import StampCGAN
    from generative.stamp_eval import face_level, patch_level
    from generative.stamp_features import train_digit_features
    from generative.stamp_pairs import load_pair_folder
    from generative.stamp_pool import StampCheckpointPool
    from generative.stamp_realdata import StandInPairSpec, build_stamp_pairs
    from generative.stamp_texture_adapter import StampTextureAdapter
    from physics.billet_render.face_renderer import BilletFaceRenderer, RenderParams
    from physics.billet_render.surface_texture import neu_backgrounds_from_env

    torch.set_num_threads(int(t["threads"]))
    steps = int(t["steps"])
    total = steps + 40
    timings: dict[str, float] = {}

    def tick(done: int) -> None:
        if progress is not None:
            progress(done, total)

    RunFolder(out, overwrite=overwrite).check_target()
    with tempfile.TemporaryDirectory(prefix="twinloop-stamp-") as tmp, RunFolder(out, overwrite=overwrite) as folder:
        t0 = time.perf_counter()
        root = None
        if d["pairs"]:
            pair_root = Path(d["pairs"])
            build = {"what": "pairs read from " + str(pair_root)}
        else:
            root = _realdata()
            pair_root = Path(tmp) / "pairs"
            build = build_stamp_pairs(root, pair_root, seed=int(d["seed"]),
                                      holdout_fraction=float(d["holdout_fraction"]),
                                      max_pairs=int(d["max_pairs"]) or None, spec=StandInPairSpec(size=int(d["size"])))
        train = load_pair_folder(pair_root / "train", size=int(d["size"]))
        holdout = load_pair_folder(pair_root / "holdout", size=int(d["size"]))
        folder.write_json("pairs.json", {"build": build, "train": train.info.get("sources", {}),
                                         "holdout": holdout.info.get("sources", {})})
        timings["pairs_s"] = time.perf_counter() - t0
        tick(10)

        t0 = time.perf_counter()
        gan = StampCGAN(steps=steps, checkpoint_every=int(t["checkpoint_every"]), size=int(d["size"]),
                        **{k: m[k] for k in DEFAULTS["model"]})
        gan.fit(train, seed=int(t["seed"]), checkpoint_dir=folder.path("checkpoints"),
                progress=lambda i, n: tick(10 + i))
        gan.save(folder.path("model.ckpt"))
        timings["train_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        ckpts = sorted(folder.path("checkpoints").glob("step_*.ckpt"))[-max(1, int(t["pool"])):]
        pool = StampCheckpointPool([StampCGAN.load(p) for p in ckpts] or [gan],
                                   [f"checkpoints/{p.name}" for p in ckpts] or ["model.ckpt"])
        net = train_digit_features(train.images, train.labels, seed=int(e["feature_seed"]),
                                   steps=int(e["feature_steps"]))
        patch, patch_imgs = patch_level(gan, pool, holdout, train, net, seed=int(e["feature_seed"]))
        patch["feature_net_train_accuracy"] = net.train_accuracy_
        timings["patch_eval_s"] = time.perf_counter() - t0
        tick(steps + 25)

        t0 = time.perf_counter()
        params = RenderParams(size_px=int(e["face_size_px"]), char_height_mm=15.0)
        backgrounds = neu_backgrounds_from_env()
        plain = BilletFaceRenderer(params, backgrounds)
        textured = BilletFaceRenderer(params, backgrounds, stamp_texture=StampTextureAdapter(pool))
        face, face_imgs = face_level(plain, textured, holdout, net, faces=int(e["faces"]), seed=int(e["face_seed"]),
                                     site=str(e["site"]))
        face["backgrounds"] = "NEU-DET (real steel)" if backgrounds is not None else "procedural"
        timings["face_eval_s"] = time.perf_counter() - t0

        metrics = {
            "data": {"what": build.get("what"), "train_pairs": len(train), "holdout_pairs": len(holdout),
                     "size": int(d["size"])},
            "model": gan.get_params(), "steps": int(gan.step_), "pool": pool.names,
            "final_losses": {k: float(np.mean([h[k] for h in gan.history_[-100:]])) for k in ("d", "g_adv", "l1")}
            if gan.history_ else {},
            "patch_level": patch, "face_level": face, "site": str(e["site"]), "timings_s": timings,
            "torch_threads": int(t["threads"]),
        }
        folder.write_json("metrics.json", metrics)
        photos = _stamp_photos(root) if root is not None else []
        folder.write_text("report.html", _report(metrics, gan, pool, patch_imgs, face_imgs, photos, holdout,
                                                 int(e["shown"])))
        if finalize is not None:
            finalize(folder, metrics)
        tick(total)
    return Path(out)


def _report(metrics: dict, gan, pool, patch_imgs: dict, face_imgs: dict, photos, holdout, shown: int) -> str:
    from generative.stamp_eval import to_u8

    p, f = metrics["patch_level"], metrics["face_level"]
    n = min(int(shown), len(patch_imgs["real"]))
    idx = np.linspace(0, len(patch_imgs["real"]) - 1, n).astype(int)
    grid = grid_html([patch_imgs[k][idx] for k in ("masks", "procedural", "cgan", "real")],
                     ["mask", "procedural", "cGAN", "real (held out)"])
    # The pool: one held-out input through every checkpoint.
    cols = [patch_imgs["masks"][idx[:6]], patch_imgs["procedural"][idx[:6]]]
    for model in pool.models:
        cols.append(to_u8(model.translate(holdout.masks[idx[:6]], patch_imgs["procedural"][idx[:6]] / 255.0)))
    pool_grid = grid_html(cols, ["mask", "procedural"] + [nm.rsplit("/", 1)[-1].replace(".ckpt", "")
                                                          for nm in pool.names])
    pa, un = p["paired"], p["unpaired"]
    table = table_html([_fid_row("procedural only", pa["procedural"]),
                        _fid_row("procedural + cGAN (final model)", pa["procedural_cgan"]),
                        _fid_row(f"procedural + cGAN (pool of {len(pool)} checkpoints)", pa["procedural_cgan_pool"])],
                       ["paired: vs the held-out real patches of the same masks", "FID", "KID", "n real",
                        "n generated"], [False, True, True, True, True])
    table += table_html([_fid_row("real held-out patches: the floor", un["real_holdout"]),
                         _fid_row("procedural only", un["procedural"]),
                         _fid_row("procedural + cGAN (final model)", un["procedural_cgan"]),
                         _fid_row(f"procedural + cGAN (pool of {len(pool)} checkpoints)",
                                  un["procedural_cgan_pool"])],
                        ["unpaired: held-out masks vs the training real patches", "FID", "KID", "n real",
                         "n generated"], [False, True, True, True, True])
    acc = p.get("digit_accuracy", {})
    err = p["mean_abs_error_to_real"]
    extra = table_html([[k, fmt(acc.get(k), 3), fmt(err.get(k), 4)] for k in
                        ("procedural", "procedural_cgan", "procedural_cgan_pool")]
                       + [["real (held out)", fmt(acc.get("real"), 3), "0"]],
                       ["patches", "read as their digit by the real-trained classifier", "mean |error| to real"],
                       [False, True, True])
    face_table = table_html([_fid_row("twin faces, procedural only", f["procedural"]),
                             _fid_row("twin faces, procedural + cGAN", f["procedural_cgan"])],
                            ["character crops vs held-out real patches", "FID", "KID", "n real", "n crops"],
                            [False, True, True, True, True])
    faces_html = "".join(img_html(a, 280, "procedural") + img_html(b, 280, "procedural + cGAN")
                         for a, b in face_imgs["faces"])
    k = min(8, len(face_imgs["crops_plain"]))
    crops = grid_html([face_imgs["crops_plain"][:k], face_imgs["crops_gan"][:k]], ["twin", "twin + cGAN"])
    photos_html = "".join(img_html(a, min(a.shape[1], 420), nm) for nm, a in photos) or \
        '<p class="note">stamped_metal_ids not found under TWINLOOP_REALDATA.</p>'
    t = metrics["timings_s"]
    what = (f"<b>What the cGAN was trained on:</b> {metrics['data']['train_pairs']} stand-in pairs — the Otsu "
            "footprint of a <i>real photographed meter digit</i> (mask) and that photo's luminance structure printed "
            "onto <i>real hot-rolled steel</i> (NEU-DET) texture (target). They are <b>not photos of stamped "
            "characters</b>: the cGAN learns photographic stroke structure and real steel grain, not how an "
            "indentation catches the light (that comes from the physics renderer, its second input). "
            f"Held out: {metrics['data']['holdout_pairs']} pairs from other digit photos and other steel photos.")
    sections = [
        Section("What was trained, on what", what,
                table_html([["steps", metrics["steps"]], ["U-Net width / depth", f"{gan.width} / {gan.depth}"],
                            ["PatchGAN width / layers", f"{gan.d_width} / {gan.d_layers}"],
                            ["lambda_L1", gan.lambda_l1], ["batch", gan.batch_size],
                            ["training time", f"{t['train_s'] / 60:.1f} min on {metrics['torch_threads']} "
                                              "torch thread(s) (shared CPU)"],
                            ["checkpoint pool", ", ".join(pool.names)]]), "what"),
        Section("Training losses", "Moving average over 50 steps. L1 = mean absolute grey-level error to the target "
                "(0..1).", figure_html(loss_figure(gan.history_), "loss-curves", 340), "losses"),
        Section("Domain FID, patch level",
                "Features: a digit classifier trained from scratch on the training split's real patches "
                f"(training accuracy {fmt(p.get('feature_net_train_accuracy'), 3)}). Each held-out mask is "
                "rendered by the physics on its painted-out real background (procedural), then translated by "
                "the cGAN. Lower is closer to the real patches. Paired: the same masks and metal as the real "
                "patches compared with (no floor: a generated set can come closer to its own real partners than "
                "any independent real set). Unpaired: against the training real patches; the first row is the "
                "floor a perfect generator would still show at this sample size.", table + extra, "fid"),
        Section("Samples (held out)", "Held-out pairs: the mask, its procedural rendering, the cGAN's output (final "
                "model), the real patch.", grid, "samples"),
        Section("The checkpoint pool", "One input through each checkpoint of the pool: the twin picks one per "
                f"character at random (picks on the held-out set: {p['pool_picks']}).", pool_grid, "pool"),
        Section("Twin faces without and with the cGAN",
                f"{f['faces']} billet faces (site {esc(metrics.get('site', 'A'))}, {esc(f['backgrounds'])} "
                "background) rendered with the same seeds without and with the texture hook; "
                f"boxes identical: <b>{fmt(f['boxes_identical'])}</b>; pixels changed away from the characters: "
                f"{f['pixels_changed_away_from_characters']}. Character crops (square, 0.58 high, like the "
                "training patches) against the held-out real patches; the faces went through the camera "
                "(perspective, blur, noise), the real patches did not, so compare the two rows, not the "
                "absolute values.", face_table + faces_html + crops, "faces"),
        Section("Real stamped characters (for a look only)",
                "The three photographs of characters stamped into metal that exist here "
                "(<code>stamped_metal_ids</code>); too few to train or measure on.", photos_html, "photos"),
    ]
    subtitle = ("pix2pix stamp texture (U-Net + PatchGAN, adversarial + L1) and the domain FID of the twin's "
                "characters with and without it")
    return page_html("Stamp cGAN study", subtitle, sections,
                     footer=esc(json.dumps({k: round(v, 1) for k, v in t.items()})))
