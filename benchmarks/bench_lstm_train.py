"""LSTM cycle-classifier training throughput against a bare torch training loop.

Data: the twin's own curves (a short simulation with curves, outside the
timed spans) on the classifier's fine grid: 34 channels, sequences of 300
points (every 4th 10 ms sample), offset sampling on (4 sequences per
cycle) — the study's setting.

Timed (one epoch each, same thread count, interleaved):

* (a) ``LSTMCycleClassifier.fit``: everything a user's ``fit`` does — robust
  scaling fitted on the data, offset sampling, tensors, the seeded
  training loop with both heads, class weights, gradient clipping;
* (b) baseline: a bare torch loop over the same sequences already scaled
  and in one tensor: the same network (:class:`learners.lstm.CycleLSTM`,
  3 x 100), Adam, the same two class-weighted losses, clipping, batch size
  and shuffling.

Sequences per second = (cycles x 4) / wall time; target (a)/(b) >= 0.8.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import SEED, Result, bench_config, interleaved, ratio

TARGET_RATIO = 0.8
LENGTH, STRIDE, HIDDEN, LAYERS, BATCH = 300, 4, 100, 3, 32


def training_data(cycles: int, tmp: Path):
    """The twin's curves of ``cycles`` cycles as a CurveBatch on the fine grid (with labels)."""
    from learners.lstm import CurveGrid, read_curve_batch
    from twin.simulate import simulate_molding

    run = simulate_molding(bench_config(**{"cell.mtbf_h": 0.0}), tmp / "train", cycles=cycles)
    batch, _ = read_curve_batch([run], CurveGrid(LENGTH, STRIDE))
    return batch


def bare_loop(batch, classes: list[str]):
    """A function running one epoch of a plain torch training loop on pre-scaled tensors."""
    import numpy as np
    import torch
    from torch.nn import functional as F

    from learners.lstm import CycleLSTM, RobustChannelScaler, class_weights, offset_sample

    seqs, cyc = offset_sample(RobustChannelScaler().fit_transform(batch.values), STRIDE)
    X = torch.from_numpy(np.ascontiguousarray(seqs.transpose(0, 2, 1)))
    index = {c: i for i, c in enumerate(classes)}
    y_fail = torch.tensor([lab != "good" for lab in batch.labels], dtype=torch.float32)[cyc]
    y_cls = torch.tensor([index[lab] for lab in batch.labels])[cyc]
    n_fail = int(sum(lab != "good" for lab in batch.labels))
    pos_weight = torch.tensor(float(np.clip((len(batch) - n_fail) / max(n_fail, 1), 0.01, 100.0)))
    weight = class_weights(torch.tensor([batch.labels.count(c) for c in classes]))
    torch.manual_seed(SEED)
    model = CycleLSTM(X.shape[2], len(classes), HIDDEN, LAYERS, 0.2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(SEED)

    def epoch() -> int:
        model.train()
        perm = torch.randperm(X.shape[0], generator=gen)
        for s in range(0, X.shape[0], BATCH):
            idx = perm[s:s + BATCH]
            fl, dl = model(X[idx])
            loss = (F.binary_cross_entropy_with_logits(fl, y_fail[idx], pos_weight=pos_weight)
                    + F.cross_entropy(dl, y_cls[idx], weight=weight))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        return int(X.shape[0])

    return epoch


def run(quick: bool = False, repeat: int = 3) -> list[Result]:
    import torch

    from learners.lstm import LSTMCycleClassifier

    repeat = 1 if quick else repeat
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory(prefix="twinloop-bench-lstm-") as tmp:
            batch = training_data(8 if quick else 64, Path(tmp))
        n_seq = len(batch) * STRIDE
        classes = ["good"] + sorted(set(batch.labels) - {"good"})

        def candidate() -> int:
            clf = LSTMCycleClassifier(length=LENGTH, stride=STRIDE, hidden_size=HIDDEN, num_layers=LAYERS,
                                      epochs=1, batch_size=BATCH, seed=SEED)
            clf.fit(batch)
            return clf.history_[0]["sequences"]

        t = interleaved({"fit": candidate, "bare": bare_loop(batch, classes)}, repeat)
    finally:
        torch.set_num_threads(threads)
    rate = {k: n_seq / v.best for k, v in t.items()}
    shape = {"cycles": len(batch), "sequences": n_seq, "length": LENGTH, "stride": STRIDE, "channels":
             len(batch.channels), "hidden": HIDDEN, "layers": LAYERS, "batch": BATCH, "torch_threads": 1}
    return [
        Result("lstm train: bare torch loop (baseline)", rate["bare"], "sequences/s",
               note=f"{LAYERS}x{HIDDEN} LSTM, {len(batch.channels)}x{LENGTH}, batch {BATCH}, 1 thread",
               extra={"timing": t["bare"].summary(), **shape}),
        Result("lstm train: LSTMCycleClassifier.fit (scaling, offsets x4, 2 heads)", rate["fit"], "sequences/s",
               baseline=rate["bare"], ratio=ratio(rate["fit"], rate["bare"]), target=TARGET_RATIO,
               note=f"{len(batch)} twin cycles -> {n_seq} sequences, one epoch",
               extra={"timing": t["fit"].summary(), **shape}),
    ]


if __name__ == "__main__":  # python -m benchmarks.bench_lstm_train [--quick]: this module alone, pinned to one core
    import sys

    from benchmarks.__main__ import pin_to_one_core, table

    pin_to_one_core(None)
    print(table(run(quick="--quick" in sys.argv[1:])))
