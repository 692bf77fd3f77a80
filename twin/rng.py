"""One random generator per component, all spawned from one seed.

Improves on desmod's single shared RNG: each component (a machine's
process noise, its sensors, its breakdowns, the robot...) gets its own
``numpy.random.Generator`` from ``SeedSequence(seed, spawn_key=(crc32(name),))``.
The key depends on the component's *name*, not on creation order, so adding
a machine or a sensor does not change any other component's draws.
"""
from __future__ import annotations

import zlib

import numpy as np


def component_rng(seed: int, name: str) -> np.random.Generator:
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(key,))))
