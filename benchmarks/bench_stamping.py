"""Billets stamped per second by the vectorised stamping model, against the same model one billet per call.

Candidate (``stamping``): one :meth:`physics.billet.StampingModel.stamp`
call on a batch of 1,000 billets (11 characters each: surface temperature
after the cut, scale, hot-stamping depth per pin, tilt, visibility), the
way the billet twin stamps a heat.

Baseline (``one billet per call``): the same model on the same 1,000
billets, called once per billet, which is what a per-part loop in the twin
would cost. The ratio is what vectorising over billets buys.

Target: >= 20,000 billets/s for the batch (one core), i.e. a heat of 1,000
billets in under 50 ms, so stamping never shows next to rendering a face.
"""
from __future__ import annotations

import numpy as np

from benchmarks.common import SEED, Result, interleaved, ratio

N_BILLETS = 1000
TARGET_BILLETS_PER_S = 20_000.0


def run(quick: bool = False, repeat: int = 3) -> list[Result]:
    from physics.billet import StampingModel
    from scenarios.billet_responses import population

    n = 100 if quick else N_BILLETS
    repeat = 1 if quick else repeat
    model = StampingModel()
    ids, t, force, wear, tilt, _ = population(n, SEED)

    def batch() -> int:
        r = model.stamp(ids, t, force, wear, tilt, np.random.default_rng(SEED))
        return int(r.visibility.size)

    def one_by_one() -> int:
        rng = np.random.default_rng(SEED)
        chars = 0
        for i in range(n):
            r = model.stamp(ids[i:i + 1], t[i:i + 1], force[i:i + 1], wear[i:i + 1], tilt[i:i + 1], rng)
            chars += int(r.visibility.size)
        return chars

    timing = interleaved({"loop": one_by_one, "batch": batch}, repeat)
    base = n / timing["loop"].best
    value = n / timing["batch"].best
    shape = {"billets": n, "chars_per_billet": len(ids[0])}
    return [
        Result("stamping: one billet per call (baseline)", base, "billets/s",
               note="StampingModel.stamp on a batch of 1", extra={"timing": timing["loop"].summary(), "shape": shape}),
        Result("stamping: StampingModel.stamp, one batch", value, "billets/s", baseline=base,
               ratio=ratio(value, base), target=TARGET_BILLETS_PER_S, target_on="value",
               note=f"{n} billets x 11 characters in one call",
               extra={"timing": timing["batch"].summary(), "baseline_timing": timing["loop"].summary(),
                      "shape": shape}),
    ]
