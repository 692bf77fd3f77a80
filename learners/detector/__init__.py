"""The digit detector: Faster R-CNN reads the stamped characters of billet faces; the ID schema corrects it.

=============================================  ==================================================================
:class:`DigitDetector`                         the learner: fit / learn_many / predict_many / save / load,
                                               seeded, checkpoints, exact resume (``detector.py``)
:func:`build_faster_rcnn`, :class:`DetectorSpec`,  torchvision Faster R-CNN on a MobileNetV3-Large FPN, sized for
:data:`PRESETS`                                small characters; ``"tiny"`` for tests (``model.py``)
:class:`BilletImage`, :func:`read_billet_images`,  ``billets.parquet`` rows -> uint8 images + boxes + labels
:func:`as_billet_images`                       (``dataset.py``)
:class:`Detections`, :func:`group_detections`  per-image boxes, characters, scores and ranked alternatives
:func:`reading_metrics`, :func:`match_image`,  the study's TP / MC / FN / FP / CB at IoU >= 0.5 per visibility
:class:`Truth`                                 subset (``metrics.py``)
:class:`BilletIdDecoder`, :class:`IdSchema`    the 11-character ID from the detections, with the schema, the
                                               check character and the previous ID as priors (``id_decoder.py``)
:func:`fit_layout`                             boxes -> ID positions on the 6 + 5 stamp grid (``layout.py``)
:func:`evaluate_readings`, :func:`id_metrics`  metrics and ID read rates with / without the decoder
:func:`compose_standin`                        real digit crops on real steel texture (a stand-in, ``standin.py``)
=============================================  ==================================================================

The learners never see the simulator: they read run folders / records.
"""
from learners.detector.dataset import (BilletImage, DetectorInputError, as_billet_images, char_label, label_char,
                                       read_billet_images, sample_from_row)
from learners.detector.detections import Detections, box_iou_matrix, group_detections
from learners.detector.detector import DigitDetector
from learners.detector.evaluate import READ_MODES, decode_ids, evaluate_readings, id_metrics
from learners.detector.id_decoder import BilletIdDecoder, DecodedId, IdSchema, expected_next_ids
from learners.detector.layout import Layout, fit_layout
from learners.detector.metrics import SUBSETS, ImageMatch, Truth, match_image, reading_metrics
from learners.detector.model import PRESETS, DetectorSpec, build_faster_rcnn, count_parameters, resolve_spec
from learners.detector.standin import compose_standin

__all__ = ["DigitDetector", "DetectorSpec", "PRESETS", "build_faster_rcnn", "resolve_spec", "count_parameters",
           "BilletImage", "DetectorInputError", "read_billet_images", "as_billet_images", "sample_from_row",
           "char_label", "label_char", "Detections", "group_detections", "box_iou_matrix", "Truth", "ImageMatch",
           "match_image", "reading_metrics", "SUBSETS", "BilletIdDecoder", "IdSchema", "DecodedId",
           "expected_next_ids", "Layout", "fit_layout", "evaluate_readings", "decode_ids", "id_metrics",
           "READ_MODES", "compose_standin"]
