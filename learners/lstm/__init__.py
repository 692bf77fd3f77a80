"""The LSTM cycle classifier (the study's 3 x 100 LSTM with offset sampling) on sensor curves.

=========================================  ==============================================================
:class:`LSTMCycleClassifier`               the learner: fit / learn_many / predict_many / save / load
:class:`CycleLSTM`                         the network: stacked LSTM, binary and defect-type heads
:class:`CurveGrid`, :class:`CurveBatch`    the fine grid a cycle is read on; cycles already on it
:func:`curves_to_grid`,                    records -> fine grid; every k-th sample from offsets 0..k-1;
:func:`offset_sample`,                     run folders -> a CurveBatch, row group by row group
:func:`read_curve_batch`
:class:`RobustChannelScaler`               per-channel median / IQR, fitted on training data only
=========================================  ==============================================================
"""
from learners.lstm.classifier import LSTMCycleClassifier
from learners.lstm.dataset import CurveBatch, CurveGrid, batch_from_rows, curves_to_grid, offset_sample, read_curve_batch
from learners.lstm.model import CycleLSTM, class_weights
from learners.lstm.scaling import RobustChannelScaler

__all__ = ["LSTMCycleClassifier", "CycleLSTM", "class_weights", "CurveGrid", "CurveBatch", "curves_to_grid",
           "offset_sample", "read_curve_batch", "batch_from_rows", "RobustChannelScaler"]
