"""The two networks of the stamp cGAN: a pix2pix U-Net generator and a PatchGAN discriminator.

pix2pix (Isola et al. 2017, the model of the billet stamp study,
shared/studies/billet_stamp_cgan.txt §2.2) translates an image of one kind
into another of the same layout. Here the input has two channels — the
character's mask and its procedural (physics-shaded) rendering — and the
output is one grey channel: the textured stamp.

**Generator: U-Net with skip connections.** An encoder halves the image
``depth`` times (4x4 convolutions, stride 2, LeakyReLU 0.2) down to a
bottleneck, a decoder doubles it back (4x4 transposed convolutions, ReLU);
the decoder block at each scale also receives the encoder's feature map of
that scale (concatenated). Those skips carry the fine layout — where the
stroke edges are, pixel for pixel — straight to the output, so the
bottleneck only has to carry "what texture", not "where". Dropout in the
three innermost decoder blocks is pix2pix's source of noise (used in
training; sampling is deterministic per checkpoint — variety comes from
sampling several checkpoints, as in the study, see
:mod:`generative.stamp_pool`). The output is ``tanh`` in [-1, 1].

**Discriminator: PatchGAN.** A few strided convolutions map the
(condition, image) pair to a grid of logits, one per overlapping patch
(receptive field 34 px for ``n_layers=2``, 70 px for 3): it judges local
texture, while the L1 loss of the cGAN keeps the large-scale layout. On
64-pixel patches two layers suffice (a 70-pixel field would see the whole
patch).

Normalisation is instance norm (pix2pix's ``--norm instance``): it behaves
the same in training and evaluation mode and with any batch size; the
innermost (1/32-size) block has none. Weights start from N(0, 0.02) as in
pix2pix, drawn from the global torch generator (which
:class:`generative.base.GenerativeModel` seeds and restores).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["UNetGenerator", "PatchDiscriminator", "init_weights", "channel_plan"]


def channel_plan(width: int, depth: int, max_mult: int = 8) -> list[int]:
    """Channels of the encoder's feature maps, one per scale: ``width * min(2**k, max_mult)``."""
    return [int(width) * min(2 ** k, int(max_mult)) for k in range(int(depth))]


def _norm(channels: int, kind: str) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; use 'instance' or 'none'")


class UNetGenerator(nn.Module):
    """pix2pix U-Net; input (N, in_channels, S, S) with S divisible by ``2 ** depth``; output (N, out_channels, S, S).

    ``skips=False`` removes the skip connections (an encoder-decoder, for
    tests and ablations: the output then depends on the input only through
    the bottleneck).
    """

    def __init__(self, in_channels: int = 2, out_channels: int = 1, width: int = 32, depth: int = 5,
                 max_mult: int = 8, dropout: float = 0.5, norm: str = "instance", skips: bool = True):
        super().__init__()
        if int(depth) < 2:
            raise ValueError(f"depth must be >= 2, got {depth}")
        self.depth, self.skips = int(depth), bool(skips)
        ch = channel_plan(width, depth, max_mult)
        down = [nn.Conv2d(in_channels, ch[0], 4, 2, 1)]
        for k in range(1, self.depth):
            innermost = k == self.depth - 1
            down.append(nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(ch[k - 1], ch[k], 4, 2, 1),
                                      _norm(ch[k], "none" if innermost else norm)))
        up = []
        for k in range(self.depth):
            cin = ch[k] if (k == self.depth - 1 or not self.skips) else 2 * ch[k]
            if k == 0:
                up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(cin, out_channels, 4, 2, 1), nn.Tanh()))
                continue
            layers = [nn.ReLU(), nn.ConvTranspose2d(cin, ch[k - 1], 4, 2, 1), _norm(ch[k - 1], norm)]
            if dropout > 0 and k >= self.depth - 3:
                layers.append(nn.Dropout(float(dropout)))
            up.append(nn.Sequential(*layers))
        self.down, self.up = nn.ModuleList(down), nn.ModuleList(up)

    def bottleneck(self, x: torch.Tensor) -> torch.Tensor:
        """The innermost feature map (N, C, S / 2**depth, S / 2**depth)."""
        for block in self.down:
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        h = x
        for block in self.down:
            h = block(h)
            feats.append(h)
        for k in reversed(range(self.depth)):
            if k < self.depth - 1 and self.skips:
                h = torch.cat([h, feats[k]], dim=1)
            h = self.up[k](h)
        return h


class PatchDiscriminator(nn.Module):
    """PatchGAN: (N, in_channels, S, S) -> (N, 1, P, P) logits, one per overlapping patch."""

    def __init__(self, in_channels: int = 3, width: int = 32, n_layers: int = 2, max_mult: int = 8,
                 norm: str = "instance"):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = width
        for k in range(1, int(n_layers)):
            c_next = width * min(2 ** k, max_mult)
            layers += [nn.Conv2d(c, c_next, 4, 2, 1), _norm(c_next, norm), nn.LeakyReLU(0.2)]
            c = c_next
        c_next = width * min(2 ** int(n_layers), max_mult)
        layers += [nn.Conv2d(c, c_next, 4, 1, 1), _norm(c_next, norm), nn.LeakyReLU(0.2),
                   nn.Conv2d(c_next, 1, 4, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def init_weights(net: nn.Module, std: float = 0.02) -> nn.Module:
    """pix2pix initialisation: convolutions N(0, std), norm scales N(1, std), biases 0 (global torch RNG)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.InstanceNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return net
