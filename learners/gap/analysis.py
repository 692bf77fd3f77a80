"""The sim-to-real gap of two record sets: every metric of the package in one fitted object.

::

    gap = SimRealGap(seed=0).fit("runs/sim", "runs/real")   # run folders, Tables, dicts, Records
    gap.verdict_["text"]                                     # plain-language summary
    metrics = gap.to_dict()                                  # JSON-ready (metrics.json of ``twinloop gap``)

What :meth:`SimRealGap.fit` does, in order:

1. selects the scalar features (:func:`learners.gap.records.select_features`;
   what was dropped and why is kept in ``selection_``);
2. per feature: Wasserstein distance, KS test, BH-adjusted p-values
   (:mod:`learners.gap.univariate`), on every non-missing value;
3. multivariate, on the rows complete in all selected features: the MMD
   permutation test (:mod:`learners.gap.mmd`, robust standardisation of the
   ``scale`` reference) and the classifier two-sample test
   (:mod:`learners.gap.c2st`);
4. if both sets have curves (and ``curves=True``): the same three on the
   per-cycle curve features of the channels present in both, and the
   discriminative score on the raw curves resampled onto a common grid
   (:mod:`learners.gap.curves`, :mod:`learners.gap.discriminative`); at most
   ``max_curve_cycles`` cycles per side are read (a seeded subsample);
   channels without values in most cycles of either set (a real log maps
   only some channels) are left out, with the reason;
5. a verdict in plain words (:func:`verdict`).

How to read the two multivariate numbers together: the MMD p-value answers
"is there any difference at all?" (exactly calibrated: below alpha in at
most alpha of the cases where there is none), the C2ST AUC answers "how
easily can the two be told apart?" (0.5 = not at all, 1 = always). With
many cycles a trivial difference is "significant"; with few, a large one
may not be. Neither says the twin is *right*: a large p only says these
cycles cannot show the difference.

Every random choice (subsamples, permutations, folds, model seeds) comes
from a generator derived from ``seed`` and the component's name
(:func:`twin.rng.component_rng`), so the same inputs and seed give the
same numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator

from learners.gap.c2st import C2ST
from learners.gap.curves import CurveSummary, curve_row_count, shared_channels, summarize_curves
from learners.gap.discriminative import DiscriminativeScore
from learners.gap.mmd import MMDTest
from learners.gap.records import FeatureSelection, GapInputError, Records, drop_nan_rows, feature_matrix, \
    load_records, screen_columns, select_features
from learners.gap.scaling import SCALE_DESCRIPTION
from learners.gap.univariate import per_feature_gap
from twin.rng import component_rng

__all__ = ["SimRealGap", "CurveGap", "gap_metrics", "verdict", "auc_grade", "MIN_ROWS"]

#: A multivariate test needs at least this many complete rows on each side (else it is skipped, with the reason).
MIN_ROWS = 5

#: Upper AUC bounds of the plain-language grades.
AUC_GRADES: tuple[tuple[float, str, str], ...] = (
    (0.55, "indistinguishable", "sim and real cycles are indistinguishable to the classifier"),
    (0.65, "slight", "sim and real cycles are slightly distinguishable"),
    (0.80, "clear", "sim and real cycles are clearly distinguishable"),
    (0.95, "strong", "sim and real cycles are strongly distinguishable"),
    (math.inf, "separable", "sim and real cycles are almost perfectly separable"),
)


def child_seed(seed: int, name: str) -> int:
    """An integer seed for the component ``name``, derived from ``seed`` (independent of call order)."""
    return int(component_rng(seed, f"gap.{name}").integers(2 ** 31 - 1))


def auc_grade(auc: float) -> tuple[str, str]:
    """(level, phrase) of a C2ST AUC, see :data:`AUC_GRADES`."""
    for bound, level, phrase in AUC_GRADES:
        if auc < bound:
            return level, phrase
    return AUC_GRADES[-1][1:]  # pragma: no cover (inf bound)


@dataclass
class CurveGap:
    """The curve part of a :class:`SimRealGap` (None-valued tests were skipped: see ``skipped``)."""

    channels: tuple[str, ...]
    n_cycles: dict[str, int]                  # curve rows used per side
    n_available: dict[str, int]               # curve rows in the input per side
    selection: FeatureSelection
    per_feature: list[dict]
    mmd: MMDTest | None
    c2st: C2ST | None
    discriminative: DiscriminativeScore | None
    grid: str
    profiles: dict[str, dict[str, np.ndarray]]  # channel -> sim/real mean and sd on the grid
    channel_gap: dict[str, float]               # channel -> mean |mean_sim - mean_real| / pooled sd on the grid
    dropped_channels: dict[str, str] = field(default_factory=dict)  # channel -> why it was left out
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"channels": list(self.channels), "dropped_channels": dict(self.dropped_channels),
                "n_cycles": dict(self.n_cycles),
                "n_available": dict(self.n_available), "features": self.selection.to_dict(),
                "per_feature": self.per_feature,
                "mmd": self.mmd.to_dict() if self.mmd else {"skipped": self.skipped.get("mmd")},
                "c2st": self.c2st.to_dict() if self.c2st else {"skipped": self.skipped.get("c2st")},
                "discriminative": (self.discriminative.to_dict() if self.discriminative
                                   else {"skipped": self.skipped.get("discriminative")}),
                "grid": self.grid, "channel_gap": dict(self.channel_gap)}


class SimRealGap:
    """Gap metrics between a simulated and a real record set; see the module docstring.

    Parameters
    ----------
    features : scalar features to compare (None: the logged FEATURE_FIELDS present in both).
    curves : compute the curve metrics when both sets have curves.
    curve_channels : channels to use (None: all present in both).
    n_perm : permutations of the MMD tests.
    mmd_max_per_side : MMD subsample cap per side.
    classifier : C2ST classifier ("quadratic", "logreg", "hgb" or a scikit-learn estimator); also the
        classifier of the discriminative score on raw curves, except "hgb", replaced there by
        "quadratic" (thousands of inputs per curve row).
    n_splits : cross-validation folds of the classifiers.
    c2st_max_per_side : C2ST cap per side after balancing.
    alpha : significance level of the verdict, 1 - confidence level of the intervals.
    scale : standardisation reference of the MMD: "pooled" or "real".
    max_null_frac : a feature more missing than this in either set is dropped.
    curve_points : grid points per channel for the discriminative score.
    curve_time_window_s : None = grid over each cycle's duration; else a fixed window in seconds.
    max_curve_cycles : curve rows read per side at most (seeded subsample).
    seed : root seed of every random choice.

    Attributes after :meth:`fit`
    ----------------------------
    sim_name_, real_name_, n_rows_ ({"sim", "real"}), selection_, X_sim_, X_real_ (feature
    matrices, NaN kept), per_feature_ (rows sorted by Wasserstein / real sd, largest first),
    nan_rows_ ({"sim", "real"} rows dropped for the multivariate tests), mmd_, c2st_
    (None if skipped), skipped_ ({test: reason}), curves_ (:class:`CurveGap` or None),
    verdict_ ({"level", "text"}).
    """

    def __init__(self, features: Sequence[str] | None = None, *, curves: bool = True,
                 curve_channels: Sequence[str] | None = None, n_perm: int = 500, mmd_max_per_side: int = 2000,
                 classifier: str | BaseEstimator = "quadratic", n_splits: int = 5, c2st_max_per_side: int = 5000,
                 alpha: float = 0.05, scale: str = "pooled", max_null_frac: float = 0.5, curve_points: int = 256,
                 curve_time_window_s: float | None = None, max_curve_cycles: int = 500, seed: int = 0):
        self.features = features
        self.curves = curves
        self.curve_channels = curve_channels
        self.n_perm = n_perm
        self.mmd_max_per_side = mmd_max_per_side
        self.classifier = classifier
        self.n_splits = n_splits
        self.c2st_max_per_side = c2st_max_per_side
        self.alpha = alpha
        self.scale = scale
        self.max_null_frac = max_null_frac
        self.curve_points = curve_points
        self.curve_time_window_s = curve_time_window_s
        self.max_curve_cycles = max_curve_cycles
        self.seed = seed

    # -- fitting -----------------------------------------------------------
    def fit(self, sim: Any, real: Any) -> "SimRealGap":
        """Compute every metric for ``sim`` vs ``real`` (run folders, Parquet files, Tables, dicts or Records)."""
        if self.scale not in ("pooled", "real"):
            raise ValueError(f"scale must be 'pooled' or 'real', got {self.scale!r}")
        a, b = load_records(sim, "sim"), load_records(real, "real")
        self.sim_name_, self.real_name_ = a.name, b.name
        self.n_rows_ = {"sim": a.n_rows, "real": b.n_rows}
        self.selection_ = select_features(a, b, self.features, max_null_frac=self.max_null_frac)
        names = self.selection_.features
        self.X_sim_, self.X_real_ = feature_matrix(a, names), feature_matrix(b, names)
        self.per_feature_ = _sorted_rows(per_feature_gap(self.X_sim_, self.X_real_, names))
        self.skipped_: dict[str, str] = {}
        Xs, nan_s = drop_nan_rows(self.X_sim_)
        Xr, nan_r = drop_nan_rows(self.X_real_)
        self.nan_rows_ = {"sim": nan_s, "real": nan_r}
        self.mmd_, self.c2st_ = self._multivariate(Xs, Xr, bool(names), "", self.skipped_)
        self.curves_ = self._curves(a, b) if self.curves else None
        self.verdict_ = verdict(self.mmd_, self.c2st_, self.per_feature_, self.alpha, self.skipped_, self.curves_)
        return self

    def _multivariate(self, Xs: np.ndarray, Xr: np.ndarray, has_features: bool, prefix: str,
                      skipped: dict[str, str]) -> tuple[MMDTest | None, C2ST | None]:
        reason = None
        if not has_features:
            reason = "no feature left to compare"
        elif min(Xs.shape[0], Xr.shape[0]) < MIN_ROWS:
            reason = (f"fewer than {MIN_ROWS} complete rows on a side (sim {Xs.shape[0]}, real {Xr.shape[0]})")
        if reason:
            skipped["mmd"] = skipped["c2st"] = reason
            return None, None
        mmd = MMDTest(n_perm=self.n_perm, max_per_side=self.mmd_max_per_side, scale=self.scale,
                      seed=child_seed(self.seed, prefix + "mmd")).fit(Xs, Xr)
        c2st = C2ST(classifier=self.classifier, n_splits=self.n_splits, max_per_side=self.c2st_max_per_side,
                    alpha=self.alpha, seed=child_seed(self.seed, prefix + "c2st")).fit(Xs, Xr)
        return mmd, c2st

    def _curves(self, a: Records, b: Records) -> CurveGap | None:
        if a.curves is None or b.curves is None:
            self.skipped_["curves"] = "no curves in " + " and ".join(r.name for r in (a, b) if r.curves is None)
            return None
        try:
            channels = shared_channels(a.curves, b.curves, self.curve_channels)
        except ValueError as exc:
            raise GapInputError(str(exc)) from exc
        one_sided = {ch: f"not a curve column of {name}" for ch, name in
                     [(c, "real") for c in a.curve_columns if c not in b.curve_columns]
                     + [(c, "sim") for c in b.curve_columns if c not in a.curve_columns]}
        if self.curve_channels is not None:
            one_sided = {}
        n_avail = {"sim": curve_row_count(a.curves), "real": curve_row_count(b.curves)}
        few = [f"{side} ({n})" for side, n in n_avail.items() if n < MIN_ROWS]
        if not channels or few:
            self.skipped_["curves"] = ("no curve channel present in both" if not channels
                                       else f"fewer than {MIN_ROWS} curves in " + " and ".join(few))
            return None
        summaries = {}
        for side, rec in (("sim", a), ("real", b)):
            rows = None
            if n_avail[side] > self.max_curve_cycles:
                rng = component_rng(self.seed, f"gap.curves.rows.{side}")
                rows = np.sort(rng.choice(n_avail[side], size=self.max_curve_cycles, replace=False))
            summaries[side] = summarize_curves(rec.curves, channels, rows=rows, n_points=self.curve_points,
                                               time_window_s=self.curve_time_window_s)
        s, r = summaries["sim"], summaries["real"]
        keep_ch, dropped_channels = self._screen_channels(s, r)
        dropped_channels.update(one_sided)
        if not keep_ch:
            self.skipped_["curves"] = "no curve channel with values in both"
            return None
        cols = [0] + [j for j, name in enumerate(s.feature_names) if name.split("__")[0] in
                      {channels[c] for c in keep_ch}]
        names = tuple(s.feature_names[j] for j in cols)
        kept, dropped = screen_columns(s.features[:, cols], r.features[:, cols], names, "sim", "real",
                                       self.max_null_frac)
        selection = FeatureSelection(tuple(names[j] for j in kept), dropped, False)
        Fs, Fr = s.features[:, cols][:, kept], r.features[:, cols][:, kept]
        skipped: dict[str, str] = {}
        Fs_c, _ = drop_nan_rows(Fs)
        Fr_c, _ = drop_nan_rows(Fr)
        mmd, c2st = self._multivariate(Fs_c, Fr_c, bool(kept), "curves.", skipped)
        Rs, Rr = s.resampled[:, keep_ch, :], r.resampled[:, keep_ch, :]
        disc_classifier = self.classifier if not (isinstance(self.classifier, str) and self.classifier == "hgb") \
            else "quadratic"
        disc = DiscriminativeScore(classifier=disc_classifier, n_splits=self.n_splits, alpha=self.alpha,
                                   max_per_side=self.max_curve_cycles,
                                   seed=child_seed(self.seed, "curves.discriminative")).fit(Rs, Rr)
        kept_channels = tuple(channels[c] for c in keep_ch)
        profiles, channel_gap = _profiles(Rs, Rr, kept_channels)
        return CurveGap(channels=kept_channels, n_cycles={"sim": int(s.rows.size), "real": int(r.rows.size)},
                        n_available=n_avail, selection=selection,
                        per_feature=_sorted_rows(per_feature_gap(Fs, Fr, selection.features)),
                        mmd=mmd, c2st=c2st, discriminative=disc, grid=s.grid, profiles=profiles,
                        channel_gap=channel_gap, dropped_channels=dropped_channels, skipped=skipped)

    def _screen_channels(self, s: CurveSummary, r: CurveSummary) -> tuple[list[int], dict[str, str]]:
        """Channels with values in enough cycles of both sets (a real log maps only some channels)."""
        keep, dropped = [], {}
        for c, ch in enumerate(s.channels):
            j = s.feature_names.index(f"{ch}__mean")
            reason = None
            for side, summary in (("sim", s), ("real", r)):
                frac = float(np.mean(~np.isfinite(summary.features[:, j])))
                if frac > self.max_null_frac and reason is None:
                    reason = f"no values in {side}" if frac == 1.0 else f"mostly null in {side} ({100 * frac:.0f} %)"
            if reason:
                dropped[ch] = reason
            else:
                keep.append(c)
        return keep, dropped

    # -- output ------------------------------------------------------------
    def to_dict(self) -> dict:
        """Everything as JSON values (NaN -> None); the layout of ``metrics.json``."""
        out = {
            "inputs": {"sim": self.sim_name_, "real": self.real_name_, "rows": dict(self.n_rows_),
                       "rows_dropped_missing_values": dict(self.nan_rows_)},
            "settings": {"seed": self.seed, "alpha": self.alpha, "n_perm": self.n_perm,
                         "classifier": self.classifier if isinstance(self.classifier, str)
                         else type(self.classifier).__name__, "n_splits": self.n_splits,
                         "standardization_mmd": SCALE_DESCRIPTION[self.scale],
                         "standardization_c2st": "inside the classifier (StandardScaler on the training folds); "
                                                 "none for hgb",
                         "mmd_max_per_side": self.mmd_max_per_side, "c2st_max_per_side": self.c2st_max_per_side,
                         "max_null_frac": self.max_null_frac, "max_curve_cycles": self.max_curve_cycles},
            "features": self.selection_.to_dict(),
            "per_feature": self.per_feature_,
            "mmd": self.mmd_.to_dict() if self.mmd_ else {"skipped": self.skipped_.get("mmd")},
            "c2st": self.c2st_.to_dict() if self.c2st_ else {"skipped": self.skipped_.get("c2st")},
            "curves": self.curves_.to_dict() if self.curves_ else {"skipped": self.skipped_.get("curves",
                                                                                             "curves=False")},
            "verdict": dict(self.verdict_),
        }
        return _json_clean(out)


def gap_metrics(sim: Any, real: Any, **params: Any) -> dict:
    """``SimRealGap(**params).fit(sim, real).to_dict()``."""
    return SimRealGap(**params).fit(sim, real).to_dict()


def verdict(mmd: MMDTest | None, c2st: C2ST | None, per_feature: list[dict], alpha: float,
            skipped: dict[str, str] | None = None, curves: CurveGap | None = None) -> dict:
    """A plain-language reading of the results: ``{"level": ..., "text": ...}``.

    The level comes from the scalar features' C2ST AUC (:data:`AUC_GRADES`), or "no detectable gap"
    when the MMD test does not reject and the AUC is below 0.65; the curves add a sentence.
    """
    curve_text = _curve_sentence(curves, alpha)
    if mmd is None or c2st is None:
        why = (skipped or {}).get("mmd", "not computed")
        return {"level": "not tested", "text": f"No multivariate test was run: {why}.{curve_text}"}
    level, phrase = auc_grade(c2st.auc_)
    lo, hi = c2st.auc_ci_
    conf = f"{100 * (1 - alpha):g} %"
    parts = [f"{phrase[0].upper()}{phrase[1:]} (C2ST AUC {c2st.auc_:.2f}, {conf} CI {lo:.2f}-{hi:.2f}; "
             "0.5 = cannot be told apart, 1 = always told apart)."]
    n = f"{mmd.n_sim_} sim and {mmd.n_real_} real cycles"
    if mmd.p_value_ < alpha:
        parts.append(f"The MMD permutation test rejects \"same distribution\" (p = {mmd.p_value_:.3g} < {alpha:g}, "
                     f"{n}).")
        if c2st.auc_ < 0.6:
            parts.append("The difference is real but small: a classifier can hardly use it.")
    else:
        parts.append(f"The MMD permutation test finds no difference (p = {mmd.p_value_:.3g}, {n}); this does not "
                     "show that the twin is right, only that these cycles cannot show a difference.")
    if c2st.auc_ci_[1] < 0.5 or mmd.p_value_ > 1.0 - alpha:
        parts.append("An AUC below 0.5 or an MMD p-value near 1 is not a gap: it appears when the two sets are more "
                     "alike than two independent samples, e.g. two runs that go through the same warm-up or drift, "
                     "so that each cycle's near-twin from the other set sits in the classifier's training folds.")
    top = [r for r in per_feature if r.get("wasserstein_per_real_sd") is not None][:3]
    if top:
        parts.append("Largest per-feature gaps (Wasserstein distance in real standard deviations): "
                     + ", ".join(f"{r['feature']} {r['wasserstein_per_real_sd']:.2f}" for r in top) + ".")
    if mmd.p_value_ >= alpha and level in ("indistinguishable", "slight"):
        level = "no detectable gap"
    return {"level": level, "text": " ".join(parts) + curve_text}


def _curve_sentence(curves: CurveGap | None, alpha: float) -> str:
    if curves is None or curves.discriminative is None:
        return ""
    d = curves.discriminative
    lo, hi = d.score_ci_
    text = (f" Raw sensor curves ({len(curves.channels)} channels): discriminative score {d.score_:.2f} "
            f"({100 * (1 - alpha):g} % CI {lo:.2f}-{hi:.2f}; 0 = indistinguishable, 0.5 = always told apart).")
    top = [r for r in curves.per_feature if r.get("wasserstein_per_real_sd") is not None][:2]
    if top:
        text += (" Largest curve-feature gaps: "
                 + ", ".join(f"{r['feature']} {r['wasserstein_per_real_sd']:.2f}" for r in top) + ".")
    return text


# -- helpers -------------------------------------------------------------------

def _sorted_rows(rows: list[dict]) -> list[dict]:
    """Per-feature rows by Wasserstein / real sd, largest first (rows without it last, in input order)."""
    key = "wasserstein_per_real_sd"
    return sorted(rows, key=lambda r: (r[key] is None, -(r[key] or 0.0)))


def _profiles(a: np.ndarray, b: np.ndarray, channels: tuple[str, ...]
              ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
    """Per channel: mean and sd of the resampled curves of each side, and the average standardised mean gap."""
    profiles, gaps = {}, {}
    for c, ch in enumerate(channels):
        sa, sb = a[:, c, :].astype(np.float64), b[:, c, :].astype(np.float64)
        ma, mb = _nanmean0(sa), _nanmean0(sb)
        da, db = _nanstd0(sa), _nanstd0(sb)
        pooled = np.sqrt(0.5 * (da ** 2 + db ** 2))
        floor = 1e-6 * max(float(np.nanmax(np.abs(np.concatenate([ma, mb])))) if ma.size else 0.0, 1e-12)
        gap = np.abs(ma - mb) / np.maximum(pooled, floor)
        profiles[ch] = {"sim_mean": ma, "sim_sd": da, "real_mean": mb, "real_sd": db}
        gaps[ch] = float(np.nanmean(gap)) if np.isfinite(gap).any() else math.nan
    return profiles, gaps


def _nanmean0(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    return np.where(ok, x, 0.0).sum(axis=0) / np.maximum(ok.sum(axis=0), 1)


def _nanstd0(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    m = _nanmean0(x)
    return np.sqrt(np.where(ok, (x - m) ** 2, 0.0).sum(axis=0) / np.maximum(ok.sum(axis=0), 1))


def _json_clean(obj: Any) -> Any:
    """Replace NaN/inf by None and numpy scalars/tuples by plain values, recursively."""
    if isinstance(obj, dict):
        return {str(k): _json_clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_json_clean(v) for v in obj.tolist()]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
