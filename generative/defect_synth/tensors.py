"""Grey images between numpy (uint8, 0..255) and torch (float32, -1..1, one channel).

Every network of the defect synthesizer sees images as ``(N, 1, S, S)``
float32 tensors in [-1, 1] (0 → -1, 255 → +1): the range a ``tanh``
output layer produces. :func:`to_images` maps back, rounding to uint8.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["to_tensor", "to_images", "pick_device"]


def to_tensor(images, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 (N, S, S) images (or float in [0, 1]) → float32 (N, 1, S, S) in [-1, 1]."""
    if isinstance(images, torch.Tensor):
        x = images.detach().to("cpu")
        arr = x.numpy()
    else:
        arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 3:
        raise ValueError(f"images must be (N, S, S) grey images, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        t = torch.from_numpy(arr.astype(np.float32) / 127.5 - 1.0)
    else:
        a = arr.astype(np.float32)
        if a.size and (a.min() < -1e-6 or a.max() > 1 + 1e-6):
            raise ValueError("float images must lie in [0, 1] (or pass uint8 0..255)")
        t = torch.from_numpy(a * 2.0 - 1.0)
    return t.unsqueeze(1).to(device)


def to_images(x: torch.Tensor) -> np.ndarray:
    """float (N, 1, S, S) in [-1, 1] → uint8 (N, S, S) (clipped, rounded)."""
    a = (x.detach().to("cpu", torch.float32)[:, 0].numpy() + 1.0) * 127.5
    return np.clip(np.round(a), 0, 255).astype(np.uint8)


def pick_device(device: str) -> torch.device:
    """``"auto"``: the GPU when ``torch.cuda.is_available()``, else the CPU; otherwise the named device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
