"""Sim-to-real gap metrics: how far are the twin's records from logged real ones?

Usable on two record sets (run folders, Parquet files, pyarrow Tables,
dicts of columns) or on two windows of a stream. The learners see records,
never the simulator: nothing here imports simpy or ``twin.simulate``.

==========================================  ===================================================
:class:`SimRealGap`, :func:`gap_metrics`    everything below for two record sets, a verdict,
                                            and the ``metrics.json`` layout of ``twinloop gap``
:func:`per_feature_gap`                     per feature: Wasserstein (raw and in real sds),
                                            KS statistic and p, BH-adjusted p
:class:`MMDTest`                            MMD^2 (RBF, median heuristic), permutation p-value
:class:`C2ST`                               classifier two-sample test: cross-validated AUC
                                            with DeLong interval, accuracy, binomial p
:func:`curve_features`,                     per-cycle curve features; curves on a common grid
:func:`resample_curves`
:class:`DiscriminativeScore`                |accuracy - 0.5| of a classifier on raw curves
:func:`gap_windows`                         MMD p and C2ST AUC on sliding time windows
==========================================  ===================================================

Each module's docstring says what its test assumes and what its p-value
means. The README section "Sim-to-real gap" explains how to read the numbers.
"""
from learners.gap.analysis import CurveGap, SimRealGap, gap_metrics, verdict
from learners.gap.c2st import C2ST, delong_auc, wilson_interval
from learners.gap.classifiers import CLASSIFIER_NAMES, make_classifier
from learners.gap.curves import CURVE_STATS, curve_features, resample_curves, summarize_curves
from learners.gap.discriminative import DiscriminativeScore
from learners.gap.mmd import MMDTest, median_bandwidth, mmd2_unbiased
from learners.gap.records import FeatureSelection, GapInputError, Records, load_records, select_features
from learners.gap.scaling import robust_standardize
from learners.gap.univariate import benjamini_hochberg, per_feature_gap
from learners.gap.windows import gap_windows

__all__ = [
    "SimRealGap", "CurveGap", "gap_metrics", "verdict",
    "C2ST", "delong_auc", "wilson_interval", "CLASSIFIER_NAMES", "make_classifier",
    "CURVE_STATS", "curve_features", "resample_curves", "summarize_curves",
    "DiscriminativeScore", "MMDTest", "median_bandwidth", "mmd2_unbiased",
    "FeatureSelection", "GapInputError", "Records", "load_records", "select_features",
    "robust_standardize", "benjamini_hochberg", "per_feature_gap", "gap_windows",
]
