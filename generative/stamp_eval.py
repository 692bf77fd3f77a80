"""How real do the twin's characters look, with and without the stamp cGAN? Domain FID on held-out real crops.

Two comparisons, both against **held-out real patches** (pairs the cGAN
never saw, see :mod:`generative.stamp_realdata`), in the features of a
digit classifier trained on the training split's real patches
(:mod:`generative.stamp_features`), with FID/KID from
:mod:`generative.image_metrics`:

* **patch level** (:func:`patch_level`): for each held-out pair, the
  procedural rendering of its mask on its painted-out background (what
  physics alone gives) and the cGAN's translation of it (one checkpoint,
  and the checkpoint pool). Same masks, same metal: only the stroke
  rendering differs. Also reported: the mean absolute pixel error to the
  real patch (the pairs are aligned), and how often the real-trained
  classifier reads the right digit (a readability check).
* **face level** (:func:`face_level`): whole billet faces rendered by the
  twin's :class:`~physics.billet_render.face_renderer.BilletFaceRenderer`
  with the same seeds without and with the cGAN texture hook; every
  character is cut out around its exact box (square, the footprint 0.58
  of the side, as the training patches) and compared with the held-out
  real patches. The faces went through the camera (perspective, blur,
  noise), which the stand-in real patches did not: absolute values are
  high for both, the difference between the two is the cGAN's effect.
  The boxes of the two renders are checked to be identical.

At patch level two references are used. **Paired**: against the
held-out real patches of the *same* masks and metal — the sharpest
comparison of procedural vs cGAN, but it has no floor (a generated set
that copies its conditions' layout can come closer to its own real
partners than any independent real set). **Unpaired**: against the
*training* real patches (other photos), next to the held-out real patches
as the floor — FID is biased at a few hundred samples, so the floor is the
distance a perfect generator would still show.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from generative.image_metrics import fid_kid
from generative.stamp_pairs import StampPairs
from generative.stamp_procedural import procedural_inputs

__all__ = ["to_u8", "patch_level", "face_level", "digit_accuracy", "crop_characters"]


def to_u8(a: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8."""
    return np.clip(np.asarray(a, np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _extractor(net: torch.nn.Module):
    return net.embed


def digit_accuracy(net: torch.nn.Module, images_u8: np.ndarray, labels: np.ndarray) -> float:
    """Share of patches the classifier reads as their digit."""
    x = torch.from_numpy(images_u8.astype(np.float32) / 127.5 - 1.0)[:, None]
    dev = next(net.parameters()).device
    with torch.no_grad():
        pred = torch.cat([net(x[i:i + 256].to(dev)).argmax(1).cpu() for i in range(0, len(x), 256)]).numpy()
    return float(np.mean(pred == np.asarray(labels)))


def _fid(real_u8: np.ndarray, fake_u8: np.ndarray, net, seed: int) -> dict:
    m = min(len(real_u8), len(fake_u8))
    return fid_kid(real_u8, fake_u8, _extractor(net), n_subsets=50, subset_size=min(100, m), seed=seed)


def patch_level(model, pool, holdout: StampPairs, train: StampPairs, net, *, seed: int = 0,
                procedural_seed: int = 1000) -> tuple[dict, dict]:
    """Patch-level metrics (see the module docstring) and the patches (uint8) behind them."""
    proc = procedural_inputs(holdout, 1, procedural_seed, float(model.char_height_mm))[:, 0]
    gan = to_u8(model.translate(holdout.masks, proc))
    gan_pool, picks = pool.translate(holdout.masks, proc, np.random.default_rng(seed))
    gan_pool = to_u8(gan_pool)
    real, real_train = to_u8(holdout.images), to_u8(train.images)
    labels = holdout.labels
    out = {"n_holdout": len(holdout), "n_train": len(train),
           "paired": {"procedural": _fid(real, proc, net, seed), "procedural_cgan": _fid(real, gan, net, seed),
                      "procedural_cgan_pool": _fid(real, gan_pool, net, seed)},
           "unpaired": {"real_holdout": _fid(real_train, real, net, seed),
                        "procedural": _fid(real_train, proc, net, seed),
                        "procedural_cgan": _fid(real_train, gan, net, seed),
                        "procedural_cgan_pool": _fid(real_train, gan_pool, net, seed)},
           "pool_picks": np.bincount(picks, minlength=len(pool)).tolist()}
    err = lambda a: float(np.mean(np.abs(a.astype(np.float32) - real.astype(np.float32))) / 255.0)  # noqa: E731
    out["mean_abs_error_to_real"] = {"procedural": err(proc), "procedural_cgan": err(gan),
                                     "procedural_cgan_pool": err(gan_pool)}
    if labels is not None and (labels >= 0).all():
        out["digit_accuracy"] = {"real": digit_accuracy(net, real, labels),
                                 "procedural": digit_accuracy(net, proc, labels),
                                 "procedural_cgan": digit_accuracy(net, gan, labels),
                                 "procedural_cgan_pool": digit_accuracy(net, gan_pool, labels)}
    return out, {"masks": to_u8(holdout.masks), "procedural": proc, "cgan": gan, "cgan_pool": gan_pool,
                 "real": real, "picks": picks}


def crop_characters(image: np.ndarray, boxes: np.ndarray, present: np.ndarray, size: int,
                    glyph_frac: float = 0.58) -> np.ndarray:
    """uint8 (k, size, size): each present character's square crop (box height = ``glyph_frac`` of the side)."""
    grey = image if image.ndim == 2 else (image.astype(np.float32) @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    img = Image.fromarray(grey, "L")
    out = []
    for (x0, y0, x1, y1), ok in zip(boxes, present):
        if not ok:
            continue
        side = max(y1 - y0, (x1 - x0) / 0.9 * glyph_frac) / glyph_frac
        cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
        out.append(np.asarray(img.transform((size, size), Image.Transform.EXTENT, box, Image.Resampling.BILINEAR)))
    return np.stack(out) if out else np.zeros((0, size, size), np.uint8)


def face_level(renderer_plain, renderer_gan, holdout: StampPairs, net, *, faces: int = 12, seed: int = 0,
               site: str = "A") -> tuple[dict, dict]:
    """Face-level metrics (see the module docstring) and example faces and crops."""
    size = holdout.size
    rng = np.random.default_rng(seed)
    crops_plain, crops_gan, examples, labels = [], [], [], []
    boxes_equal, changed_outside = True, 0
    for k in range(int(faces)):
        chars = "".join(str(d) for d in rng.integers(0, 10, size=11))
        depth = rng.uniform(0.8, 2.0, size=11)
        vis = np.ones(11)
        face_seed = int(rng.integers(0, 2**62))
        a = renderer_plain.render(chars, depth, vis, site, np.random.default_rng(face_seed))
        b = renderer_gan.render(chars, depth, vis, site, np.random.default_rng(face_seed))
        boxes_equal &= bool(np.array_equal(a.boxes, b.boxes) and np.array_equal(a.present, b.present)
                            and np.array_equal(a.label_map, b.label_map))
        near = np.zeros(a.image.shape[:2], bool)
        for (x0, y0, x1, y1), ok in zip(a.boxes, a.present):
            if ok:
                m = int(0.6 * (y1 - y0)) + 4
                near[max(0, y0 - m):y1 + m, max(0, x0 - m):x1 + m] = True
        diff = np.abs(a.image.astype(np.int16) - b.image.astype(np.int16))
        diff = diff if diff.ndim == 2 else diff.max(axis=2)
        changed_outside += int(((diff > 0) & ~near).sum())
        crops_plain.append(crop_characters(a.image, a.boxes, a.present, size))
        crops_gan.append(crop_characters(b.image, b.boxes, b.present, size))
        labels += [int(c) for c, ok in zip(chars, a.present) if ok]
        if len(examples) < 2:
            examples.append((a.image, b.image))
    plain, gan = np.concatenate(crops_plain), np.concatenate(crops_gan)
    real = to_u8(holdout.images)
    lab = np.asarray(labels)
    out = {"faces": int(faces), "characters": int(len(plain)), "boxes_identical": boxes_equal,
           "pixels_changed_away_from_characters": changed_outside,
           "procedural": _fid(real, plain, net, seed), "procedural_cgan": _fid(real, gan, net, seed),
           "digit_accuracy": {"procedural": digit_accuracy(net, plain, lab),
                              "procedural_cgan": digit_accuracy(net, gan, lab)}}
    return out, {"crops_plain": plain, "crops_gan": gan, "faces": examples}
