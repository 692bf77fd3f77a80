"""A surface-defect image classifier: torchvision ResNet-18 or EfficientNet-B0, trained from scratch.

No pretrained weights can be downloaded here, so the network starts from
random weights (seeded) and learns from the images it is given: grey
images, one input channel (the first convolution is replaced), normalised
by the training set's own mean and standard deviation.

Training: AdamW with a cosine learning-rate schedule, cross-entropy with
class weights (inverse class frequency, or its square root with
``class_weights="sqrt"``, normalised to mean 1: the rare defect classes —
magnetic tile has 32 ``Fray`` images against 952 ``Free`` — count more), augmentation by the symmetries a
surface image has (horizontal and vertical flips, quarter turns) plus a
brightness/contrast jitter; optionally CutMix (``cutmix`` = the share of
batches mixed: a random box of each image is replaced by the same box of
another image of the batch, and the loss is the area-weighted sum of the
two images' losses; Yun et al. 2019, *CutMix*, ICCV, with the box area
drawn from Beta(1, 1)). Everything random comes from ``seed``: weights
(inside ``torch.random.fork_rng``, so the caller's global torch state is
untouched), batch order and augmentation (one numpy Generator).

Files: :meth:`save` writes the learner envelope of :mod:`learners.storage`
(checked on load: a corrupt, truncated or foreign file is a
:class:`~learners.storage.LearnerFileError` naming it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from learners.defects.image_folder import ImageSet
from learners.storage import LearnerFileError, read_learner_file, torch_payload, untorch_payload, write_learner_file

__all__ = ["DefectClassifier", "ARCHITECTURES"]

ARCHITECTURES = ("resnet18", "efficientnet_b0")
_CLASS = "learners.defects.classifier.DefectClassifier"


def build_network(arch: str, n_classes: int) -> nn.Module:
    """A torchvision network with random weights, one grey input channel and ``n_classes`` outputs."""
    import torchvision

    if arch == "resnet18":
        net = torchvision.models.resnet18(weights=None, num_classes=n_classes)
        net.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    elif arch == "efficientnet_b0":
        net = torchvision.models.efficientnet_b0(weights=None, num_classes=n_classes)
        old = net.features[0][0]
        net.features[0][0] = nn.Conv2d(1, old.out_channels, kernel_size=old.kernel_size, stride=old.stride,
                                       padding=old.padding, bias=False)
    else:
        raise ValueError(f"arch must be one of {', '.join(ARCHITECTURES)}, got {arch!r}")
    return net


class DefectClassifier:
    """Image classifier; ``fit(ImageSet)``, ``predict(images)``, ``save`` / ``load``."""

    def __init__(self, arch: str = "resnet18", size_px: int = 128, epochs: int = 20, batch_size: int = 32,
                 lr: float = 2e-3, weight_decay: float = 1e-4, class_weights: bool = True, augment: bool = True,
                 seed: int = 0, cutmix: float = 0.0):
        self.arch = arch
        self.size_px = size_px
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.class_weights = class_weights
        self.augment = augment
        self.seed = seed
        self.cutmix = cutmix

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in ("arch", "size_px", "epochs", "batch_size", "lr", "weight_decay",
                                              "class_weights", "augment", "seed", "cutmix")}

    # -- training -----------------------------------------------------------
    def fit(self, data: ImageSet, progress: Callable[[int, int], None] | None = None) -> "DefectClassifier":
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {', '.join(ARCHITECTURES)}, got {self.arch!r}")
        if data.images.shape[1:] != (self.size_px, self.size_px):
            raise ValueError(f"images are {data.images.shape[1:]}, the classifier expects "
                             f"({self.size_px}, {self.size_px}): load them with size_px={self.size_px}")
        if len(data) < 2:
            raise ValueError("need at least 2 training images")
        if not 0.0 <= float(self.cutmix) <= 1.0:
            raise ValueError(f"cutmix must be a share of batches in [0, 1], got {self.cutmix!r}")
        self.classes_ = tuple(data.classes)
        x = data.images.astype(np.float32) / 255.0
        self.mean_, self.std_ = float(x.mean()), float(x.std() + 1e-6)
        counts = np.bincount(data.labels, minlength=len(self.classes_)).astype(np.float64)
        if self.class_weights not in (True, False, "inverse", "sqrt"):
            raise ValueError(f"class_weights must be true, false, 'inverse' or 'sqrt', got {self.class_weights!r}")
        # Inverse frequency (True / "inverse") or its square root ("sqrt": milder, for a 30:1
        # imbalance where full inverse weights make the common class the one the model gets wrong).
        w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / len(self.classes_), 0.0)
        if self.class_weights == "sqrt":
            w = np.sqrt(w)
        w = w / w[counts > 0].mean() if self.class_weights else np.ones_like(w)
        self.class_weight_ = w.astype(np.float32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model_ = build_network(self.arch, len(self.classes_))
        opt = torch.optim.AdamW(self.model_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        steps_per_epoch = int(np.ceil(len(data) / self.batch_size))
        total = max(1, self.epochs * steps_per_epoch)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=total, pct_start=0.15)
        loss_fn = nn.CrossEntropyLoss(weight=torch.from_numpy(self.class_weight_))
        rng = np.random.default_rng(self.seed)
        xt = torch.from_numpy((x - self.mean_) / self.std_)
        yt = torch.from_numpy(data.labels)
        self.history_: list[dict] = []
        step = 0
        for epoch in range(self.epochs):
            self.model_.train()
            order = rng.permutation(len(data))
            losses = []
            for b in range(steps_per_epoch):
                idx = order[b * self.batch_size:(b + 1) * self.batch_size]
                if len(idx) < 2:   # BatchNorm needs two samples
                    continue
                xb = xt[idx].unsqueeze(1)
                if self.augment:
                    xb = _augment(xb, rng)
                if self.cutmix and rng.random() < float(self.cutmix):
                    xb, partner, lam = _cutmix(xb, rng)
                    out = self.model_(xb)
                    loss = lam * loss_fn(out, yt[idx]) + (1.0 - lam) * loss_fn(out, yt[idx][partner])
                else:
                    loss = loss_fn(self.model_(xb), yt[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                losses.append(float(loss.detach()))
                step += 1
                if progress is not None:
                    progress(step, total)
            self.history_.append({"epoch": epoch + 1, "loss": float(np.mean(losses)) if losses else float("nan")})
        self.model_.eval()
        return self

    # -- prediction ---------------------------------------------------------
    def predict_proba(self, images: np.ndarray, batch_size: int = 128) -> np.ndarray:
        self._check_fitted()
        images = np.asarray(images)
        if images.ndim != 3 or images.shape[1:] != (self.size_px, self.size_px):
            raise ValueError(f"images must be (N, {self.size_px}, {self.size_px}) grey, got {images.shape}")
        out = []
        self.model_.eval()
        with torch.no_grad():
            for s in range(0, len(images), batch_size):
                xb = torch.from_numpy((images[s:s + batch_size].astype(np.float32) / 255.0 - self.mean_) / self.std_)
                out.append(torch.softmax(self.model_(xb.unsqueeze(1)), dim=1).numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes_)), np.float32)

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.predict_proba(images).argmax(axis=1)

    # -- files --------------------------------------------------------------
    def save(self, path: Path | str) -> Path:
        self._check_fitted()
        state = {"params": self.get_params(), "classes": list(self.classes_), "mean": self.mean_, "std": self.std_,
                 "class_weight": torch.from_numpy(self.class_weight_), "model": self.model_.state_dict(),
                 "history": list(self.history_)}
        return write_learner_file(path, _CLASS, "torch", torch_payload(state),
                                  extra={"classes": list(self.classes_), "arch": self.arch})

    @classmethod
    def load(cls, path: Path | str) -> "DefectClassifier":
        path = Path(path)
        header, payload = read_learner_file(path, _CLASS)
        state = untorch_payload(payload, path)
        try:
            obj = cls(**state["params"])
            obj.classes_ = tuple(state["classes"])
            obj.mean_, obj.std_ = float(state["mean"]), float(state["std"])
            obj.class_weight_ = state["class_weight"].numpy()
            obj.model_ = build_network(obj.arch, len(obj.classes_))
            obj.model_.load_state_dict(state["model"])
            obj.history_ = list(state["history"])
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise LearnerFileError(f"{path}: incompatible learner file: {type(exc).__name__}: {exc}") from None
        obj.model_.eval()
        return obj

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("DefectClassifier is not fitted: call fit() first")


def _cutmix(xb: torch.Tensor, rng: np.random.Generator) -> tuple[torch.Tensor, np.ndarray, float]:
    """CutMix a batch: (mixed batch, partner index per image, share of each image kept).

    One box per batch (as in the paper's reference code), its area a
    Beta(1, 1) share of the image, its centre uniform; the kept share is
    recomputed from the box after clipping at the border.
    """
    n, _, h, w = xb.shape
    partner = rng.permutation(n)
    cut = float(np.sqrt(1.0 - rng.beta(1.0, 1.0)))
    ch, cw = int(h * cut), int(w * cut)
    cy, cx = int(rng.integers(h)), int(rng.integers(w))
    y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
    x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
    mixed = xb.clone()
    mixed[:, :, y0:y1, x0:x1] = xb[partner][:, :, y0:y1, x0:x1]
    lam = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)
    return mixed, partner, lam


def _augment(xb: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Flips, quarter turns (a surface has no up) and a brightness/contrast jitter, per image."""
    out = []
    for img in xb:
        k = int(rng.integers(4))
        if k:
            img = torch.rot90(img, k, dims=(1, 2))
        if rng.random() < 0.5:
            img = torch.flip(img, dims=(2,))
        img = img * float(rng.uniform(0.85, 1.15)) + float(rng.normal(0.0, 0.1))
        out.append(img)
    return torch.stack(out)
