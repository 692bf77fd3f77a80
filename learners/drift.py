"""Drift detectors (River's ADWIN, Page-Hinkley, KSWIN) behind one small interface, and how to grade them.

:class:`DriftDetector` wraps a River detector::

    det = DriftDetector("adwin")            # or "page_hinkley", "kswin"; River's own keyword arguments
    for x in stream:
        det.update(x)
        if det.drift_detected:              # True on the sample where the change is signalled
            ...

It counts what it has seen (``n_seen``) and keeps the indices of every
alarm (``alarms``); River resets its detectors itself after a detection,
so a stream with two changes can raise two alarms. Use it on

* the **error stream** of a learner (0 = right, 1 = wrong, one value per
  labelled record): a rise of the error rate is concept drift or a sensor
  going bad. ADWIN (adaptive windowing; Bifet & Gavaldà, 2007) keeps the
  longest window whose two halves do not differ significantly and is the
  usual choice for error rates; Page-Hinkley (Page, 1954) accumulates the
  deviations from the running mean and signals when the cumulative sum
  strays more than ``threshold`` from its minimum; KSWIN runs a
  Kolmogorov-Smirnov test between the latest ``stat_size`` values and a
  sample of the older window — on 0/1 errors the KS test has little to
  work with (two distinct values), so prefer ADWIN or Page-Hinkley there;
* **features** (a cycle time, a cushion): standardise them first (the
  online runner scales each feature by its in-control mean and sd), since
  Page-Hinkley's ``delta`` and ``threshold`` are in the units of x.

:func:`evaluate_detector` grades a detector on seeded synthetic streams
with a known change point: the share of changes detected, the detection
delay (samples from the change to the first alarm at or after it), and
false alarms (alarms before the change, and on streams without any
change) per 1,000 samples.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

__all__ = ["DriftDetector", "DETECTORS", "make_detector", "evaluate_detector", "synthetic_stream"]

#: Detector names and the River classes behind them.
DETECTORS: dict[str, str] = {"adwin": "ADWIN", "page_hinkley": "PageHinkley", "kswin": "KSWIN"}


class DriftDetector:
    """A River drift detector with ``update(x)``, ``drift_detected``, ``n_seen`` and ``alarms``.

    ``name``: one of :data:`DETECTORS`; ``seed``: passed to the detectors
    that draw random numbers (KSWIN); ``params``: River's keyword arguments
    (``delta`` for ADWIN; ``delta``, ``threshold``, ``min_instances``,
    ``mode`` for Page-Hinkley; ``alpha``, ``window_size``, ``stat_size`` for
    KSWIN).
    """

    def __init__(self, name: str = "adwin", seed: int = 0, **params: Any):
        from river import drift

        if name not in DETECTORS:
            raise ValueError(f"unknown drift detector {name!r}; expected one of {sorted(DETECTORS)}")
        cls = getattr(drift, DETECTORS[name])
        if name == "kswin":
            params.setdefault("seed", int(seed))
        self.name = name
        self.params = dict(params)
        self._det = cls(**params)
        self.n_seen = 0
        self.alarms: list[int] = []
        self._last = False

    def update(self, x: float) -> bool:
        """Feed one value (NaN/None are skipped); returns :attr:`drift_detected`."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            self._last = False
            return False
        self._det.update(float(x))
        self._last = bool(self._det.drift_detected)
        if self._last:
            self.alarms.append(self.n_seen)
        self.n_seen += 1
        return self._last

    @property
    def drift_detected(self) -> bool:
        """True when the last :meth:`update` signalled a change."""
        return self._last

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"DriftDetector({self.name!r}{', ' if args else ''}{args})"


def make_detector(spec: str | dict, seed: int = 0) -> DriftDetector:
    """A detector from a name (``"adwin"``) or a dict (``{"name": "page_hinkley", "threshold": 25}``)."""
    if isinstance(spec, str):
        return DriftDetector(spec, seed=seed)
    spec = dict(spec)
    name = spec.pop("name", None)
    if name is None:
        raise ValueError(f"detector spec {spec!r} has no 'name'")
    return DriftDetector(name, seed=seed, **spec)


def synthetic_stream(rng: np.random.Generator, n_before: int, n_after: int, *, kind: str = "mean",
                     shift: float = 1.0, p0: float = 0.1) -> np.ndarray:
    """A stream with a change at index ``n_before`` (``n_after = 0``: no change).

    ``kind="mean"``: N(0, 1) then N(shift, 1) (a feature shifting by
    ``shift`` sds); ``"bernoulli"``: errors at rate ``p0`` then
    ``p0 + shift`` (an error stream whose error rate rises).
    """
    if kind == "mean":
        x = rng.standard_normal(n_before + n_after)
        x[n_before:] += shift
        return x
    if kind == "bernoulli":
        p = np.full(n_before + n_after, p0)
        p[n_before:] = min(1.0, p0 + shift)
        return (rng.random(p.size) < p).astype(float)
    raise ValueError(f"kind must be 'mean' or 'bernoulli', got {kind!r}")


def evaluate_detector(factory: Callable[[int], DriftDetector] | str | dict, *, n_streams: int = 30,
                      n_before: int = 1000, n_after: int = 1000, kind: str = "mean", shift: float = 1.0,
                      p0: float = 0.1, seed: int = 0) -> dict:
    """Detection rate, delay and false alarms of a detector on seeded streams with a known change point.

    ``factory(seed) -> DriftDetector`` (or a name / spec dict for
    :func:`make_detector`). Each of ``n_streams`` streams has its change at
    ``n_before`` (:func:`synthetic_stream`); another ``n_streams`` streams
    of the same length have none. Per stream: the first alarm at or after
    the change (delay = its index - ``n_before``; missed if none), and the
    alarms before the change (false alarms). Returns::

        {"detected_fraction", "delay_mean", "delay_median", "delay_p90", "delay_max",
         "false_alarms_before_change_per_1000", "false_alarms_stationary_per_1000",
         "stationary_streams_with_alarm", "n_streams", "n_before", "n_after", "kind", "shift",
         "delays": [...], "detector": repr}

    Streams and detector seeds come from one ``numpy.random.SeedSequence(seed)``.
    """
    make = factory if callable(factory) else (lambda s: make_detector(factory, seed=s))
    root = np.random.SeedSequence(int(seed))
    change_ss, still_ss = root.spawn(2)
    delays: list[int] = []
    missed = 0
    false_before = 0
    name = ""
    for ss in change_ss.spawn(n_streams):
        rng = np.random.default_rng(ss)
        det = make(int(ss.generate_state(1)[0]))
        name = repr(det)
        x = synthetic_stream(rng, n_before, n_after, kind=kind, shift=shift, p0=p0)
        for v in x:
            det.update(v)
        pre = [a for a in det.alarms if a < n_before]
        post = [a for a in det.alarms if a >= n_before]
        false_before += len(pre)
        if post:
            delays.append(post[0] - n_before)
        else:
            missed += 1
    false_still = 0
    streams_with_alarm = 0
    for ss in still_ss.spawn(n_streams):
        rng = np.random.default_rng(ss)
        det = make(int(ss.generate_state(1)[0]))
        for v in synthetic_stream(rng, n_before + n_after, 0, kind=kind, shift=0.0, p0=p0):
            det.update(v)
        false_still += len(det.alarms)
        streams_with_alarm += bool(det.alarms)
    d = np.asarray(delays, dtype=float)

    def stat(fn: Callable[[np.ndarray], float]) -> float | None:
        return float(fn(d)) if d.size else None

    return {
        "detector": name, "kind": kind, "shift": shift, "n_streams": n_streams, "n_before": n_before,
        "n_after": n_after, "detected_fraction": (n_streams - missed) / n_streams,
        "delay_mean": stat(np.mean), "delay_median": stat(np.median),
        "delay_p90": stat(lambda v: np.percentile(v, 90)), "delay_max": stat(np.max),
        "false_alarms_before_change_per_1000": 1000.0 * false_before / (n_streams * n_before),
        "false_alarms_stationary_per_1000": 1000.0 * false_still / (n_streams * (n_before + n_after)),
        "stationary_streams_with_alarm": streams_with_alarm / n_streams,
        "delays": [int(v) for v in delays],
    }
