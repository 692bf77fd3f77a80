"""The plain pix2pix baseline: the same masked input and map, a U-Net, a PatchGAN — no SFT, no pretraining.

Isola et al. 2017 as a user would set it up for this task: the generator is
a U-Net (4 halvings, skip connections, instance normalisation, dropout 0.5
in the two innermost up-steps) whose input is the masked image with the
one-hot map as extra channels (:func:`~generative.defect_synth.common.masked_input`)
— the condition enters **only** as input channels, no spatial feature
transform; the discriminator is a conditional PatchGAN on (input, image)
pairs; losses are the cGAN loss (log form) plus ``l1_weight`` x L1 (100 in
the paper). Trained from scratch, on the same batches as the synthesizer
(:class:`~generative.defect_synth.common.DefectModelBase`), so the scenario
can give both the same budget.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from generative.defect_synth.common import DefectModelBase, masked_input
from generative.defect_synth.losses import d_loss, g_adv_loss

__all__ = ["Pix2PixDefect", "UNet", "PatchDiscriminator"]


def _down(cin: int, cout: int, norm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, stride=2, padding=1)]
    if norm:
        layers.append(nn.InstanceNorm2d(cout, affine=True))
    layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def _up(cin: int, cout: int, dropout: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1),
                               nn.InstanceNorm2d(cout, affine=True)]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """pix2pix U-Net with 4 halvings: (N, cin, S, S) → (N, 1, S, S) in [-1, 1]."""

    def __init__(self, cin: int, width: int = 32):
        super().__init__()
        w = width
        self.d1, self.d2 = _down(cin, w, norm=False), _down(w, 2 * w)
        self.d3, self.d4 = _down(2 * w, 4 * w), _down(4 * w, 4 * w)
        self.u4 = _up(4 * w, 4 * w, dropout=True)
        self.u3 = _up(8 * w, 2 * w, dropout=True)
        self.u2 = _up(4 * w, w, dropout=False)
        self.u1 = nn.ConvTranspose2d(2 * w, 1, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = self.d1(x)
        h2 = self.d2(h1)
        h3 = self.d3(h2)
        h4 = self.d4(h3)
        u = self.u4(h4)
        u = self.u3(torch.cat([u, h3], 1))
        u = self.u2(torch.cat([u, h2], 1))
        return torch.tanh(self.u1(torch.cat([u, h1], 1)))


class PatchDiscriminator(nn.Module):
    """Conditional PatchGAN: (input, image) pairs → a map of real/fake logits."""

    def __init__(self, cin: int, width: int = 32):
        super().__init__()
        w = width
        self.net = nn.Sequential(_down(cin + 1, w, norm=False), _down(w, 2 * w), _down(2 * w, 4 * w),
                                 nn.Conv2d(4 * w, 1, 3, padding=1))

    def forward(self, cond: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([cond, image], 1))


class Pix2PixDefect(DefectModelBase):
    """pix2pix on (masked image + map) → defect image; same API as the synthesizer."""

    _param_names = DefectModelBase._param_names + ("width", "lr", "l1_weight")

    def __init__(self, steps: int = 2000, checkpoint_every: int = 0, size_px: int = 64, batch_size: int = 8,
                 normal_fraction: float = 0.25, device: str = "auto", width: int = 32, lr: float = 2e-4,
                 l1_weight: float = 100.0):
        super().__init__(steps, checkpoint_every, size_px, batch_size, normal_fraction, device)
        self.width = width
        self.lr = lr
        self.l1_weight = l1_weight

    def _networks(self) -> dict[str, nn.Module]:
        cin = 1 + self.n_maps_
        return {"G": UNet(cin, int(self.width)).to(self.device_),
                "D": PatchDiscriminator(cin, int(self.width)).to(self.device_)}

    def _optimizers(self, nets: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        return {k: torch.optim.Adam(v.parameters(), lr=float(self.lr), betas=(0.5, 0.999)) for k, v in nets.items()}

    def _train_step(self, data: Any, step: int, rng: np.random.Generator, gen: torch.Generator) -> dict[str, float]:
        G, D = self.nets_["G"], self.nets_["D"]
        idx, flip = self._draw(rng, int(self.batch_size))
        x, onehot = self._batch(idx, flip)
        cond = masked_input(x, onehot)
        out = G(cond)
        dl = d_loss(D(cond, x), D(cond, out.detach()))
        self.opts_["D"].zero_grad(set_to_none=True)
        dl.backward()
        self.opts_["D"].step()
        D.requires_grad_(False)
        adv = g_adv_loss(D(cond, out))
        l1 = F.l1_loss(out, x)
        g = adv + float(self.l1_weight) * l1
        self.opts_["G"].zero_grad(set_to_none=True)
        g.backward()
        self.opts_["G"].step()
        D.requires_grad_(True)
        return {"d": float(dl.detach()), "adv": float(adv.detach()), "pix": float(l1.detach()), "g": float(g.detach())}

    def _translate(self, x_in: torch.Tensor, onehot: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return self.nets_["G"](x_in)
