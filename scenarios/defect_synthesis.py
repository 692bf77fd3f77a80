"""Defect synthesis study: a SyNDGAN-like GAN paints real defect classes onto defect-free tiles.

On the magnetic-tile set (``$TWINLOOP_REALDATA/magnetic_tile``: 952
defect-free tiles, 392 defect images in 5 classes with pixel masks) or on a
plant's own folder (layout: :mod:`generative.defect_synth.data`):

1. images and masks are resized to ``size_px`` and split per class into a
   training part and a **held-out** part (``test_fraction``, seeded);
2. an **evaluation feature network** (:mod:`generative.defect_synth.features`,
   its own seed) is trained from scratch on the training part: FID, KID,
   the perceptual distance and the class check use it. The synthesizer
   trains a separate copy for its discriminator and perceptual loss, so the
   metric is not the thing it was optimised against;
3. the :class:`~generative.defect_synth.DefectSynthesizer` (SyNDGAN-like:
   SFT encoder, unconditionally pretrained decoder, projected multi-scale
   discriminator on the domain features, perceptual and in-domain inversion
   losses) and the plain **pix2pix** baseline (no SFT, no pretraining; the
   same batches and as many optimiser steps as the synthesizer's pretraining
   and synthesis phases together) are trained on the training part; the
   **copy-paste** baseline pastes real training defects onto tiles;
4. every method makes one defect image per held-out defect image: the
   held-out image's mask and class on a held-out defect-free tile (copy-paste
   pastes a training defect of that class instead). They are compared with
   the held-out real defect images: FID and KID (± its std over subsets) on
   the evaluation features; the share classified as the requested class by
   the evaluation network; the fraction of pixels changed outside the mask.
   Two reference rows bracket the scale: real training defects (the floor:
   what two real samples of this size score) and the defect-free tiles
   themselves (no defect at all). The synthesizers are also run on **new
   masks** — real masks moved, scaled, rotated, mirrored until their IoU
   with every real mask is below ``novel_max_iou`` — and, as in the study's
   Table 2, asked to reconstruct held-out images (perceptual distance).

The raw network output is reported, and the same output blended into the
tile around the mask (:func:`~generative.defect_synth.blend.blend_into`)
— what ``twinloop sample defect`` writes by default.

Everything is trained from scratch on the data at hand: no pretrained
weights can be downloaded here. Run: ``twinloop run
scenarios/defect_synthesis.toml --out DIR``; writes ``metrics.json``
(the table under ``table``), ``model.ckpt`` (the synthesizer),
``pix2pix.ckpt`` and ``report.html`` (loss curves, sample grids).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from scenarios.spec import merge_spec

DEFAULTS: dict = {
    "data": {"folder": "", "size_px": 64, "test_fraction": 0.25, "split_seed": 0, "max_per_class": 0},
    "model": {"steps": 4000, "feature_steps": 1000, "pretrain_steps": 1500, "batch_size": 8,
              "feature_batch_size": 32, "normal_fraction": 0.25, "latent_channels": 64, "width": 32, "n_blocks": 3,
              "w_pix": 10.0, "w_adv": 1.0, "w_perc": 1.0, "w_inv": 1.0, "mask_weight": 4.0, "lr_g": 2e-4,
              "lr_e": 5e-4, "lr_d": 1e-4, "skip_connections": True, "diffaug": True, "seed": 0, "checkpoint_every": 0},
    "baselines": {"pix2pix": True, "pix2pix_steps": 0, "pix2pix_width": 32, "copy_paste": True},
    "evaluation": {"feature_steps": 1000, "feature_batch_size": 32, "feature_seed": 1, "kid_subsets": 100,
                   "kid_subset_size": 50, "novel_max_iou": 0.5, "rotation_deg": 30.0, "scale_min": 0.7,
                   "scale_max": 1.3, "max_shift": 0.25, "change_tol": 0.1, "blend_dilate_px": 1,
                   "blend_feather_px": 1.0, "seed": 0,
                   "grid_per_class": 3},
    "run": {"threads": 1, "device": "auto"},
}

SYN = "SyNDGAN-like"
P2P = "pix2pix (no SFT)"


# -- data ------------------------------------------------------------------------------------------
def load_data(dspec: dict):
    """The data set of ``[data]``: ``folder`` (a plant's folder) or, when empty, the magnetic-tile set."""
    from generative.defect_synth import load_defect_folder, load_magnetic_tile_masks

    size = int(dspec["size_px"])
    limit = int(dspec.get("max_per_class", 0)) or None
    if dspec.get("folder"):
        return load_defect_folder(Path(dspec["folder"]), size_px=size, max_per_class=limit)
    from scenarios.kassel_calibration import realdata_root

    return load_magnetic_tile_masks(realdata_root(), size_px=size, max_per_class=limit)


def synthesizer_params(mspec: dict, size_px: int, device: str) -> dict:
    keys = ("steps", "feature_steps", "pretrain_steps", "batch_size", "feature_batch_size", "normal_fraction",
            "latent_channels", "width", "n_blocks", "w_pix", "w_adv", "w_perc", "w_inv", "mask_weight", "lr_g",
            "lr_e", "lr_d", "skip_connections", "diffaug", "checkpoint_every")
    return {**{k: mspec[k] for k in keys}, "size_px": int(size_px), "device": device}


# -- evaluation --------------------------------------------------------------------------------------
def evaluation_conditions(train, test, espec: dict) -> dict:
    """What every method is asked for: held-out masks on held-out tiles, and new masks on the same tiles."""
    from generative.defect_synth import novel_masks

    rng = np.random.default_rng(int(espec["seed"]))
    held = test.defects()
    has = held.masks.reshape(len(held), -1).any(1)
    held = held.subset(np.flatnonzero(has))
    normals = test.normal()
    if len(normals) == 0:
        raise ValueError("the held-out part has no defect-free images to paint on")
    pick = rng.permutation(np.resize(np.arange(len(normals)), max(len(held), len(normals))))[:len(held)]
    tiles = normals.images[pick]
    t_def = train.defects()
    new, new_labels, source, iou = novel_masks(
        t_def.masks, t_def.labels, len(held), rng, classes=held.labels, max_iou=float(espec["novel_max_iou"]),
        rotation_deg=float(espec["rotation_deg"]), scale_range=(float(espec["scale_min"]), float(espec["scale_max"])),
        max_shift=float(espec["max_shift"]))
    return {"held": held, "tiles": tiles, "novel_masks": new, "novel_labels": new_labels, "novel_iou": iou,
            "train_defects": t_def}


def _class_accuracy(net, images: np.ndarray, labels: np.ndarray) -> float:
    import torch

    from generative.defect_synth.tensors import to_tensor

    with torch.no_grad():
        pred = net(to_tensor(images, next(net.parameters()).device)).argmax(1).cpu().numpy()
    return float(np.mean(pred == labels))


def score_set(name: str, images: np.ndarray, labels: np.ndarray, real, net, espec: dict, *,
              before: np.ndarray | None = None, masks: np.ndarray | None = None) -> dict:
    """FID, KID ± std, class accuracy (and, with ``before``/``masks``, the outside-mask change) of one set."""
    from generative.image_metrics import extract_features, frechet_distance, kid, outside_mask_change

    fr = extract_features(real.images, net.embed)
    ff = extract_features(images, net.embed)
    k, ks = kid(fr, ff, n_subsets=int(espec["kid_subsets"]), subset_size=int(espec["kid_subset_size"]),
                seed=int(espec["seed"]))
    row = {"method": name, "n": int(len(images)), "fid": frechet_distance(fr, ff), "kid": k, "kid_std": ks,
           "class_accuracy": _class_accuracy(net, images, labels)}
    per_class = {}
    for c in np.unique(labels):
        sel_f, sel_r = labels == c, real.labels == c
        if sel_f.sum() >= 4 and sel_r.sum() >= 4:
            # subsets of half the smaller class set: with all of it, every subset would be the same
            m = min(int(espec["kid_subset_size"]), int(min(sel_f.sum(), sel_r.sum())) // 2)
            kc, kcs = kid(fr[sel_r], ff[sel_f], n_subsets=int(espec["kid_subsets"]), subset_size=m,
                          seed=int(espec["seed"]))
            per_class[real.classes[int(c)]] = {"n": int(sel_f.sum()), "kid": kc, "kid_std": kcs,
                                               "class_accuracy": float(np.mean(_pred(net, images[sel_f]) == c))}
    row["per_class"] = per_class
    if before is not None and masks is not None:
        ch = outside_mask_change(before, images, masks, tol=float(espec["change_tol"]))
        row.update({k: v for k, v in ch.items() if k != "outside_changed_fraction_per_image"})
    return row


def _pred(net, images: np.ndarray) -> np.ndarray:
    import torch

    from generative.defect_synth.tensors import to_tensor

    with torch.no_grad():
        return net(to_tensor(images, next(net.parameters()).device)).argmax(1).cpu().numpy()


def synthesize_all(models: dict, cond: dict, espec: dict) -> dict:
    """Raw and blended outputs of every model on held-out masks and on new masks (same tiles)."""
    from generative.defect_synth import blend_into, class_map

    held, tiles = cond["held"], cond["tiles"]
    seed = int(espec["seed"])
    out = {}
    for name, model in models.items():
        for tag, masks, labels in (("held", held.masks, held.labels),
                                   ("new", cond["novel_masks"], cond["novel_labels"])):
            raw = model.sample(len(tiles), condition=(tiles, class_map(masks, labels)), seed=seed)
            blended = blend_into(tiles, raw, masks, dilate_px=int(espec["blend_dilate_px"]),
                                 feather_px=float(espec["blend_feather_px"]))
            out[(name, tag, "raw")] = raw
            out[(name, tag, "blended")] = blended
    return out


def reconstruction(models: dict, test, net, seed: int) -> dict:
    """The study's Table 2: perceptual distance of held-out images to their reconstruction (own mask / empty)."""
    from generative.defect_synth import class_map
    from generative.image_metrics import perceptual_distance

    res = {}
    d, n = test.defects(), test.normal()
    for name, model in models.items():
        rd = model.sample(len(d), condition=(d.images, class_map(d.masks, d.labels)), seed=seed)
        rn = model.sample(len(n), condition=(n.images, np.zeros_like(n.images, dtype=np.int64)), seed=seed)
        res[name] = {"defect": float(perceptual_distance(rd, d.images, net.stages).mean()),
                     "normal": float(perceptual_distance(rn, n.images, net.stages).mean())}
    return res


def in_context(models: dict, held, net, espec: dict) -> list[dict]:
    """Defect realism without the tile mismatch: each held-out defect image with its defect region re-drawn
    by the model (blended: every pixel outside the grown mask is the real image's), against the real ones;
    with the same images with the defect erased (filled from around it) as the no-defect reference."""
    from generative.defect_synth import blend_into, class_map
    from generative.defect_synth.blend import erase_defects

    erased = erase_defects(held.images, held.masks)
    rows = [score_set("held-out images, defect erased (reference)", erased, held.labels, held, net, espec)]
    for name, model in models.items():
        raw = model.sample(len(held), condition=(held.images, class_map(held.masks, held.labels)),
                           seed=int(espec["seed"]))
        redrawn = blend_into(held.images, raw, held.masks, dilate_px=int(espec["blend_dilate_px"]),
                             feather_px=float(espec["blend_feather_px"]))
        rows.append(score_set(f"{name}, defect re-drawn in its own image", redrawn, held.labels, held, net, espec))
    return rows


def evaluate(models: dict, train, test, net, espec: dict, *, copy_paste: bool = True) -> tuple[dict, dict]:
    """``(metrics, samples)``: the comparison table and the images behind it (see the module docstring)."""
    from generative.defect_synth.copy_paste import copy_paste_set

    cond = evaluation_conditions(train, test, espec)
    held, tiles = cond["held"], cond["tiles"]
    rng = np.random.default_rng(int(espec["seed"]) + 1)
    t_def = cond["train_defects"]
    floor_idx = np.concatenate([rng.choice(np.flatnonzero(t_def.labels == c), int(np.sum(held.labels == c)),
                                           replace=int(np.sum(t_def.labels == c)) < int(np.sum(held.labels == c)))
                                for c in np.unique(held.labels)])
    floor = t_def.subset(floor_idx)
    floor_row = score_set("real training defects (floor)", floor.images, floor.labels, held, net, espec)
    floor_row["class_accuracy"] = None  # the evaluation network was trained on these images: not a reference
    rows = [{"method": "real held-out defects (reference)", "n": int(len(held)), "fid": None, "kid": None,
             "kid_std": None, "class_accuracy": _class_accuracy(net, held.images, held.labels), "per_class": {}},
            floor_row, score_set("defect-free tiles (no defect)", tiles, held.labels, held, net, espec)]
    samples = synthesize_all(models, cond, espec)
    if copy_paste:
        cp, cp_masks = copy_paste_set(tiles, held.labels, t_def.images, t_def.masks, t_def.labels, rng)
        samples[("copy-paste", "held", "raw")] = cp
        rows.append(score_set("copy-paste", cp, held.labels, held, net, espec, before=tiles, masks=cp_masks))
    for name in models:
        for tag, masks, labels in (("held", held.masks, held.labels),
                                   ("new", cond["novel_masks"], cond["novel_labels"])):
            for kind in ("raw", "blended"):
                label = f"{name}{', new masks' if tag == 'new' else ''}{', blended' if kind == 'blended' else ''}"
                rows.append(score_set(label, samples[(name, tag, kind)], labels, held, net, espec,
                                      before=tiles, masks=masks))
    metrics = {
        "table": rows,
        "held_out": {"defect_images": int(len(held)), "per_class": {held.classes[int(c)]: int(np.sum(held.labels == c))
                                                                    for c in np.unique(held.labels)},
                     "tiles": int(len(tiles))},
        "new_masks": {"n": int(len(cond["novel_masks"])), "max_iou_with_real": float(cond["novel_iou"].max()),
                      "median_max_iou_with_real": float(np.median(cond["novel_iou"])),
                      "share_below_threshold": float(np.mean(cond["novel_iou"] < float(espec["novel_max_iou"])))},
        "reconstruction_perceptual": reconstruction(models, test, net, int(espec["seed"])),
        "in_context": in_context(models, held, net, espec),
        "evaluation_net_accuracy_held_out": {
            "all": _class_accuracy(net, test.images, test.labels),
            "defects": _class_accuracy(net, held.images, held.labels)},
    }
    samples["tiles"] = tiles
    samples["held"] = held
    samples["novel_masks"] = cond["novel_masks"]
    samples["novel_labels"] = cond["novel_labels"]
    return metrics, samples


# -- the run ---------------------------------------------------------------------------------------
def run(spec: dict, out: Path, *, progress: Callable[[int, int], None] | None = None, overwrite: bool = False,
        finalize: Callable | None = None) -> Path:
    spec = merge_spec(DEFAULTS, spec, "defect_synthesis")
    import torch

    from generative.defect_synth import DefectSynthesizer, Pix2PixDefect, split_defect_data, train_feature_net
    from twin.runfolder import RunFolder

    RunFolder(out, overwrite=overwrite).check_target()
    d, m, b, e, r = (spec[k] for k in ("data", "model", "baselines", "evaluation", "run"))
    torch.set_num_threads(int(r["threads"]))
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = load_data(d)
    train, test = split_defect_data(data, float(d["test_fraction"]), int(d["split_seed"]))
    timings["load_s"] = time.perf_counter() - t0
    p2p_steps = int(b["pix2pix_steps"]) or (int(m["steps"]) - int(m["feature_steps"]))
    total = int(e["feature_steps"]) + int(m["steps"]) + (p2p_steps if b["pix2pix"] else 0)
    done = {"n": 0}

    def stage(base: int) -> Callable[[int, int], None]:
        def tick(step: int, _n: int) -> None:
            if progress is not None:
                progress(base + step, total)
        return tick

    from generative.defect_synth.tensors import pick_device

    device = str(pick_device(str(r["device"])))
    t = time.perf_counter()
    net = train_feature_net(train.images, train.labels, len(data.classes), steps=int(e["feature_steps"]),
                            batch_size=int(e["feature_batch_size"]), seed=int(e["feature_seed"]), device=device,
                            progress=stage(0))
    timings["evaluation_feature_net_s"] = time.perf_counter() - t
    done["n"] = int(e["feature_steps"])
    with RunFolder(out, overwrite=overwrite) as folder:
        ckdir = folder.path("checkpoints/.keep").parent if int(m["checkpoint_every"]) else None
        t = time.perf_counter()
        syn = DefectSynthesizer(**synthesizer_params(m, int(d["size_px"]), device)).fit(
            train, seed=int(m["seed"]), checkpoint_dir=ckdir, progress=stage(done["n"]))
        timings["synthesizer_s"] = time.perf_counter() - t
        done["n"] += int(m["steps"])
        models = {SYN: syn}
        if b["pix2pix"]:
            t = time.perf_counter()
            p2p = Pix2PixDefect(steps=p2p_steps, size_px=int(d["size_px"]), batch_size=int(m["batch_size"]),
                                normal_fraction=float(m["normal_fraction"]), width=int(b["pix2pix_width"]),
                                device=device).fit(train, seed=int(m["seed"]), progress=stage(done["n"]))
            timings["pix2pix_s"] = time.perf_counter() - t
            models[P2P] = p2p
        t = time.perf_counter()
        metrics, samples = evaluate(models, train, test, net, e, copy_paste=bool(b["copy_paste"]))
        timings["evaluation_s"] = time.perf_counter() - t
        timings["total_s"] = time.perf_counter() - t0
        metrics.update({
            "data": {"source": d["folder"] or "magnetic_tile", "classes": list(data.classes),
                     "counts": data.counts(), "train": train.counts(), "held_out": test.counts(),
                     "size_px": int(d["size_px"])},
            "budget": {"threads": int(r["threads"]), "device": device, "synthesizer_steps": int(m["steps"]),
                       "phases": {"feature": int(m["feature_steps"]), "pretrain": int(m["pretrain_steps"]),
                                  "synthesis": int(m["steps"]) - int(m["feature_steps"]) - int(m["pretrain_steps"])},
                       "pix2pix_steps": p2p_steps if b["pix2pix"] else 0, "batch_size": int(m["batch_size"]),
                       "evaluation_feature_steps": int(e["feature_steps"]),
                       **{k: round(v, 1) for k, v in timings.items()}},
            "pretrained_weights": "none: every network is trained from scratch on the data above",
            "final_losses": {name: model.history_[-1] if model.history_ else {} for name, model in models.items()},
        })
        syn.save(folder.path("model.ckpt"))
        if b["pix2pix"]:
            models[P2P].save(folder.path("pix2pix.ckpt"))
        folder.write_json("metrics.json", metrics)
        # the resolved spec: its [data] split is what defect_augmentation checks before reusing model.ckpt
        import tomli_w

        folder.write_text("config.toml", tomli_w.dumps({"scenario": "defect_synthesis", **spec}))
        folder.write_text("report.html", build_report(metrics, samples, models, spec))
        if finalize is not None:
            finalize(folder, metrics)
    return Path(out)


# -- the report --------------------------------------------------------------------------------------
def _smooth(v: np.ndarray, k: int) -> np.ndarray:
    if len(v) < k or k < 2:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    return np.concatenate([v[:k - 1], (c[k:] - c[:-k]) / k])


def loss_figure(history: list[dict], title: str):
    """Loss curves (moving average over 25 steps) of every loss key in a model's history."""
    import plotly.graph_objects as go

    fig = go.Figure()
    keys = sorted({k for h in history for k in h if k != "step"})
    for k in keys:
        pts = [(h["step"], h[k]) for h in history if k in h]
        if not pts:
            continue
        s, v = np.array(pts, dtype=float).T
        fig.add_trace(go.Scatter(x=s, y=_smooth(v, 25), mode="lines", name=k))
    fig.update_layout(title=title, xaxis_title="optimiser step", yaxis_title="loss (moving average of 25)",
                      yaxis_type="log", margin=dict(l=60, r=20, t=50, b=40))
    return fig


def grid_figure(columns: list[np.ndarray], titles: list[str], scale: int = 2):
    """An image grid (one column per method) as a plotly figure holding a PNG."""
    import plotly.graph_objects as go

    from generative.defect_synth.grid import png_data_uri, tile

    img = tile(columns)
    h, w = img.shape[:2]
    fig = go.Figure(go.Image(source=png_data_uri(img, scale), dx=1 / scale, dy=1 / scale))
    cell = columns[0].shape[2] + 2
    for j, t in enumerate(titles):
        fig.add_annotation(x=2 + j * cell + cell / 2, y=-4, text=t, showarrow=False, yanchor="bottom",
                           font=dict(size=11))
    fig.update_xaxes(visible=False, range=[0, w])
    fig.update_yaxes(visible=False, range=[h, -24], scaleanchor="x")
    fig.update_layout(margin=dict(l=5, r=5, t=10, b=5))
    return fig, int((h + 24) * scale * 0.9 + 20)


def build_report(metrics: dict, samples: dict, models: dict, spec: dict) -> str:
    from generative.defect_synth import overlay
    from generative.defect_synth.maps import class_map
    from scenarios.report_html import Section, esc, figure_html, fmt, page_html, table_html

    def main_table(rows: list[dict]) -> str:
        return table_html(
            [[r["method"], r["n"], fmt(r["fid"], 2), fmt(r["kid"], 3), fmt(r["kid_std"], 3),
              fmt(r["class_accuracy"], 2), fmt(r.get("outside_changed_fraction"), 4),
              fmt(r.get("inside_mean_abs_change"), 3)] for r in rows],
            ["method", "n", "FID ↓", "KID ↓", "KID std", "classified as requested",
             "outside-mask changed", "mean |change| inside"], numeric=[False] + [True] * 7)

    table = main_table(metrics["table"])
    bud = metrics["budget"]
    caption = (f"Held-out real defect images: {metrics['held_out']['defect_images']} "
               f"({', '.join(f'{k} {v}' for k, v in metrics['held_out']['per_class'].items())}), each method "
               f"paints their masks (new masks: moved/scaled/rotated training masks) onto held-out defect-free "
               f"tiles. Features: a CNN trained from scratch on the training images (held-out accuracy "
               f"{fmt(metrics['evaluation_net_accuracy_held_out']['all'], 3)}); FID/KID are on these features, "
               f"comparable between rows, not with Inception figures. <i>Classified as requested</i>: share the "
               f"evaluation network assigns to the requested class (on real held-out defects: "
               f"{fmt(metrics['evaluation_net_accuracy_held_out']['defects'], 2)}). Outside-mask changed: share "
               f"of pixels outside the requested mask changed by more than {spec['evaluation']['change_tol']} "
               f"(0..1 scale; copy-paste: outside its donor's mask). "
               f"Budget: {bud['threads']} thread(s) on {esc(bud['device'])}; synthesizer {bud['synthesizer_steps']} "
               f"steps ({bud['phases']['feature']} feature / {bud['phases']['pretrain']} pretraining / "
               f"{bud['phases']['synthesis']} synthesis, batch {bud['batch_size']}) in "
               f"{fmt(bud.get('synthesizer_s'), 0)} s; pix2pix {bud['pix2pix_steps']} steps in "
               f"{fmt(bud.get('pix2pix_s'), 0)} s; whole run {fmt(bud.get('total_s'), 0)} s. No pretrained weights.")
    sections = [Section("Comparison", caption, table, "table")]
    if metrics.get("in_context"):
        sections.append(Section(
            "Defects in their own images",
            "The defect-free tiles differ from the defect images in more than the defect (lighting, framing, aspect "
            "ratio before resizing), and the features see it: compare the floor and the defect-free row above. "
            "Here each held-out defect image keeps its own surface and only the (1 px grown) mask region is "
            "re-drawn by the model; the reference erases the defect by filling the mask from its surroundings.",
            main_table(metrics["in_context"]), "in-context"))
    per_class_rows = [r for r in metrics["table"] if r.get("per_class")]
    class_names = sorted({c for r in per_class_rows for c in r["per_class"]})
    if class_names:
        sections.append(Section(
            "Per class", "KID against the held-out images of each class (few images per class: read the std).",
            table_html([[r["method"]] + [f"{fmt(r['per_class'][c]['kid'], 3)} ± {fmt(r['per_class'][c]['kid_std'], 3)}"
                                         if c in r["per_class"] else "—" for c in class_names]
                        for r in per_class_rows], ["method"] + class_names,
                       numeric=[False] + [True] * len(class_names)), "per-class"))
    rec = metrics["reconstruction_perceptual"]
    sections.append(Section(
        "Reconstruction (study, Table 2)",
        "Perceptual (LPIPS-like) distance between held-out images and the model's output for them: defect images "
        "with their own mask, defect-free tiles with an empty map. Lower is better.",
        table_html([[k, fmt(v["normal"], 4), fmt(v["defect"], 4)] for k, v in rec.items()],
                   ["method", "normal", "defect"], numeric=[False, True, True]), "reconstruction"))
    curves = "".join(figure_html(loss_figure(m.history_, name), f"loss-{i}", 380)
                     for i, (name, m) in enumerate(models.items()))
    sections.append(Section("Loss curves", "Per optimiser step. The synthesizer's phases: <code>feature_ce</code> "
                            "(feature network), <code>pre_*</code> (unconditional pretraining), then synthesis "
                            "(<code>pix</code>, <code>perc</code>, <code>inv</code>, <code>adv</code>, "
                            "<code>d</code>).", curves, "losses"))
    held, tiles = samples["held"], samples["tiles"]
    k = int(spec["evaluation"]["grid_per_class"])
    pick = np.concatenate([np.flatnonzero(held.labels == c)[:k] for c in np.unique(held.labels)])
    cm = class_map(held.masks, held.labels)
    cols = [tiles[pick], overlay(tiles[pick], cm[pick])]
    titles = ["tile", "map"]
    for name in models:
        cols += [samples[(name, "held", "raw")][pick], samples[(name, "held", "blended")][pick]]
        titles += [f"{name.split(' ')[0]} raw", f"{name.split(' ')[0]} blended"]
    if ("copy-paste", "held", "raw") in samples:
        cols.append(samples[("copy-paste", "held", "raw")][pick])
        titles.append("copy-paste")
    cols.append(held.images[pick])
    titles.append("real (held out)")
    fig, hpx = grid_figure(cols, titles)
    classes = ", ".join(f"{held.classes[int(c)]}" for c in np.unique(held.labels))
    sections.append(Section("Samples: held-out masks", f"{k} rows per class ({esc(classes)}), top to bottom. Each row: "
                            "a held-out defect-free tile, the held-out mask in its class colour, the outputs, and the "
                            "real held-out image that mask came from (its own tile).",
                            figure_html(fig, "grid-held", hpx), "samples"))
    ncm = class_map(samples["novel_masks"], samples["novel_labels"])
    nl = samples["novel_labels"]
    npick = np.concatenate([np.flatnonzero(nl == c)[:k] for c in np.unique(nl)])
    cols = [tiles[npick], overlay(tiles[npick], ncm[npick])]
    titles = ["tile", "new mask"]
    for name in models:
        cols += [samples[(name, "new", "raw")][npick], samples[(name, "new", "blended")][npick]]
        titles += [f"{name.split(' ')[0]} raw", f"{name.split(' ')[0]} blended"]
    fig, hpx = grid_figure(cols, titles)
    nm = metrics["new_masks"]
    sections.append(Section("Samples: new masks", f"Real training masks moved, scaled, rotated and mirrored; largest "
                            f"IoU of any new mask with any real mask {fmt(nm['max_iou_with_real'], 2)} (median "
                            f"{fmt(nm['median_max_iou_with_real'], 2)}).", figure_html(fig, "grid-new", hpx), "new"))
    syn = models.get(SYN)
    if syn is not None and hasattr(syn, "generate"):
        g = syn.generate(24, seed=0)
        fig, hpx = grid_figure([g[i::6] for i in range(6)], [""] * 6)
        sections.append(Section("Pretrained generator", "Unconditional samples of the decoder as pretraining left it "
                                "and synthesis fine-tuned it (<code>S(M(z))</code>).",
                                figure_html(fig, "grid-gen", hpx), "generator"))
    return page_html("Defect synthesis", "SyNDGAN-like synthesizer vs pix2pix and copy-paste on held-out real "
                     "defect images", sections)
