"""The losses of the defect synthesizer (SyNDGAN study, eq. 1-6).

* :func:`d_loss` / :func:`g_adv_loss` — the adversarial loss in its log
  form (eq. 1 and 4): ``softplus(-D(real)) + softplus(D(fake))`` for the
  discriminator, the non-saturating ``softplus(-D(fake))`` for the
  generator (logits averaged over the discriminator's output map).
* :func:`weighted_l1` — the pixel loss (eq. 3, mean absolute error), with
  the defect region weighted ``1 + mask_weight`` ("the segmentation map
  assigns weights to the defect area", so the few defect pixels are not
  drowned by the many background ones).
* perceptual distance — eq. 5 on the domain feature network's stages:
  :func:`generative.image_metrics.perceptual_from_features`.
* :func:`inversion_loss` — eq. 6, the in-domain inversion term (Zhu et al.
  2020): the output, masked the same way and encoded again, must give the
  latent of the input: ``|E(out_masked, map) - E(in_masked, map)|^2``, the
  input's latent held fixed (no gradient) as the target, divided by the
  variance of that latent.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["d_loss", "g_adv_loss", "weighted_l1", "inversion_loss"]


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_adv_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake_logits).mean()


def weighted_l1(out: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, mask_weight: float) -> torch.Tensor:
    """Mean of ``|out - target| * (1 + mask_weight * mask)``; ``mask`` (N, 1, S, S) in {0, 1}."""
    return ((out - target).abs() * (1.0 + mask_weight * mask)).mean()


def inversion_loss(latent_of_output: torch.Tensor, latent_of_input: torch.Tensor) -> torch.Tensor:
    """Mean squared latent difference relative to the latent's own variance (scale-free: the encoder cannot
    shrink it away by shrinking its latents)."""
    target = latent_of_input.detach()
    return F.mse_loss(latent_of_output, target) / (target.var() + 1e-8)
