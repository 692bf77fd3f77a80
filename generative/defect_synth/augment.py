"""Differentiable augmentation of what the discriminator sees (DiffAugment, Zhao et al. 2020).

With a few hundred images a discriminator memorises the training set and
GAN training collapses; Projected GAN, the study's backbone, therefore
augments both real and generated images before the feature network, with
transformations through which gradients flow to the generator. Two are
used here: a random **translation** by up to ``translation`` of the image
side (zero padding, i.e. mid-grey) and a **cutout** of a square of
``cutout`` of the side at a random place (set to mid-grey). Randomness comes
from the ``torch.Generator`` passed in (exact resume).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["diff_augment"]


def diff_augment(x: torch.Tensor, gen: torch.Generator, translation: float = 0.125,
                 cutout: float = 0.5) -> torch.Tensor:
    """Randomly translated and cut-out copy of the batch ``x`` (N, C, S, S)."""
    n, _, h, w = x.shape
    if translation > 0:
        p = max(1, int(round(translation * h)))
        shift = torch.randint(-p, p + 1, (n, 2), generator=gen).tolist()
        padded = F.pad(x, (p, p, p, p))
        x = torch.stack([padded[i, :, p + dy:p + dy + h, p + dx:p + dx + w] for i, (dy, dx) in enumerate(shift)])
    if cutout > 0:
        ch, cw = max(1, int(round(cutout * h))), max(1, int(round(cutout * w)))
        cy = torch.randint(0, h - ch + 1, (n, 1, 1), generator=gen).to(x.device)
        cx = torch.randint(0, w - cw + 1, (n, 1, 1), generator=gen).to(x.device)
        yy = torch.arange(h, device=x.device).view(1, h, 1)
        xx = torch.arange(w, device=x.device).view(1, 1, w)
        keep = ~((yy >= cy) & (yy < cy + ch) & (xx >= cx) & (xx < cx + cw))
        x = x * keep.unsqueeze(1).to(x.dtype)
    return x
