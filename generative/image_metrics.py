"""Image-set metrics on a domain feature extractor: FID, KID, a perceptual (LPIPS-like) distance.

Why not torchmetrics / torch-fidelity: both compute FID/KID on Inception-v3
with ImageNet weights, which cannot be downloaded here and which would
measure ImageNet features anyway. What matters for a plant is distance in
features that know its surfaces: these functions take **any** feature
extractor — here the small CNN of
:mod:`generative.defect_synth.features`, trained from scratch on the real
images in question — and implement the estimators themselves with numpy
and scipy (a dependency the project already has). Numbers are therefore
comparable between runs that use the same extractor, **not** with
published Inception FIDs.

* **FID** (Heusel et al. 2017): Fréchet distance between Gaussians fitted
  to the two feature sets, ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2)``
  (the trace of the matrix square root from the eigenvalues of the
  symmetric ``S_a^1/2 S_b S_a^1/2``, ``scipy.linalg.eigh``: the value of
  ``Tr(sqrtm(S_a S_b))`` without its complex round-off or the ridge
  pytorch-fid adds when the product is singular). Biased for small
  sets: with n ≈ 100 images even two halves of one real set are far from 0,
  so always report it next to a real-vs-real floor.
* **KID** (Bińkowski et al. 2018): squared MMD with the polynomial kernel
  ``k(x, y) = (x.y / d + 1)^3``, the **unbiased** estimator (diagonal terms
  left out), averaged over ``n_subsets`` random subsets of ``subset_size``
  per side; the standard deviation over the subsets is reported with it.
  Its expectation is 0 when both sets come from one distribution (it can
  be slightly negative).
* **Perceptual distance** (LPIPS-like, Zhang et al. 2018): each stage's
  feature vectors are scaled to unit length across channels, the squared
  difference is averaged over positions and summed over stages. LPIPS's
  learned per-channel weights are left out (uniform weights): no human
  judgements to calibrate them here.
* **Outside-mask change**: the share of pixels outside a defect mask that a
  synthesizer changed by more than ``tol`` — does the defect stay where it
  was asked to be?

An *extractor* is any callable mapping a float tensor batch
``(N, C, H, W)`` to a ``(N, d)`` tensor or array (FID, KID); a *stage
extractor* maps a batch to a list of ``(N, C_l, H_l, W_l)`` maps
(perceptual distance). Images are passed as uint8 ``(N, H, W)`` grey
arrays (converted to ``(N, 1, H, W)`` in [-1, 1]) or as ready tensors.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from scipy import linalg, ndimage

__all__ = ["as_batch", "extract_features", "frechet_distance", "kid", "mmd2_unbiased", "polynomial_kernel",
           "fid_kid", "perceptual_from_features", "perceptual_distance", "outside_mask_change"]

Extractor = Callable[[torch.Tensor], "torch.Tensor | np.ndarray"]


def as_batch(images) -> torch.Tensor:
    """uint8 (N, H, W) → float (N, 1, H, W) in [-1, 1]; a float tensor (N, C, H, W) passes through."""
    if isinstance(images, torch.Tensor) and images.dtype.is_floating_point and images.dim() == 4:
        return images
    arr = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if arr.dtype != np.uint8:
        raise ValueError("images must be uint8 (N, H, W) arrays or float (N, C, H, W) tensors in [-1, 1]")
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4:
        raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got shape {arr.shape}")
    return torch.from_numpy(arr.astype(np.float32) / 127.5 - 1.0)


def extract_features(images, extractor: Extractor, *, batch_size: int = 64) -> np.ndarray:
    """Features (N, d) float64 of the images by ``extractor`` (no gradients, in batches)."""
    x = as_batch(images)
    dev = _device_of(extractor)
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            f = extractor(x[i:i + batch_size].to(dev))
            f = f.detach().cpu().numpy() if isinstance(f, torch.Tensor) else np.asarray(f)
            out.append(f.reshape(len(f), -1).astype(np.float64))
    if not out:
        raise ValueError("no images")
    return np.concatenate(out)


def _device_of(extractor) -> torch.device:
    owner = getattr(extractor, "__self__", extractor)
    if isinstance(owner, torch.nn.Module):
        for p in owner.parameters():
            return p.device
    return torch.device("cpu")


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """FID between two feature sets (N_a, d) and (N_b, d) (each N >= 2)."""
    a, b = np.asarray(feats_a, np.float64), np.asarray(feats_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (N, d) with one d, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("FID needs at least 2 samples per set")
    mu_a, mu_b = a.mean(0), b.mean(0)
    sa, sb = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    tr_covmean = _trace_sqrt_product(sa, sb)
    diff = mu_a - mu_b
    return float(max(0.0, diff @ diff + np.trace(sa) + np.trace(sb) - 2.0 * tr_covmean))


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _trace_sqrt_product(sa: np.ndarray, sb: np.ndarray) -> float:
    """``Tr((S_a S_b)^1/2)`` as ``sum sqrt(eig(S_a^1/2 S_b S_a^1/2))``: the same number (similar matrices),
    computed on a symmetric positive semi-definite matrix, so no complex round-off and no singular
    cases (few samples, more dimensions than samples) to patch."""
    ha = _psd_sqrt(sa)
    m = ha @ sb @ ha
    w = linalg.eigvalsh((m + m.T) / 2.0)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """KID's kernel ``(x.y / d + 1)^3``."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased squared MMD with :func:`polynomial_kernel` (within-set diagonals left out)."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError("the unbiased MMD needs at least 2 samples per set")
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.mean())


def kid(feats_a: np.ndarray, feats_b: np.ndarray, *, n_subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """KID ``(mean, std)`` over ``n_subsets`` subsets of ``min(subset_size, N_a, N_b)`` samples per side."""
    a, b = np.asarray(feats_a, np.float64), np.asarray(feats_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (N, d) with one d, got {a.shape} and {b.shape}")
    m = min(int(subset_size), len(a), len(b))
    rng = np.random.default_rng(seed)
    vals = np.array([mmd2_unbiased(a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)])
                     for _ in range(int(n_subsets))])
    return float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else 0.0


def fid_kid(real, fake, extractor: Extractor, *, n_subsets: int = 100, subset_size: int = 1000, seed: int = 0,
            batch_size: int = 64) -> dict:
    """``{"fid", "kid", "kid_std", "n_real", "n_fake"}`` of two image sets on one extractor."""
    fr = extract_features(real, extractor, batch_size=batch_size)
    ff = extract_features(fake, extractor, batch_size=batch_size)
    k, ks = kid(fr, ff, n_subsets=n_subsets, subset_size=subset_size, seed=seed)
    return {"fid": frechet_distance(fr, ff), "kid": k, "kid_std": ks, "n_real": len(fr), "n_fake": len(ff)}


def perceptual_from_features(feats_a: Sequence[torch.Tensor], feats_b: Sequence[torch.Tensor],
                             reduce: bool = True) -> torch.Tensor:
    """LPIPS-like distance of two lists of stage maps (differentiable; per pair when ``reduce=False``)."""
    total = None
    for fa, fb in zip(feats_a, feats_b):
        na = fa / (fa.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        nb = fb / (fb.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        d = (na - nb).pow(2).sum(1).mean((1, 2))
        total = d if total is None else total + d
    return total.mean() if reduce else total


def perceptual_distance(images_a, images_b, stage_extractor: Callable[[torch.Tensor], list],
                        *, batch_size: int = 64) -> np.ndarray:
    """Per-pair perceptual distance (N,) between two aligned image sets (see the module docstring)."""
    a, b = as_batch(images_a), as_batch(images_b)
    if a.shape != b.shape:
        raise ValueError(f"image sets must have one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    dev = _device_of(stage_extractor)
    out = []
    with torch.no_grad():
        for i in range(0, len(a), batch_size):
            fa = stage_extractor(a[i:i + batch_size].to(dev))
            fb = stage_extractor(b[i:i + batch_size].to(dev))
            out.append(perceptual_from_features(fa, fb, reduce=False).cpu().numpy())
    return np.concatenate(out).astype(np.float64)


def outside_mask_change(before: np.ndarray, after: np.ndarray, masks: np.ndarray, *, tol: float = 0.1,
                        dilate_px: int = 0) -> dict:
    """How much a synthesizer changed the image outside the defect mask.

    ``before``/``after``: uint8 (N, H, W) (or floats in [0, 1]); ``masks``:
    bool (N, H, W). A pixel is *changed* when ``|after - before| > tol`` on
    the 0..1 scale (``tol=0.1``: about 26 grey levels). ``dilate_px`` grows
    the mask first (a tolerance band around it). Returns the fraction of
    outside pixels changed (all images pooled), its per-image values, the
    mean absolute change outside and inside, and the fraction of inside
    pixels changed (did anything happen where the defect was asked for?).
    """
    b = _unit(before)
    a = _unit(after)
    m = np.asarray(masks, dtype=bool)
    if not (a.shape == b.shape == m.shape):
        raise ValueError(f"before {b.shape}, after {a.shape} and masks {m.shape} must have one shape")
    if dilate_px > 0:
        st = ndimage.generate_binary_structure(2, 2)
        m = np.stack([ndimage.binary_dilation(mi, st, iterations=int(dilate_px)) for mi in m])
    diff = np.abs(a - b)
    changed = diff > tol
    out = ~m
    n_out = out.reshape(len(m), -1).sum(1)
    per_image = np.where(n_out > 0, (changed & out).reshape(len(m), -1).sum(1) / np.maximum(n_out, 1), 0.0)
    return {
        "outside_changed_fraction": float((changed & out).sum() / max(out.sum(), 1)),
        "outside_changed_fraction_per_image": per_image.tolist(),
        "outside_mean_abs_change": float(diff[out].mean()) if out.any() else 0.0,
        "inside_mean_abs_change": float(diff[m].mean()) if m.any() else 0.0,
        "inside_changed_fraction": float((changed & m).sum() / max(m.sum(), 1)),
        "tol": float(tol), "dilate_px": int(dilate_px),
    }


def _unit(images) -> np.ndarray:
    arr = np.asarray(images)
    return arr.astype(np.float64) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float64)
