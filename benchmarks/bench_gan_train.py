"""Defect-synthesizer training steps per second at 128 x 128, batch 8, on the CPU, against a bare torch loop.

Candidate: :meth:`DefectSynthesizer._train_step` in its synthesis phase
(the phase that dominates a run: SFT encoder with skips → decoder →
feature network → projected discriminator step → generator step with
weighted L1, adversarial, perceptual and in-domain inversion losses,
DiffAugment before the discriminator), called as ``fit`` calls it: the
batch drawn with the model's numpy Generator (class-balanced, mirrored),
losses returned as floats. Also its unconditional pretraining step.

Baseline (``bare torch``): the same networks (a copy of the model's, same
weights), the same optimisers and the same losses and augmentation written
as a plain loop over one fixed batch already in memory — no batch drawing,
no phase logic, no float conversion of the losses. The ratio is model /
bare (target >= 0.8: the API costs at most a fifth).

Data: 64 synthetic grey tiles with random rectangular masks in 5 classes
(the speed does not depend on the pixels). Single thread (``python -m
benchmarks`` pins one core).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.common import SEED, Result, interleaved, ratio

SIZE, BATCH = 128, 8
TARGET_RATIO = 0.8


def _data(size: int, n: int = 64):
    from generative.defect_synth import DefectData

    rng = np.random.default_rng(SEED)
    images = rng.integers(60, 200, (n, size, size)).astype(np.uint8)
    labels = np.arange(n) % 6
    masks = np.zeros((n, size, size), bool)
    for i in np.flatnonzero(labels > 0):
        y, x = rng.integers(0, size // 2, 2)
        masks[i, y:y + size // 4, x:x + size // 8] = True
    return DefectData(images, masks, labels, ("Free", "a", "b", "c", "d", "e"))


def _model(size: int, batch: int, data):
    from generative.defect_synth import DefectSynthesizer

    m = DefectSynthesizer(steps=0, size_px=size, batch_size=batch, feature_steps=0, pretrain_steps=0, device="cpu")
    m.fit(data, seed=SEED)           # builds networks and optimisers (0 steps)
    for net in m.nets_.values():
        net.train()
    return m


def _bare_loop(m, x: torch.Tensor, onehot: torch.Tensor, gen: torch.Generator):
    """One synthesis step written out by hand over the model's networks (see the module docstring)."""
    from generative.defect_synth.augment import diff_augment
    from generative.image_metrics import perceptual_from_features

    Fn, D, S, E = (m.nets_[k] for k in "FDSE")
    optD, optE, optG = m.opts_["D"], m.opts_["E"], m.opts_["G"]
    Fn.requires_grad_(False)
    msk = onehot.sum(1, keepdim=True).clamp(max=1.0)

    def step() -> None:
        w, skips = E.encode(torch.cat([x * (1 - msk), onehot], 1), onehot)
        out = S(w, gen, skips)
        ff = Fn.stages(out)
        with torch.no_grad():
            fr = Fn.stages(x)
            frd = Fn.stages(diff_augment(x, gen))
        ffd = Fn.stages(diff_augment(out, gen))
        dl = F.softplus(-D(frd)).mean() + F.softplus(D([f.detach() for f in ffd])).mean()
        optD.zero_grad(set_to_none=True)
        dl.backward()
        optD.step()
        D.requires_grad_(False)
        adv = F.softplus(-D(ffd)).mean()
        pix = ((out - x).abs() * (1 + 4.0 * msk)).mean()
        perc = perceptual_from_features(ff, fr)
        w2 = E(torch.cat([out * (1 - msk), onehot], 1), onehot)
        inv = F.mse_loss(w2, w.detach()) / (w.detach().var() + 1e-8)
        g = 10.0 * pix + adv + perc + inv
        optE.zero_grad(set_to_none=True)
        optG.zero_grad(set_to_none=True)
        g.backward()
        optE.step()
        optG.step()
        D.requires_grad_(True)

    return step


def run(quick: bool = False, repeat: int = 3) -> list[Result]:
    size, batch, steps = (32, 4, 2) if quick else (SIZE, BATCH, 10)
    repeat = 1 if quick else repeat
    data = _data(size)
    model = _model(size, batch, data)
    bare_model = _model(size, batch, data)
    idx, flip = bare_model._draw(np.random.default_rng(SEED), batch)
    x, onehot = bare_model._batch(idx, flip)
    bare_step = _bare_loop(bare_model, x, onehot, torch.Generator().manual_seed(SEED))
    synth_step = model.feature_steps + model.pretrain_steps  # the synthesis phase

    def model_steps() -> None:
        for _ in range(steps):
            model._train_step(data, synth_step, model.np_rng_, model.gen_)

    def model_pretrain() -> None:
        model.pretrain_steps = 10 ** 9  # every step is a pretraining step
        try:
            for _ in range(steps):
                model._train_step(data, 0, model.np_rng_, model.gen_)
        finally:
            model.pretrain_steps = 0

    def bare_steps() -> None:
        for _ in range(steps):
            bare_step()

    t = interleaved({"bare": bare_steps, "model": model_steps, "pretrain": model_pretrain}, repeat)
    base = steps / t["bare"].best
    cand = steps / t["model"].best
    pre = steps / t["pretrain"].best
    shape = {"size_px": size, "batch": batch, "steps_per_timing": steps, "threads": torch.get_num_threads(),
             "parameters": {k: int(sum(p.numel() for p in v.parameters())) for k, v in model.nets_.items()}}
    return [
        Result("gan_train: bare torch synthesis step (baseline)", base, "steps/s",
               note=f"{size}x{size}, batch {batch}: same networks and losses, fixed batch",
               extra={"timing": t["bare"].summary(), **shape}),
        Result("gan_train: DefectSynthesizer synthesis step", cand, "steps/s", baseline=base, ratio=ratio(cand, base),
               target=TARGET_RATIO, note=f"_train_step as fit calls it ({size * size * batch * cand / 1e3:.0f} kpx/s)",
               extra={"timing": t["model"].summary(), **shape}),
        Result("gan_train: DefectSynthesizer pretraining step", pre, "steps/s",
               note="unconditional decoder pretraining (phase 2)", extra={"timing": t["pretrain"].summary(), **shape}),
    ]
