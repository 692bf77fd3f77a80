"""Sensor-curve texture GAN: learn what real sensor curves have and the twin's smooth curves lack.

The twin's curves (:mod:`physics.molding.curves`) are physics laid on the
sampling grid plus white noise; real curves carry *texture*: coloured
noise, ripple, quantisation, small transients and the ringing after a
step. :class:`SensorTextureGAN` is a conditional 1-D convolutional GAN
that learns that texture as a **residual**: given the smooth curve ``c``
of a window, the generator draws a texture ``r = G(z, c)`` and the curve
``c + r`` should look like a logged curve; the critic judges the pair
(condition, condition + residual) — concretely (condition features,
residual / channel scale), the same information in a better-scaled form.

What is paired with what, and why. The ideal pairing would be a real
cycle and the twin simulated at that cycle's setpoints: residual = real -
twin. With the real curves available (the Kassel exports: one upper-
workpiece cycle at 10 ms with no cycle log, i.e. no setpoints, and one
lower-workpiece cycle at 30 ms) that is not possible, and even with
setpoints the twin's curve would not line up with the real one sample for
sample (different cavity, switchover and hold timing), so real - twin
would teach the GAN the twin's *shape* error, which it would then paste
onto every twin curve regardless of its shape. So the residual is learned
against the real curve's own smooth part: ``residual = real -
smooth(real)``, with the low-pass of :mod:`generative.curve_smoothing`,
chosen to remove what the physics does not produce and keep what it does.
When the texture is applied, the *same* low-pass is applied to the twin's
curve first, so the twin's own white noise is replaced by the learned
texture, not added to it (:meth:`SensorTextureGAN.texture_curves`).

Training data: a :class:`~generative.curve_windows.CurveWindows` with
``condition`` (smooth) and ``target`` (real) windows of several channels;
:func:`generative.curve_windows.windows_from_runs` builds it from run
folders (e.g. ``twinloop ingest curves`` output). Per channel, the model
learns the condition's centre and spread, the residual's standard
deviation (the texture amplitude, the unit the networks work in) and the
channel's quantisation lattice (:mod:`generative.curve_quantisation`),
which is applied after generation when ``quantise=True``.

Loss: hinge (Lim & Ye 2017; as in SAGAN and BigGAN) with a spectrally
normalised patch critic (:mod:`generative.sensor_texture_nets`), Adam with
beta1 = 0.5 and a two-time-scale learning rate (critic 2x the
generator's; Heusel et al., NIPS 2017). Cheaper per step than WGAN-GP (no
second backward pass) and stable at this size.

Usage::

    train = windows_from_runs(["runs/upper"], ["injection_pressure_bar"], length=128, stride=8)
    gan = SensorTextureGAN(steps=3000).fit(train, seed=0, checkpoint_dir="runs/tex/checkpoints")
    textured = gan.sample(len(twin_windows), condition=twin_windows, seed=1)   # (n, L)
    curve = gan.texture_curves("injection_pressure_bar", twin_curves, seed=2)  # (B, T), overlap-add

Device: the networks run on CUDA when available (``device="auto"``; not a
saved setting). Exact resume is tested on CPU; on a GPU cuDNN's own
nondeterminism can make a resumed run differ in the last bits.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from generative.base import GenerativeModel
from generative.curve_overlap_add import overlap_add, overlap_starts
from generative.curve_quantisation import Lattice, estimate_lattice
from generative.curve_smoothing import CurveSmoothing
from generative.curve_windows import CurveDataError, CurveWindows
from generative.sensor_texture_nets import TextureCritic, TextureGenerator

__all__ = ["SensorTextureGAN"]

#: Condition windows kept per channel with the model (for sampling without a condition, and reports).
EXAMPLES_PER_CHANNEL = 16
#: Windows per generator call when texturing long curves (bounds memory).
_CHUNK = 512


class SensorTextureGAN(GenerativeModel):
    """Conditional 1-D GAN that adds learned sensor texture to smooth curves; see the module docstring.

    Parameters
    ----------
    steps, checkpoint_every : as in :class:`~generative.base.GenerativeModel`.
    hidden : width of both networks.
    noise_channels : white-noise channels per sample fed to the generator.
    batch_size : windows per optimiser step.
    lr_g, lr_d : Adam learning rates of generator and critic.
    n_critic : critic steps per generator step.
    quantise : snap generated curves onto each channel's learned lattice.
    device : "auto" (CUDA if available), "cpu" or "cuda"; not saved with the model.

    Attributes after :meth:`fit` / :meth:`load`
    --------------------------------------------
    channels_ (tuple of names), dt_s_, window_samples_, smoothing_ (:class:`CurveSmoothing`),
    center_, spread_, texture_sd_ (per channel, channel units), lattice_ (per channel :class:`Lattice`),
    examples_ (:class:`CurveWindows` of condition windows), history_ (losses per step).
    """

    _param_names = ("steps", "checkpoint_every", "hidden", "noise_channels", "batch_size", "lr_g", "lr_d",
                    "n_critic", "quantise")

    def __init__(self, steps: int = 2000, checkpoint_every: int = 0, hidden: int = 32, noise_channels: int = 4,
                 batch_size: int = 32, lr_g: float = 2e-4, lr_d: float = 4e-4, n_critic: int = 1,
                 quantise: bool = True, device: str = "auto"):
        super().__init__(steps, checkpoint_every)
        self.hidden = hidden
        self.noise_channels = noise_channels
        self.batch_size = batch_size
        self.lr_g = lr_g
        self.lr_d = lr_d
        self.n_critic = n_critic
        self.quantise = quantise
        self.device = device

    # -- what the data teaches before training -------------------------------------------
    def _prepare(self, data: CurveWindows) -> None:
        if not isinstance(data, CurveWindows):
            raise TypeError(f"fit() needs CurveWindows (generative.curve_windows), got {type(data).__name__}")
        if data.target is None:
            raise CurveDataError("fit() needs windows with a target (the logged curves)")
        if len(data) < 2:
            raise CurveDataError(f"fit() needs at least 2 windows, got {len(data)}")
        if not (np.all(np.isfinite(data.condition)) and np.all(np.isfinite(data.target))):
            raise CurveDataError("training windows contain NaN or infinite values")
        self.channels_ = data.channels
        self.dt_s_ = float(data.dt_s)
        self.window_samples_ = int(data.length)
        self.smoothing_ = data.smoothing
        res = data.residual
        self.center_, self.spread_, self.texture_sd_, self.lattice_ = {}, {}, {}, {}
        keep = []
        for ch in self.channels_:
            m = data.channel == ch
            cond = data.condition[m].astype(np.float64)
            self.center_[ch] = float(np.median(cond))
            self.spread_[ch] = float(max(np.std(cond), 1e-6 * max(abs(self.center_[ch]), 1.0), 1e-12))
            self.texture_sd_[ch] = float(max(np.std(res[m].astype(np.float64)), 1e-6 * self.spread_[ch], 1e-12))
            self.lattice_[ch] = estimate_lattice(list(data.target[m])) if self.quantise else Lattice()
            idx = np.flatnonzero(m)
            keep.append(idx[np.linspace(0, idx.size - 1, min(EXAMPLES_PER_CHANNEL, idx.size)).round().astype(int)])
        self.examples_ = data.select(np.concatenate(keep))
        self.examples_ = CurveWindows(self.examples_.condition, None, self.examples_.channel, self.dt_s_,
                                      self.smoothing_, self.examples_.origin)
        # Training tensors (not saved: rebuilt from the data on every fit, also when resuming).
        self._train_features = self._features(data.condition, self._channel_index(data.channel))
        scale = np.array([self.texture_sd_[str(c)] for c in data.channel], dtype=np.float32)[:, None]
        self._train_texture = torch.from_numpy((res / scale).astype(np.float32))[:, None, :]

    def _prepared_state(self) -> dict:
        ex = self.examples_
        return {"channels": list(self.channels_), "dt_s": self.dt_s_, "window_samples": self.window_samples_,
                "smoothing": self.smoothing_.to_dict(),
                "center": dict(self.center_), "spread": dict(self.spread_), "texture_sd": dict(self.texture_sd_),
                "lattice": {k: v.to_dict() for k, v in self.lattice_.items()},
                "examples": {"condition": torch.from_numpy(np.ascontiguousarray(ex.condition)),
                             "channel": [str(c) for c in ex.channel]}}

    def _restore_prepared(self, s: dict) -> None:
        self.channels_ = tuple(s["channels"])
        self.dt_s_ = float(s["dt_s"])
        self.window_samples_ = int(s["window_samples"])
        self.smoothing_ = CurveSmoothing.from_dict(s["smoothing"])
        self.center_ = {k: float(v) for k, v in s["center"].items()}
        self.spread_ = {k: float(v) for k, v in s["spread"].items()}
        self.texture_sd_ = {k: float(v) for k, v in s["texture_sd"].items()}
        self.lattice_ = {k: Lattice.from_dict(v) for k, v in s["lattice"].items()}
        ex = s["examples"]
        self.examples_ = CurveWindows(ex["condition"].numpy().astype(np.float32), None,
                                      np.asarray(ex["channel"], dtype=object), self.dt_s_, self.smoothing_)

    # -- networks ----------------------------------------------------------------------------
    @property
    def _condition_channels(self) -> int:
        return 2 + len(self.channels_)

    def _device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def _networks(self) -> dict[str, nn.Module]:
        dev = self._device()
        return {"G": TextureGenerator(self._condition_channels, int(self.noise_channels), int(self.hidden)).to(dev),
                "D": TextureCritic(self._condition_channels, int(self.hidden)).to(dev)}

    def _optimizers(self, nets: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        return {"G": torch.optim.Adam(nets["G"].parameters(), lr=float(self.lr_g), betas=(0.5, 0.9)),
                "D": torch.optim.Adam(nets["D"].parameters(), lr=float(self.lr_d), betas=(0.5, 0.9))}

    def _train_step(self, data: CurveWindows, step: int, rng: np.random.Generator,
                    gen: torch.Generator) -> dict[str, float]:
        G, D = self.nets_["G"], self.nets_["D"]
        dev = self._device()
        n, B, L = self._train_texture.shape[0], int(self.batch_size), self.window_samples_
        for _ in range(max(int(self.n_critic), 1)):
            idx = torch.from_numpy(rng.integers(0, n, B))
            cond, real = self._train_features[idx].to(dev), self._train_texture[idx].to(dev)
            z = torch.randn((B, int(self.noise_channels), L), generator=gen).to(dev)
            with torch.no_grad():
                fake = G(z, cond)
            d_real, d_fake = D(real, cond), D(fake, cond)
            d_loss = F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()
            self.opts_["D"].zero_grad(set_to_none=True)
            d_loss.backward()
            self.opts_["D"].step()
        z = torch.randn((B, int(self.noise_channels), L), generator=gen).to(dev)
        fake = G(z, cond)
        g_loss = -D(fake, cond).mean()
        self.opts_["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        self.opts_["G"].step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "d_real": d_real.mean().item(),
                "d_fake": d_fake.mean().item(),
                "texture_sd_ratio": float(fake.detach().std().item() / max(real.std().item(), 1e-12))}

    # -- generation ---------------------------------------------------------------------------
    def _channel_index(self, channel) -> np.ndarray:
        names = np.asarray(channel, dtype=object).ravel()
        unknown = sorted({str(c) for c in names} - set(self.channels_))
        if unknown:
            raise CurveDataError(f"channel(s) {unknown} not learned by this model; it knows {list(self.channels_)}")
        lookup = {c: i for i, c in enumerate(self.channels_)}
        return np.array([lookup[str(c)] for c in names], dtype=np.int64)

    def _features(self, condition: np.ndarray, ch_idx: np.ndarray) -> torch.Tensor:
        """Condition features ``(n, 2 + n_channels, L)`` (see :mod:`generative.sensor_texture_nets`)."""
        cond = np.asarray(condition, dtype=np.float32)
        names = [self.channels_[i] for i in ch_idx]
        center = np.array([self.center_[c] for c in names], dtype=np.float32)[:, None]
        spread = np.array([self.spread_[c] for c in names], dtype=np.float32)[:, None]
        tsd = np.array([self.texture_sd_[c] for c in names], dtype=np.float32)[:, None]
        level = (cond - center) / spread
        slope = np.arcsinh(np.gradient(cond, axis=1) / tsd) / 4.0 if cond.shape[1] > 1 else np.zeros_like(cond)
        onehot = np.zeros((cond.shape[0], len(self.channels_), cond.shape[1]), dtype=np.float32)
        onehot[np.arange(cond.shape[0]), ch_idx, :] = 1.0
        return torch.from_numpy(np.concatenate([level[:, None], slope[:, None].astype(np.float32), onehot], axis=1))

    def _texture(self, condition: np.ndarray, ch_idx: np.ndarray, noise: torch.Tensor) -> np.ndarray:
        """Generated texture in channel units, ``(n, L)`` float32 (no grad, eval mode)."""
        G = self.nets_["G"]
        dev = self._device()
        out = []
        for lo in range(0, condition.shape[0], _CHUNK):
            feats = self._features(condition[lo:lo + _CHUNK], ch_idx[lo:lo + _CHUNK]).to(dev)
            out.append(G(noise[lo:lo + _CHUNK].to(dev), feats)[:, 0].cpu().numpy())
        tsd = np.array([self.texture_sd_[self.channels_[i]] for i in ch_idx], dtype=np.float32)[:, None]
        return np.concatenate(out).astype(np.float32) * tsd

    def _snap(self, values: np.ndarray, ch_idx: np.ndarray) -> np.ndarray:
        if not self.quantise:
            return values
        out = values.copy()
        for i in np.unique(ch_idx):
            m = ch_idx == i
            out[m] = self.lattice_[self.channels_[i]].snap(values[m])
        return out

    def example_conditions(self, n: int) -> CurveWindows:
        """``n`` condition windows from the training data kept with the model (cycled through)."""
        self._check_fitted()
        return self.examples_.select(np.arange(int(n)) % len(self.examples_))

    def _sample(self, n: int, condition, gen: torch.Generator) -> np.ndarray:
        if condition is None:
            condition = self.example_conditions(n)
        if isinstance(condition, CurveWindows):
            cond, channel = condition.condition, condition.channel
            if abs(condition.dt_s - self.dt_s_) > 1e-9 * self.dt_s_:
                raise CurveDataError(f"condition windows at {condition.dt_s} s, the model learned {self.dt_s_} s")
        else:
            cond, channel = condition
            cond = np.asarray(cond, dtype=np.float32)
            if isinstance(channel, str):
                channel = [channel] * cond.shape[0]
        cond = np.asarray(cond, dtype=np.float32)
        if cond.ndim != 2 or cond.shape[0] != n:
            raise ValueError(f"condition must be (n={n}, L) windows, got shape {cond.shape}")
        ch_idx = self._channel_index(channel)
        noise = torch.randn((n, int(self.noise_channels), cond.shape[1]), generator=gen)
        return self._snap(cond + self._texture(cond, ch_idx, noise), ch_idx)

    def texture_curves(self, channel: str, values: np.ndarray, *, seed: int = 0, hop: int | None = None,
                       smooth_input: bool = True) -> np.ndarray:
        """Whole curves of one channel with learned texture: ``(B, T)`` or ``(T,)`` → same shape, float32.

        The curves are low-passed with the model's smoothing (``smooth_input``;
        pass False if they are smooth already), cut into windows of the training
        length every ``hop`` samples (default half a window), textured with
        one noise sequence per curve (each window its slice, see
        :mod:`generative.curve_overlap_add`), blended back and snapped onto the
        channel's lattice. Same seed, same output.
        """
        self._check_fitted()
        x = np.asarray(values, dtype=np.float32)
        one = x.ndim == 1
        x = x[None] if one else x
        if x.ndim != 2:
            raise ValueError(f"values must be (T,) or (B, T), got shape {np.shape(values)}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{channel}: curves contain NaN or infinite values")
        B, T = x.shape
        L = self.window_samples_
        ch_idx = self._channel_index([channel] * B)
        smooth = self.smoothing_(x) if smooth_input else x
        padded = np.pad(smooth, ((0, 0), (0, L - T)), mode="edge") if T < L else smooth
        Tp = padded.shape[1]
        starts = overlap_starts(Tp, L, hop)
        gen = torch.Generator().manual_seed(int(seed))
        for net in self.nets_.values():
            net.eval()
        with torch.no_grad():
            noise = torch.randn((B, int(self.noise_channels), Tp), generator=gen)
            idx = starts[:, None] + np.arange(L)[None, :]
            cond_w = padded[:, idx].reshape(B * starts.size, L)
            noise_w = noise[:, :, torch.from_numpy(idx)].permute(0, 2, 1, 3).reshape(B * starts.size, -1, L)
            tex = self._texture(cond_w, np.repeat(ch_idx, starts.size), noise_w)
        blended = overlap_add(tex.reshape(B, starts.size, L), starts, Tp)[:, :T].astype(np.float32)
        out = self._snap(smooth[:, :T] + blended, ch_idx)
        return out[0] if one else out
