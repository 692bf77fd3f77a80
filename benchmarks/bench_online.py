"""Online runner throughput with the LSTM in inference, against bare batched torch inference.

Data: a simulated run folder with curves (outside the timed spans), and
an LSTM cycle classifier (3 x 100, 34 channels, sequences of 300 points =
every 4th 10 ms sample; its training sequence length) fitted for one
epoch on the same cycles (untimed: only inference is measured).

Timed (same thread count, interleaved):

* (a) ``OnlineRunner.run`` on a record stream in memory
  (:meth:`learners.stream.RecordStream.from_tables`: the cycles and curves
  tables as a live subscriber to the twin's bus holds them; made once,
  outside the timed span): each cycle put on the fine grid and scaled, the
  LSTM predicting blocks of 32 cycles (``learn=False``), the label
  bookkeeping and rolling metrics, the River drift detectors (ADWIN,
  Page-Hinkley, KSWIN on the error stream; ADWIN on each charted feature),
  EWMA and CUSUM charts, and the output Parquet files and ``metrics.json``
  (no HTML report, no gap windows);
* (a') the same from the run folder: ``cycles.parquet`` and
  ``curves.parquet`` read and decoded row group by row group inside the
  timed span (34 channels x ~1950 float32 per cycle, zstd) — the offline
  replay of a stored run;
* (b) baseline: the same model's forward pass (``torch.inference_mode``,
  batches of 32, sigmoid and softmax) on the same cycles' sequences,
  already scaled and in one tensor.

Cycles per second = cycles / wall time; target (a)/(b) >= 0.7; (a')/(b) is
reported against the same target for information (the Parquet decode of
the raw curves alone costs about half of the LSTM's inference on one core).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import SEED, Result, bench_config, interleaved, ratio

TARGET_RATIO = 0.7
LENGTH, STRIDE, HIDDEN, LAYERS, BATCH = 300, 4, 100, 3, 32


def run(quick: bool = False, repeat: int = 3) -> list[Result]:
    import torch

    from learners.lstm import CurveGrid, LSTMCycleClassifier, read_curve_batch
    from learners.online import OnlineRunner
    from twin.simulate import simulate_molding

    repeat = 1 if quick else repeat
    cycles = 32 if quick else 256
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory(prefix="twinloop-bench-online-") as tmp:
            tmp = Path(tmp)
            data = simulate_molding(bench_config(**{"cell.mtbf_h": 0.0}), tmp / "stream", cycles=cycles)
            batch, _ = read_curve_batch([data], CurveGrid(LENGTH, STRIDE))
            clf = LSTMCycleClassifier(length=LENGTH, stride=STRIDE, hidden_size=HIDDEN, num_layers=LAYERS, epochs=1,
                                      seed=SEED).fit(batch.take(range(min(len(batch), 32))))
            seqs, _ = clf.training_sequences(batch.values, (0,))
            model = clf.model_.eval()

            def bare() -> int:
                with torch.inference_mode():
                    for s in range(0, seqs.shape[0], BATCH):
                        fl, dl = model(seqs[s:s + BATCH])
                        torch.sigmoid(fl)
                        torch.softmax(dl, dim=-1)
                return int(seqs.shape[0])

            import pyarrow.parquet as pq

            from learners.stream import RecordStream

            memory = RecordStream.from_tables([("stream", pq.read_table(data / "cycles.parquet"),
                                                pq.read_table(data / "curves.parquet"))])

            def runner_on(source):
                def go() -> dict:
                    r = OnlineRunner({"lstm": clf}, batch_size=BATCH, learn=False,
                                     error_detectors=("adwin", "page_hinkley", "kswin"), feature_detectors=("adwin",),
                                     spc_in_control=min(100, cycles // 2), gap=False, report=False, seed=SEED)
                    r.run(source, tmp / "out", overwrite=True)
                    return r.metrics_
                return go

            t = interleaved({"memory": runner_on(memory), "parquet": runner_on([data]), "bare": bare}, repeat)
            metrics = t["memory"].payload
    finally:
        torch.set_num_threads(threads)
    rate = {k: cycles / v.best for k, v in t.items()}
    shape = {"cycles": cycles, "length": LENGTH, "stride": STRIDE, "channels": len(batch.channels),
             "hidden": HIDDEN, "layers": LAYERS, "batch": BATCH, "torch_threads": 1,
             "alarms": metrics.get("alarm_counts", {})}
    return [
        Result("online: bare batched torch inference (baseline)", rate["bare"], "cycles/s",
               note=f"{LAYERS}x{HIDDEN} LSTM on {len(batch.channels)}x{LENGTH} sequences, batch {BATCH}, 1 thread",
               extra={"timing": t["bare"].summary(), **shape}),
        Result("online: OnlineRunner, LSTM inference + River detectors + SPC, records in memory", rate["memory"],
               "cycles/s", baseline=rate["bare"], ratio=ratio(rate["memory"], rate["bare"]), target=TARGET_RATIO,
               note=f"{cycles} simulated cycles with curves, blocks of {BATCH}, outputs written",
               extra={"timing": t["memory"].summary(), **shape}),
        Result("online: OnlineRunner, the same from the run folder (Parquet decode included)", rate["parquet"],
               "cycles/s", baseline=rate["bare"], ratio=ratio(rate["parquet"], rate["bare"]), target=TARGET_RATIO,
               note="raw curves decoded inside the timed span",
               extra={"timing": t["parquet"].summary(), **shape}),
    ]


if __name__ == "__main__":  # python -m benchmarks.bench_online [--quick]: this module alone, pinned to one core
    import sys

    from benchmarks.__main__ import pin_to_one_core, table

    pin_to_one_core(None)
    print(table(run(quick="--quick" in sys.argv[1:])))
