"""A small 1-D CNN that tells two sets of curve windows apart (the post-hoc classifier of the curve metrics).

TimeGAN's discriminative score (Yoon et al., NeurIPS 2019) uses a 2-layer
RNN; for short windows whose difference is *texture* (noise colour,
amplitude, quantisation, spikes) a small dilated CNN sees the same things
at a fraction of the cost: three convolutions (kernel 7, then 5 with
dilations 2 and 4: a receptive field of 31 samples), then per feature map
the mean, the standard deviation and the maximum over time (amplitude and
spikes survive the pooling), then a linear layer to one logit.

:class:`WindowCNN` follows scikit-learn's conventions: ``__init__`` stores
settings; ``fit(X, y)`` trains (``X``: ``(n, channels, L)`` float, ``y``:
0/1), ``predict_proba(X)`` returns ``(n, 2)``. Training is mini-batch
Adam for ``epochs`` passes, more if that is fewer than ``min_steps``
optimiser steps (small sets would otherwise stop undertrained), seeded: the weights and the
batch order come from ``seed`` only (run inside ``torch.random.fork_rng``,
so the caller's global torch state is untouched).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["WindowCNN"]


class _Net(nn.Module):
    def __init__(self, c_in: int, hidden: int):
        super().__init__()
        h = hidden
        self.conv = nn.Sequential(
            nn.Conv1d(c_in, h, 7, padding=3), nn.ReLU(),
            nn.Conv1d(h, h, 5, padding=4, dilation=2), nn.ReLU(),
            nn.Conv1d(h, h, 5, padding=8, dilation=4), nn.ReLU(),
        )
        self.head = nn.Linear(3 * h, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.conv(x)
        pooled = torch.cat([f.mean(dim=-1), f.std(dim=-1), f.amax(dim=-1)], dim=1)
        return self.head(pooled)[:, 0]


class WindowCNN:
    """Binary classifier of ``(n, channels, L)`` windows; see the module docstring."""

    def __init__(self, hidden: int = 16, epochs: int = 40, min_steps: int = 150, batch_size: int = 32,
                 lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0):
        self.hidden = hidden
        self.epochs = epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed

    def fit(self, X: np.ndarray, y: np.ndarray) -> "WindowCNN":
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        if X.ndim == 2:
            X = X[:, None, :]
        y = torch.as_tensor(np.asarray(y, dtype=np.float32))
        rng = np.random.default_rng(self.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.seed))
            self.net_ = _Net(X.shape[1], int(self.hidden))
        opt = torch.optim.Adam(self.net_.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay))
        loss_fn = nn.BCEWithLogitsLoss()
        n = X.shape[0]
        per_epoch = max(1, -(-n // int(self.batch_size)))
        epochs = max(int(self.epochs), -(-int(self.min_steps) // per_epoch))
        self.net_.train()
        for _ in range(epochs):
            order = torch.from_numpy(rng.permutation(n))
            for lo in range(0, n, int(self.batch_size)):
                idx = order[lo:lo + int(self.batch_size)]
                if idx.numel() < 2:
                    continue
                loss = loss_fn(self.net_(X[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        self.net_.eval()
        self.n_channels_ = int(X.shape[1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        if X.ndim == 2:
            X = X[:, None, :]
        with torch.no_grad():
            p = torch.sigmoid(self.net_(X)).numpy().astype(np.float64)
        return np.column_stack([1.0 - p, p])
