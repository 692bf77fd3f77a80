"""The LSTM cycle classifier network: stacked LSTM, a good/not-good head and a defect-type head.

The study's network: 3 LSTM layers of 100 units with dropout, reading the
scaled sensor curves of one cycle (34 channels), classifying the part.
Here the top layer's outputs, averaged over time (``pooling="mean"``; or
its final hidden state, ``"last"``, or both), feed two linear heads:

* ``binary``: one logit of "not good" (the fail), trained with a
  class-weighted binary cross-entropy (``pos_weight`` = n_good / n_fail);
* ``defect``: logits over the defect types seen in training (``good``,
  ``short_shot``, ``sink_marks``, ...), trained with a class-weighted
  cross-entropy — a process engineer wants to know *what* is wrong.

Dropout sits between LSTM layers (``nn.LSTM(dropout=...)``, active only
with two or more layers) and before the heads. Every size is a parameter
(tests use 1 layer x 8 units); nothing hard-codes the channel count.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["CycleLSTM", "class_weights", "POOLINGS"]

#: How the sequence of top-layer outputs becomes one vector: the final hidden state, the mean over
#: time, or both side by side.
POOLINGS: tuple[str, ...] = ("last", "mean", "last_mean")


class CycleLSTM(nn.Module):
    """``forward(x)`` with ``x`` of shape ``(batch, time, channels)`` -> ``(fail_logit (B,), defect_logits (B, K))``."""

    def __init__(self, n_channels: int, n_classes: int, hidden_size: int = 100, num_layers: int = 3,
                 dropout: float = 0.2, pooling: str = "mean"):
        super().__init__()
        if n_channels < 1 or n_classes < 1:
            raise ValueError(f"need at least one channel and one class, got {n_channels}, {n_classes}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = pooling
        self.lstm = nn.LSTM(n_channels, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        width = hidden_size * (2 if pooling == "last_mean" else 1)
        self.binary = nn.Linear(width, 1)
        self.defect = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, (h, _) = self.lstm(x)
        if self.pooling == "last":
            z = h[-1]
        elif self.pooling == "mean":
            z = out.mean(dim=1)
        else:
            z = torch.cat([h[-1], out.mean(dim=1)], dim=-1)
        z = self.drop(z)
        return self.binary(z).squeeze(-1), self.defect(z)


def class_weights(counts: torch.Tensor, max_weight: float = 100.0) -> torch.Tensor:
    """'Balanced' weights ``n / (K * n_k)`` of the classes present (0 for absent ones), capped at ``max_weight``."""
    counts = counts.to(torch.float64)
    present = counts > 0
    k = int(present.sum())
    w = torch.zeros_like(counts)
    if k:
        w[present] = counts.sum() / (k * counts[present])
    return w.clamp(max=max_weight).to(torch.float32)
