"""The stamp cGAN: pix2pix from (mask, procedural rendering) to a textured stamp patch.

The billet stamp study (shared/studies/billet_stamp_cgan.txt §2.2) trains a
pix2pix cGAN — U-Net generator, PatchGAN discriminator, adversarial + L1
loss — to turn degraded, deformed digit masks into realistic stamp
textures, which are then embedded into real billet faces (§2.2.4, the
hybrid approach). :class:`StampCGAN` is that model on the shared API
(:class:`generative.base.GenerativeModel`)::

    pairs = load_pair_folder("pairs/train")                  # masks/*.png + images/*.png
    gan = StampCGAN(steps=8000, checkpoint_every=2000).fit(pairs, seed=0, checkpoint_dir=run / "checkpoints")
    patches = gan.translate(masks, procedural)               # (N, S, S) in [0, 1]
    gan.save(run / "model.ckpt")

Input: two channels, the character's coverage mask and its **procedural
rendering** (the physics-shaded face around it: what the twin's renderer
hands to its texture hook). Output: the grey textured patch. For training,
the procedural channel of each (mask, photo) pair is rendered by
:func:`generative.stamp_procedural.procedural_inputs` (the mask shaded on
the photo with the character painted out), ``procedural_variants`` times
with different depth and light.

Losses (pix2pix, Isola et al. 2017): the discriminator D sees the
condition concatenated with a real or generated patch and minimises
``0.5 [BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)]``; the generator minimises
``BCE(D(x, G(x)), 1) + lambda_l1 * |G(x) - y|_1`` (images in [-1, 1];
``gan_loss="lsgan"`` uses squared errors instead of BCE). Adam with
``lr`` and ``beta1 = 0.5``. The history records ``d``, ``g_adv`` and
``l1`` (mean absolute error on the 0..1 grey scale) per step.

Sampling is deterministic for one checkpoint (dropout off); variety comes
from several checkpoints (:class:`generative.stamp_pool.StampCheckpointPool`),
as in the study. A CUDA device is used when available (exact resume is
then only guaranteed on the CPU).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from generative.base import GenerativeModel
from generative.stamp_nets import PatchDiscriminator, UNetGenerator, init_weights
from generative.stamp_pairs import StampPairs, load_pair_folder
from generative.stamp_procedural import procedural_inputs

__all__ = ["StampCGAN"]


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _to_unit(a) -> torch.Tensor:
    """uint8 or [0, 1] float array -> float tensor in [-1, 1]."""
    arr = np.asarray(a)
    t = torch.from_numpy(arr.astype(np.float32) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float32))
    return t * 2.0 - 1.0


class StampCGAN(GenerativeModel):
    """pix2pix stamp texture model; see the module docstring.

    Settings: ``steps``, ``checkpoint_every`` (a checkpoint every K steps in
    ``fit(checkpoint_dir=...)``), ``size`` (patch side, divisible by
    ``2 ** depth``), ``width`` / ``depth`` of the U-Net, ``d_width`` /
    ``d_layers`` of the PatchGAN, ``lambda_l1``, ``lr``, ``beta1``,
    ``batch_size``, ``dropout``, ``gan_loss`` (``"vanilla"`` BCE or
    ``"lsgan"``), ``procedural_variants`` and ``procedural_seed`` (the
    training pairs' procedural channel), ``char_height_mm`` (scale of the
    procedural grooves).
    """

    _param_names = ("steps", "checkpoint_every", "size", "width", "depth", "d_width", "d_layers", "lambda_l1",
                    "lr", "beta1", "batch_size", "dropout", "gan_loss", "procedural_variants", "procedural_seed",
                    "char_height_mm")

    def __init__(self, steps: int = 6000, checkpoint_every: int = 0, size: int = 64, width: int = 32,
                 depth: int = 5, d_width: int = 32, d_layers: int = 2, lambda_l1: float = 100.0, lr: float = 2e-4,
                 beta1: float = 0.5, batch_size: int = 16, dropout: float = 0.5, gan_loss: str = "vanilla",
                 procedural_variants: int = 2, procedural_seed: int = 0, char_height_mm: float = 15.0):
        super().__init__(steps, checkpoint_every)
        self.size = size
        self.width = width
        self.depth = depth
        self.d_width = d_width
        self.d_layers = d_layers
        self.lambda_l1 = lambda_l1
        self.lr = lr
        self.beta1 = beta1
        self.batch_size = batch_size
        self.dropout = dropout
        self.gan_loss = gan_loss
        self.procedural_variants = procedural_variants
        self.procedural_seed = procedural_seed
        self.char_height_mm = char_height_mm

    # -- hooks ------------------------------------------------------------------
    def _check_settings(self) -> None:
        if int(self.size) % (2 ** int(self.depth)) or int(self.size) < 2 ** int(self.depth):
            raise ValueError(f"size={self.size} must be a multiple of 2**depth = {2 ** int(self.depth)}")
        if self.gan_loss not in ("vanilla", "lsgan"):
            raise ValueError(f"gan_loss must be 'vanilla' or 'lsgan', got {self.gan_loss!r}")
        if int(self.batch_size) < 1 or int(self.procedural_variants) < 1:
            raise ValueError("batch_size and procedural_variants must be >= 1")

    def _prepare(self, data: Any) -> None:
        self._check_settings()
        pairs = data if isinstance(data, StampPairs) else load_pair_folder(Path(data), size=int(self.size))
        if pairs.size != int(self.size):
            raise ValueError(f"pairs are {pairs.size} px, the model is set to size={self.size}; load the folder "
                             f"with load_pair_folder(path, size={self.size})")
        self.size_ = int(self.size)
        self.n_pairs_ = len(pairs)
        proc = procedural_inputs(pairs, int(self.procedural_variants), int(self.procedural_seed),
                                 float(self.char_height_mm))
        # Training tensors, kept as uint8 (N, V, S, S) and converted per batch.
        self._masks_u8 = np.clip(pairs.masks * 255.0 + 0.5, 0, 255).astype(np.uint8)
        self._images_u8 = np.clip(pairs.images * 255.0 + 0.5, 0, 255).astype(np.uint8)
        self._proc_u8 = proc

    def _prepared_state(self) -> dict:
        return {"size": int(self.size_), "n_pairs": int(self.n_pairs_)}

    def _restore_prepared(self, state: dict) -> None:
        self.size_ = int(state["size"])
        self.n_pairs_ = int(state["n_pairs"])

    def _networks(self) -> dict[str, nn.Module]:
        self._check_settings()
        self.device_ = _device()
        g = UNetGenerator(2, 1, int(self.width), int(self.depth), dropout=float(self.dropout))
        d = PatchDiscriminator(3, int(self.d_width), int(self.d_layers))
        return {"G": init_weights(g).to(self.device_), "D": init_weights(d).to(self.device_)}

    def _optimizers(self, nets: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        betas = (float(self.beta1), 0.999)
        return {k: torch.optim.Adam(v.parameters(), lr=float(self.lr), betas=betas) for k, v in nets.items()}

    def _gan_criterion(self, logits: torch.Tensor, real: bool) -> torch.Tensor:
        target = torch.ones_like(logits) if real else torch.zeros_like(logits)
        if self.gan_loss == "lsgan":
            return F.mse_loss(logits, target)
        return F.binary_cross_entropy_with_logits(logits, target)

    def _batch(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        n, v = self._proc_u8.shape[:2]
        b = int(self.batch_size)
        idx = rng.integers(0, n, size=b)
        var = rng.integers(0, v, size=b)
        x = torch.stack([_to_unit(self._masks_u8[idx]), _to_unit(self._proc_u8[idx, var])], dim=1)
        y = _to_unit(self._images_u8[idx])[:, None]
        return x.to(self.device_), y.to(self.device_)

    def _train_step(self, data: Any, step: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, float]:
        G, D = self.nets_["G"], self.nets_["D"]
        x, y = self._batch(rng)
        fake = G(x)
        # Discriminator: real pairs -> 1, generated pairs -> 0.
        d_loss = 0.5 * (self._gan_criterion(D(torch.cat([x, y], 1)), True)
                        + self._gan_criterion(D(torch.cat([x, fake.detach()], 1)), False))
        self.opts_["D"].zero_grad(set_to_none=True)
        d_loss.backward()
        self.opts_["D"].step()
        # Generator: fool D, stay close to the target (L1).
        g_adv = self._gan_criterion(D(torch.cat([x, fake], 1)), True)
        l1 = (fake - y).abs().mean()
        g_loss = g_adv + float(self.lambda_l1) * l1
        self.opts_["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        self.opts_["G"].step()
        return {"d": d_loss.item(), "g_adv": g_adv.item(), "l1": 0.5 * l1.item()}

    def _sample(self, n: int, condition: Any, gen: torch.Generator) -> np.ndarray:
        masks, proc = self._condition(n, condition, gen)
        return self._translate(masks, proc)

    # -- the model's own API ------------------------------------------------------
    def _condition(self, n: int, condition: Any, gen: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(masks, procedural) float32 (n, S, S) from ``{"masks": ..., "procedural": ...}`` or a (masks, proc) pair.

        Without ``procedural``, each mask is rendered on procedural steel
        (seeds drawn from ``gen``).
        """
        if isinstance(condition, dict):
            masks, proc = condition.get("masks"), condition.get("procedural")
        elif isinstance(condition, (tuple, list)) and len(condition) == 2:
            masks, proc = condition
        else:
            masks, proc = condition, None
        if masks is None:
            raise ValueError("StampCGAN.sample needs condition={'masks': (n, S, S) array[, 'procedural': ...]}")
        masks = self._as_patches(masks, "masks")
        if len(masks) != n:
            raise ValueError(f"n={n} but {len(masks)} masks were given")
        if proc is None:
            from physics.billet_render.stamp_texture import render_stamp_patch

            seeds = torch.randint(0, 2**62, (n,), generator=gen).tolist()
            proc = np.stack([render_stamp_patch(m, np.random.default_rng(int(s)), char_height_mm=self.char_height_mm)
                             for m, s in zip(masks, seeds)])
        proc = self._as_patches(proc, "procedural")
        if proc.shape != masks.shape:
            raise ValueError(f"procedural {proc.shape} and masks {masks.shape} must have one shape")
        return masks, proc

    def _as_patches(self, a, name: str) -> np.ndarray:
        arr = np.asarray(a)
        arr = arr.astype(np.float32) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float32)
        if arr.ndim == 2:
            arr = arr[None]
        s = int(self.size_)
        if arr.ndim != 3 or arr.shape[1:] != (s, s):
            raise ValueError(f"{name} must be (n, {s}, {s}) patches of this model's size, got shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} has non-finite values")
        return np.clip(arr, 0.0, 1.0)

    def _translate(self, masks: np.ndarray, proc: np.ndarray, batch: int = 64) -> np.ndarray:
        G = self.nets_["G"]
        out = []
        for i in range(0, len(masks), batch):
            x = torch.stack([_to_unit(masks[i:i + batch]), _to_unit(proc[i:i + batch])], 1).to(self.device_)
            out.append(((G(x)[:, 0] + 1.0) * 0.5).clamp(0.0, 1.0).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def translate(self, masks, procedural) -> np.ndarray:
        """Textured patches float32 (N, S, S) in [0, 1] of masks and procedural renderings (N, S, S)."""
        self._check_fitted()
        masks = self._as_patches(masks, "masks")
        proc = self._as_patches(procedural, "procedural")
        if proc.shape != masks.shape:
            raise ValueError(f"procedural {proc.shape} and masks {masks.shape} must have one shape")
        for net in self.nets_.values():
            net.eval()
        with torch.no_grad():
            return self._translate(masks, proc)
