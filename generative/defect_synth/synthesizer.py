"""SyNDGAN-like defect synthesizer: a normal image + a defect map → the same image with that defect.

After Cho, Jeon and Park, "Synthesizing Industrial Defect Images Under Data
Imbalance" (IEEE Access 2023; ``shared/studies/syndgan_defect_synthesis.txt``),
at small resolution (64 px by default) and trained from scratch on the
data given — no pretrained network can be downloaded here.

One ``fit`` runs three phases, all on the same data, counted in the one
``steps`` budget (so checkpoints and exact resume cover all of them):

1. steps ``[0, feature_steps)`` — **the feature network** ``F``
   (:mod:`~generative.defect_synth.features`): a small CNN learns to
   classify the images into the normal class and the defect classes. It
   stands in for the study's ImageNet EfficientNet and is frozen afterwards
   (class-balanced batches of ``feature_batch_size``).
2. steps ``[feature_steps, feature_steps + pretrain_steps)`` —
   **unconditional pretraining of the generator** on all images, normal
   and defect: ``G(z) = S(M(z))`` (:mod:`~generative.defect_synth.decoder`)
   against the multi-scale projected discriminator ``D`` on ``F``'s
   features (:mod:`~generative.defect_synth.discriminator`), eq. 1.
3. the remaining steps — **defect synthesis**: the SFT encoder ``E``
   (:mod:`~generative.defect_synth.encoder`) maps the masked image and the
   map into ``S``'s latent space; ``S`` (pretrained) decodes and is
   fine-tuned; ``D`` continues from pretraining. Generator loss (eq. 2)::

       w_pix * L1 (defect region weighted 1 + mask_weight)
     + w_adv * adversarial (D on F's features)
     + w_perc * perceptual distance on F's features (LPIPS-like)
     + w_inv * |E(out masked) - E(in masked)|^2   (in-domain inversion)

   Training pairs are real defect images with their own masks (the defect
   blanked in the input, recreated in the output) plus a share of normal
   images with empty maps (:mod:`~generative.defect_synth.common`).
   With ``skip_connections`` (default) the encoder also hands its
   full- and half-resolution features to the decoder through zero-initialised
   1x1 convolutions (the background is carried over, not re-imagined).

The discriminator sees real and generated images through differentiable
augmentation (translation, cutout: :mod:`~generative.defect_synth.augment`)
when ``diffaug`` is set (default), as Projected GAN does: with a few
hundred images it otherwise memorises them and pretraining collapses.

What differs from the study and why: a small convolutional generator with
a spatial latent instead of StyleGAN2/FastGAN, and an encoder of 1 + 3 SFT
residual blocks instead of 7 (CPU budget); the study's "skip-connections"
read as encoder-to-decoder skips that start at zero (above); an own feature
network instead of ImageNet EfficientNet/VGG (nothing can be downloaded);
only the fixed random channel projection of Projected GAN, not its
cross-scale mixing; the inversion term divided by the latent's variance
(:mod:`~generative.defect_synth.losses`); 64-128 px instead of 1024 px.

Optimisers: Adam, betas (0.5, 0.999); generator (mapping + decoder) rate
``lr_g`` (study 2e-4), discriminator ``lr_d`` (study 1e-4), feature network
``lr_feature``; the encoder, trained from scratch in the synthesis phase
only and far shorter than in the study, gets a higher ``lr_e`` (5e-4). On a GPU
(``device="auto"`` picks it when ``torch.cuda.is_available()``) results
are not bit-identical between runs; on the CPU they are.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from generative.defect_synth.augment import diff_augment
from generative.defect_synth.common import DefectModelBase, masked_input
from generative.defect_synth.decoder import MappingNet, SynthesisNet, Z_RES, latent_size
from generative.defect_synth.discriminator import ProjectedDiscriminator
from generative.defect_synth.encoder import SFTEncoder
from generative.defect_synth.features import DefectFeatureNet, balanced_indices, feature_step, mirror
from generative.defect_synth.losses import d_loss, g_adv_loss, inversion_loss, weighted_l1
from generative.image_metrics import perceptual_from_features

__all__ = ["DefectSynthesizer", "PHASES"]

PHASES = ("feature", "pretrain", "synthesis")


class DefectSynthesizer(DefectModelBase):
    """``fit(DefectData, seed=...)``; ``sample(n, condition=(normal_images, defect_maps), seed=...)``."""

    _param_names = DefectModelBase._param_names + (
        "feature_steps", "pretrain_steps", "feature_batch_size", "latent_channels", "width", "n_blocks",
        "feature_width", "d_width", "z_channels", "lr_g", "lr_e", "lr_d", "lr_feature", "w_pix", "w_adv", "w_perc",
        "w_inv", "mask_weight", "skip_connections", "diffaug")

    def __init__(self, steps: int = 3000, checkpoint_every: int = 0, size_px: int = 64, batch_size: int = 8,
                 normal_fraction: float = 0.25, device: str = "auto", feature_steps: int = 1000,
                 pretrain_steps: int = 1000, feature_batch_size: int = 32, latent_channels: int = 64,
                 width: int = 32, n_blocks: int = 3, feature_width: int = 16, d_width: int = 64, z_channels: int = 32,
                 lr_g: float = 2e-4, lr_e: float = 5e-4, lr_d: float = 1e-4, lr_feature: float = 2e-3,
                 w_pix: float = 10.0, w_adv: float = 1.0, w_perc: float = 1.0, w_inv: float = 1.0,
                 mask_weight: float = 4.0, skip_connections: bool = True, diffaug: bool = True):
        super().__init__(steps, checkpoint_every, size_px, batch_size, normal_fraction, device)
        self.feature_steps = feature_steps
        self.pretrain_steps = pretrain_steps
        self.feature_batch_size = feature_batch_size
        self.latent_channels = latent_channels
        self.width = width
        self.n_blocks = n_blocks
        self.feature_width = feature_width
        self.d_width = d_width
        self.z_channels = z_channels
        self.lr_g = lr_g
        self.lr_e = lr_e
        self.lr_d = lr_d
        self.lr_feature = lr_feature
        self.w_pix = w_pix
        self.w_adv = w_adv
        self.w_perc = w_perc
        self.w_inv = w_inv
        self.mask_weight = mask_weight
        self.skip_connections = skip_connections
        self.diffaug = diffaug

    # -- structure -------------------------------------------------------------------
    def phase(self, step: int) -> str:
        """Which phase optimiser step ``step`` (0-based) belongs to."""
        if step < int(self.feature_steps):
            return "feature"
        if step < int(self.feature_steps) + int(self.pretrain_steps):
            return "pretrain"
        return "synthesis"

    def _networks(self) -> dict[str, nn.Module]:
        latent_size(int(self.size_px))  # checks the size
        dev = self.device_
        fnet = DefectFeatureNet(len(self.classes_), int(self.feature_width))
        synth = SynthesisNet(int(self.latent_channels), int(self.width))
        skips = synth.skip_channels if bool(self.skip_connections) else None
        nets = {
            "F": fnet,
            "M": MappingNet(int(self.size_px), int(self.z_channels), int(self.latent_channels)),
            "S": synth,
            "E": SFTEncoder(self.n_maps_, int(self.latent_channels), int(self.width), int(self.n_blocks),
                            skip_channels=skips),
            "D": ProjectedDiscriminator(fnet.channels, int(self.d_width)),
        }
        return {k: v.to(dev) for k, v in nets.items()}

    def _optimizers(self, nets: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        betas = (0.5, 0.999)
        return {
            "F": torch.optim.Adam(nets["F"].parameters(), lr=float(self.lr_feature)),
            "G": torch.optim.Adam(list(nets["M"].parameters()) + list(nets["S"].parameters()),
                                  lr=float(self.lr_g), betas=betas),
            "E": torch.optim.Adam(nets["E"].parameters(), lr=float(self.lr_e), betas=betas),
            "D": torch.optim.Adam([p for p in nets["D"].parameters() if p.requires_grad], lr=float(self.lr_d),
                                  betas=betas),
        }

    def _set_phase(self, phase: str) -> None:
        """Train/eval modes and which weights take gradients (derived from the phase: resume-safe)."""
        fnet = self.nets_["F"]
        fnet.train(phase == "feature")
        fnet.requires_grad_(phase == "feature")

    # -- training -------------------------------------------------------------------------
    def _train_step(self, data: Any, step: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, float]:
        ph = self.phase(step)
        self._set_phase(ph)
        if ph == "feature":
            return self._feature_step(rng)
        if ph == "pretrain":
            return self._pretrain_step(rng, gen)
        return self._synthesis_step(rng, gen)

    def _feature_step(self, rng: np.random.Generator) -> dict[str, float]:
        b = int(self.feature_batch_size)
        idx = balanced_indices(self.class_pools_, b, rng)
        x = mirror(self._x[torch.as_tensor(idx)], rng.random(b) < 0.5)
        return {"feature_ce": feature_step(self.nets_["F"], self.opts_["F"], x, self._labels[torch.as_tensor(idx)])}

    def _augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return diff_augment(x, gen) if bool(self.diffaug) else x

    def _adversarial_d_step(self, real_feats: list, fake_feats: list) -> float:
        D, opt = self.nets_["D"], self.opts_["D"]
        loss = d_loss(D(real_feats), D([f.detach() for f in fake_feats]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    def _pretrain_step(self, rng: np.random.Generator, gen: torch.Generator) -> dict[str, float]:
        b = int(self.batch_size)
        F_, D, M, S = (self.nets_[k] for k in "FDMS")
        idx = rng.integers(0, len(self._x), b)
        real = mirror(self._x[torch.as_tensor(idx)], rng.random(b) < 0.5)
        z = torch.randn(b, int(self.z_channels), Z_RES, Z_RES, generator=gen).to(self.device_)
        fake = S(M(z), gen)
        fake_feats = F_.stages(self._augment(fake, gen))
        with torch.no_grad():
            real_feats = F_.stages(self._augment(real, gen))
        dl = self._adversarial_d_step(real_feats, fake_feats)
        D.requires_grad_(False)
        gl = g_adv_loss(D(fake_feats))
        self.opts_["G"].zero_grad(set_to_none=True)
        gl.backward()
        self.opts_["G"].step()
        D.requires_grad_(True)
        return {"pre_d": dl, "pre_g": float(gl.detach())}

    def _synthesis_step(self, rng: np.random.Generator, gen: torch.Generator) -> dict[str, float]:
        F_, D, S, E = (self.nets_[k] for k in "FDSE")
        idx, flip = self._draw(rng, int(self.batch_size))
        x, onehot = self._batch(idx, flip)
        m = onehot.sum(1, keepdim=True).clamp(max=1.0)
        w, skips = E.encode(masked_input(x, onehot), onehot)
        out = S(w, gen, skips)
        fake_feats = F_.stages(out)
        with torch.no_grad():
            real_feats = F_.stages(x)
        if bool(self.diffaug):
            fake_d = F_.stages(self._augment(out, gen))
            with torch.no_grad():
                real_d = F_.stages(self._augment(x, gen))
        else:
            fake_d, real_d = fake_feats, real_feats
        dl = self._adversarial_d_step(real_d, fake_d)
        D.requires_grad_(False)
        adv = g_adv_loss(D(fake_d))
        pix = weighted_l1(out, x, m, float(self.mask_weight))
        perc = perceptual_from_features(fake_feats, real_feats)
        inv = inversion_loss(E(masked_input(out, onehot), onehot), w)
        g = float(self.w_pix) * pix + float(self.w_adv) * adv + float(self.w_perc) * perc + float(self.w_inv) * inv
        self.opts_["E"].zero_grad(set_to_none=True)
        self.opts_["G"].zero_grad(set_to_none=True)
        g.backward()
        self.opts_["E"].step()
        self.opts_["G"].step()
        D.requires_grad_(True)
        return {"d": dl, "adv": float(adv.detach()), "pix": float(pix.detach()), "perc": float(perc.detach()),
                "inv": float(inv.detach()), "g": float(g.detach())}

    # -- use ----------------------------------------------------------------------------------
    def _translate(self, x_in: torch.Tensor, onehot: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        w, skips = self.nets_["E"].encode(x_in, onehot)
        return self.nets_["S"](w, gen, skips)

    def generate(self, n: int, *, seed: int = 0) -> np.ndarray:
        """``n`` unconditional images of the pretrained generator ``S(M(z))`` (uint8): what phase 2 learned."""
        from generative.defect_synth.tensors import to_images

        self._check_fitted()
        gen = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            z = torch.randn(n, int(self.z_channels), Z_RES, Z_RES, generator=gen).to(self.device_)
            return to_images(self.nets_["S"](self.nets_["M"](z), gen))

    def feature_net(self) -> DefectFeatureNet:
        """The feature network trained in phase 1 (frozen, eval mode)."""
        self._check_fitted()
        f = self.nets_["F"].eval()
        f.requires_grad_(False)
        return f

