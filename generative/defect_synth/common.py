"""What the defect models share: data preparation, batches, the (normal image, defect map) condition.

:class:`DefectModelBase` is a :class:`~generative.base.GenerativeModel`
for images with defect maps; :class:`~generative.defect_synth.synthesizer.DefectSynthesizer`
(SyNDGAN-like) and the :class:`~generative.defect_synth.pix2pix.Pix2PixDefect`
baseline are built on it, so both train on the same batches and are
sampled the same way::

    model.fit(train_data, seed=0)                       # a DefectData
    out = model.sample(n, condition=(normal_images, defect_maps), seed=1)

``normal_images``: uint8 (n, S, S) defect-free images (or floats in [0, 1]);
``defect_maps``: a class map (n, S, S) of ints (0 = no defect, k = class
``classes_[k]``) or a one-hot map (n, K, S, S) (:mod:`~generative.defect_synth.maps`).
The result is uint8 (n, S, S): each normal image with the requested
defects. One condition row is broadcast to all n.

**The input the networks see** (the SyNDGAN study's "image masked by the
segmentation map"): the image with the defect region blanked,
``x * (1 - mask)``, with the one-hot map as K extra channels. At training
time the image is a real defect image and the target is that same image:
the defect under the mask must be recreated from its class, its shape and
the surrounding surface. At synthesis time the image is a normal one, and
the model paints a defect of the requested class into the blanked region.

**Batches**: a fixed share ``normal_fraction`` of each batch are normal
images with an empty map (reconstruct the surface unchanged); the rest
are defect images drawn class-balanced (each defect class equally often:
32 Fray images count as much as 115 Blowholes) with a non-empty mask.
Every image is mirrored left-right with probability 1/2. All draws come
from the numpy Generator the base class hands to ``_train_step``.

The data are kept as tensors on the model's device for the whole ``fit``
(prepared once: a training step only indexes them). A fitted model keeps
up to ``MASK_BANK_PER_CLASS`` real masks of each class (``mask_bank_``,
``mask_bank_labels_``; saved with it), so that new masks can be drawn from
them (:func:`~generative.defect_synth.masks.novel_masks`) without the
training data.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from generative.base import GenerativeModel
from generative.defect_synth.data import DefectData
from generative.defect_synth.features import mirror
from generative.defect_synth.maps import as_class_map, one_hot_map
from generative.defect_synth.tensors import pick_device, to_images, to_tensor

__all__ = ["DefectModelBase", "masked_input", "MASK_BANK_PER_CLASS"]

#: Real masks per class kept with a fitted model (``mask_bank_``): sources of new masks at sampling time.
MASK_BANK_PER_CLASS = 200


def masked_input(x: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    """``cat(x * (1 - mask), onehot)``: the image with the defect region blanked, plus the map."""
    m = onehot.sum(1, keepdim=True).clamp(max=1.0)
    return torch.cat([x * (1.0 - m), onehot], 1)


class DefectModelBase(GenerativeModel):
    """Shared preparation, batches and sampling of the defect models (see the module docstring)."""

    _param_names: tuple[str, ...] = ("steps", "checkpoint_every", "size_px", "batch_size", "normal_fraction",
                                     "device")

    def __init__(self, steps: int = 1000, checkpoint_every: int = 0, size_px: int = 64, batch_size: int = 8,
                 normal_fraction: float = 0.25, device: str = "auto"):
        super().__init__(steps, checkpoint_every)
        self.size_px = size_px
        self.batch_size = batch_size
        self.normal_fraction = normal_fraction
        self.device = device

    # -- preparation -------------------------------------------------------------
    def _prepare(self, data: Any) -> None:
        if not isinstance(data, DefectData):
            raise TypeError(f"{type(self).__name__}.fit expects a DefectData, got {type(data).__name__}")
        if data.size_px != int(self.size_px):
            raise ValueError(f"images are {data.size_px} px, the model is set for size_px={self.size_px}")
        if not 0.0 <= float(self.normal_fraction) < 1.0:
            raise ValueError(f"normal_fraction must be in [0, 1), got {self.normal_fraction}")
        if int(self.batch_size) < 2:
            raise ValueError(f"batch_size must be >= 2, got {self.batch_size}")
        self._set_classes(data.classes)
        has_mask = data.masks.reshape(len(data), -1).any(1)
        self.pools_ = [np.flatnonzero((data.labels == k) & has_mask) for k in range(1, len(data.classes))]
        if not any(len(p) for p in self.pools_):
            raise ValueError("no defect image with a non-empty mask to learn from")
        self.normal_pool_ = np.flatnonzero(data.labels == 0)
        if float(self.normal_fraction) > 0 and len(self.normal_pool_) == 0:
            raise ValueError("normal_fraction > 0 but the data hold no normal images")
        self.class_pools_ = [np.flatnonzero(data.labels == k) for k in range(len(data.classes))]
        bank = np.concatenate([p[:MASK_BANK_PER_CLASS] for p in self.pools_])
        self.mask_bank_ = data.masks[bank].copy()
        self.mask_bank_labels_ = data.labels[bank].copy()
        dev = self.device_
        self._x = to_tensor(data.images, dev)
        self._cmap = torch.as_tensor(np.where(data.masks, data.labels[:, None, None], 0).astype(np.int64), device=dev)
        self._labels = torch.as_tensor(data.labels, device=dev)

    def _set_classes(self, classes) -> None:
        self.classes_ = tuple(str(c) for c in classes)
        self.n_maps_ = len(self.classes_) - 1
        self.device_ = pick_device(str(self.device))

    def _prepared_state(self) -> dict:
        return {"classes": list(self.classes_), "mask_bank": torch.from_numpy(self.mask_bank_),
                "mask_bank_labels": torch.from_numpy(self.mask_bank_labels_)}

    def _restore_prepared(self, state: dict) -> None:
        self._set_classes(state["classes"])
        self.mask_bank_ = state["mask_bank"].numpy().astype(bool)
        self.mask_bank_labels_ = state["mask_bank_labels"].numpy().astype(np.int64)

    # -- batches ---------------------------------------------------------------------
    def _draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices of a training batch (normal share first, then class-balanced defects) and mirror flags."""
        n_norm = int(round(float(self.normal_fraction) * n)) if len(self.normal_pool_) else 0
        norm = self.normal_pool_[rng.integers(0, len(self.normal_pool_), n_norm)] if n_norm else np.empty(0, np.int64)
        pools = [p for p in self.pools_ if len(p)]
        cls = rng.integers(0, len(pools), n - n_norm)
        within = rng.random(n - n_norm)
        defect = np.array([pools[c][int(u * len(pools[c]))] for c, u in zip(cls, within)], dtype=np.int64)
        return np.concatenate([norm, defect]), rng.random(n) < 0.5

    def _batch(self, idx: np.ndarray, flip: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (B, 1, S, S) and one-hot maps (B, K, S, S) of the indices, mirrored where ``flip``."""
        ix = torch.as_tensor(idx, device=self._x.device)
        x = mirror(self._x.index_select(0, ix), flip)
        cm = mirror(self._cmap.index_select(0, ix), flip)
        return x, one_hot_map(cm, self.n_maps_).to(x.device)

    # -- sampling ----------------------------------------------------------------------
    def _translate(self, x_in: torch.Tensor, onehot: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """The model's image for the masked input and map (subclasses)."""
        raise NotImplementedError

    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> np.ndarray:
        normal, cmap = self._parse_condition(n, condition)
        out = []
        for i in range(0, n, 64):
            x = to_tensor(normal[i:i + 64], self.device_)
            onehot = one_hot_map(cmap[i:i + 64], self.n_maps_).to(self.device_)
            out.append(to_images(self._translate(masked_input(x, onehot), onehot, gen)))
        return np.concatenate(out)

    def _parse_condition(self, n: int, condition: Any) -> tuple[np.ndarray, np.ndarray]:
        if not (isinstance(condition, (tuple, list)) and len(condition) == 2):
            raise ValueError("condition must be (normal_images, defect_maps)")
        normal, maps = condition
        normal = normal.detach().cpu().numpy() if isinstance(normal, torch.Tensor) else np.asarray(normal)
        cmap = as_class_map(maps, self.n_maps_)
        if normal.ndim == 2:
            normal = normal[None]
        if cmap.ndim == 2:
            cmap = cmap[None]
        s = int(self.size_px)
        if normal.shape[1:] != (s, s) or cmap.shape[1:] != (s, s):
            raise ValueError(f"normal images {normal.shape} and defect maps {cmap.shape} must be (n, {s}, {s})")
        normal = _broadcast(normal, n, "normal images")
        cmap = _broadcast(cmap, n, "defect maps")
        return normal, cmap


def _broadcast(a: np.ndarray, n: int, what: str) -> np.ndarray:
    if len(a) == n:
        return a
    if len(a) == 1:
        return np.repeat(a, n, axis=0)
    raise ValueError(f"{what}: {len(a)} rows for n={n} samples (give n rows or one)")
