"""The network: torchvision's Faster R-CNN on a MobileNetV3-Large FPN, sized for stamped characters.

torchvision's ``fasterrcnn_mobilenet_v3_large_fpn(weights=None,
weights_backbone=None, num_classes=37)`` is this module's reference: the
same parts (``mobilenet_v3_large`` features, ``BackboneWithFPN`` with a
``LastLevelMaxPool``, ``RPNHead``, ``MultiScaleRoIAlign``, ``TwoMLPHead``,
``FastRCNNPredictor``) in the same arrangement. :data:`PRESETS` ``"torchvision"``
rebuilds exactly that model (same parameter count; a test checks it). Its
settings are made for COCO objects, not for 15 x 25 px characters:

* **Which backbone stages feed the FPN.** The factory returns the outputs of
  ``features[13]`` and ``features[16]`` — both at stride 32 (MobileNetV3's
  stage indices are 0, 2, 4, 7, 13, 16 at strides 2, 4, 8, 16, 32, 32) —
  plus a max-pooled stride 64. A 15 px wide character is half a cell
  there. ``"small_chars"`` returns stages 2 and 3 (``features[4]`` at
  stride 8 and ``features[7]`` at stride 16, plus the pooled stride 32), so
  a character covers 2 x 3 cells of the finest map; the backbone after
  ``features[7]`` is then never computed (``IntermediateLayerGetter`` drops
  it), which also makes it ~3x cheaper on a CPU.
* **Anchors.** The factory's anchors are 32-512 px at aspect ratios 0.5, 1, 2
  on every level. Stamped characters are 1.5-1.8 times taller than wide
  (torchvision's ratio is height / width) and 15-35 px in size, so the
  presets use ratios 1.0, 1.6, 2.4 and sizes of one octave per level,
  starting at ~0.8 x the character's ``sqrt(w h)``.
* **Input size.** ``GeneralizedRCNNTransform`` resizes every image so its
  short side is ``min_size_px`` (default 800 in torchvision); a 256 px billet
  face is read at ``min_size_px`` = 320 here (x 1.25: a character is ~19 x 31
  px at the network input), which is the speed / accuracy compromise
  measured in ``scenarios/billet_detector.py``.
* **Head width.** ``TwoMLPHead`` on 256 FPN channels x 7 x 7 into 1024 units is
  12.8 M parameters and most of the CPU time per region; 36 glyph classes
  need less: the presets use 128 FPN channels and 512 units (``"tiny"``:
  16 channels, 64 units, MobileNetV3 at width x 0.25, for the tests).

Inputs are float images in [0, 1], 3 channels (grey faces are repeated),
normalised with ``image_mean`` / ``image_std`` of the preset (grey billet
faces: 0.45 / 0.25). No pretrained weights are used anywhere: the whole
network is trained from scratch, so BatchNorm layers are ordinary
(trainable) ``BatchNorm2d``, as torchvision does when no weights are given.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from torch import nn

__all__ = ["DetectorSpec", "PRESETS", "build_faster_rcnn", "resolve_spec", "count_parameters", "NUM_CLASSES",
           "MOBILENET_STAGE_STRIDES"]

#: 36 stamp characters (0-9, A-Z) + background (label 0).
NUM_CLASSES = 37
#: Output stride of each MobileNetV3 stage index (torchvision's ``_mobilenet_extractor`` numbering).
MOBILENET_STAGE_STRIDES = (2, 4, 8, 16, 32, 32)


@dataclass(frozen=True)
class DetectorSpec:
    """Every architectural setting of the detector (a value object; see the module docstring).

    ``returned_stages``: MobileNetV3 stages (indices into
    :data:`MOBILENET_STAGE_STRIDES`) that feed the FPN; the FPN adds one
    max-pooled level on top. ``anchor_sizes_px``: one tuple of anchor sizes
    (``sqrt(w h)`` in network-input pixels) per FPN level, all of the same
    length. ``aspect_ratios``: height / width of the anchors. ``min_size_px``
    / ``max_size_px``: the short / long side every image is resized to.
    The ``rpn_*`` / ``box_*`` settings are torchvision's ``FasterRCNN``
    arguments of the same names.
    """

    width_mult: float = 1.0
    returned_stages: tuple[int, ...] = (2, 3)
    fpn_channels: int = 128
    representation_size: int = 512
    anchor_sizes_px: tuple[tuple[int, ...], ...] = ((16, 24), (32, 48), (64, 96))
    aspect_ratios: tuple[float, ...] = (1.0, 1.6, 2.4)
    min_size_px: int = 320
    max_size_px: int = 640
    image_mean: tuple[float, float, float] = (0.45, 0.45, 0.45)
    image_std: tuple[float, float, float] = (0.25, 0.25, 0.25)
    rpn_pre_nms_top_n_train: int = 1000
    rpn_post_nms_top_n_train: int = 500
    rpn_pre_nms_top_n_test: int = 500
    rpn_post_nms_top_n_test: int = 200
    rpn_batch_size_per_image: int = 256
    rpn_score_thresh: float = 0.0
    box_batch_size_per_image: int = 128
    box_score_thresh: float = 0.05
    box_nms_thresh: float = 0.5
    box_detections_per_img: int = 60

    def __post_init__(self) -> None:
        levels = len(self.returned_stages) + 1
        if len(self.anchor_sizes_px) != levels:
            raise ValueError(f"anchor_sizes_px needs one tuple per FPN level ({levels}: {len(self.returned_stages)} "
                             f"returned stages + the pooled level), got {len(self.anchor_sizes_px)}")
        if len({len(s) for s in self.anchor_sizes_px}) != 1:
            raise ValueError("every FPN level needs the same number of anchor sizes (one shared RPN head)")
        if not self.returned_stages or any(not 0 <= s < len(MOBILENET_STAGE_STRIDES) for s in self.returned_stages):
            raise ValueError(f"returned_stages must be indices 0-{len(MOBILENET_STAGE_STRIDES) - 1}, "
                             f"got {self.returned_stages}")
        if list(self.returned_stages) != sorted(set(self.returned_stages)):
            raise ValueError(f"returned_stages must be increasing, got {self.returned_stages}")

    @property
    def strides_px(self) -> tuple[int, ...]:
        """Output stride of every FPN level, the pooled one included."""
        s = [MOBILENET_STAGE_STRIDES[i] for i in self.returned_stages]
        return (*s, s[-1] * 2)

    def to_dict(self) -> dict:
        """Plain JSON-able dict (tuples as lists)."""
        return _lists(asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> "DetectorSpec":
        known = {f.name for f in fields(cls)}
        extra = set(d) - known
        if extra:
            raise ValueError(f"unknown detector setting(s) {sorted(extra)}; known: {sorted(known)}")
        return cls(**{k: _tuples(v) for k, v in d.items()})


#: Named architectures. ``small_chars``: the default for 256 px billet faces;
#: ``tiny``: a few-thousand-parameter net for tests (64-96 px images);
#: ``torchvision``: exactly ``fasterrcnn_mobilenet_v3_large_fpn``'s model.
PRESETS: dict[str, DetectorSpec] = {
    "small_chars": DetectorSpec(),
    "tiny": DetectorSpec(width_mult=0.25, returned_stages=(2,), fpn_channels=16, representation_size=64,
                         anchor_sizes_px=((8, 12, 16), (24, 32, 48)), min_size_px=96, max_size_px=128,
                         rpn_pre_nms_top_n_train=300, rpn_post_nms_top_n_train=100, rpn_pre_nms_top_n_test=200,
                         rpn_post_nms_top_n_test=60, rpn_batch_size_per_image=64, box_batch_size_per_image=32,
                         box_detections_per_img=40),
    "torchvision": DetectorSpec(width_mult=1.0, returned_stages=(4, 5), fpn_channels=256, representation_size=1024,
                                anchor_sizes_px=((32, 64, 128, 256, 512),) * 3, aspect_ratios=(0.5, 1.0, 2.0),
                                min_size_px=800, max_size_px=1333, image_mean=(0.485, 0.456, 0.406),
                                image_std=(0.229, 0.224, 0.225), rpn_pre_nms_top_n_train=2000,
                                rpn_post_nms_top_n_train=2000, rpn_pre_nms_top_n_test=1000,
                                rpn_post_nms_top_n_test=1000, rpn_batch_size_per_image=256, rpn_score_thresh=0.05,
                                box_batch_size_per_image=512, box_score_thresh=0.05, box_nms_thresh=0.5,
                                box_detections_per_img=100),
}


def resolve_spec(model: str | DetectorSpec, overrides: dict | None = None) -> DetectorSpec:
    """The spec of a preset name (or a spec), with ``overrides`` (setting -> value) applied."""
    if isinstance(model, DetectorSpec):
        spec = model
    else:
        try:
            spec = PRESETS[model]
        except KeyError:
            raise ValueError(f"unknown detector model {model!r}; presets: {', '.join(PRESETS)}") from None
    if overrides:
        known = {f.name for f in fields(DetectorSpec)}
        extra = set(overrides) - known
        if extra:
            raise ValueError(f"unknown detector setting(s) {sorted(extra)}; known: {sorted(known)}")
        spec = replace(spec, **{k: _tuples(v) for k, v in overrides.items()})
    return spec


def build_faster_rcnn(spec: DetectorSpec, num_classes: int = NUM_CLASSES) -> nn.Module:
    """A freshly initialised (untrained) Faster R-CNN for ``spec``.

    Initialisation draws from the global torch RNG: callers that want a
    seeded network wrap this in ``torch.random.fork_rng`` + ``manual_seed``.
    """
    from torchvision.models import mobilenet_v3_large
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.ops import MultiScaleRoIAlign
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

    features = mobilenet_v3_large(weights=None, width_mult=spec.width_mult, norm_layer=nn.BatchNorm2d).features
    # The stage boundaries, as torchvision's _mobilenet_extractor finds them.
    stage_indices = [0] + [i for i, b in enumerate(features) if getattr(b, "_is_cn", False)] + [len(features) - 1]
    return_layers = {str(stage_indices[k]): str(v) for v, k in enumerate(spec.returned_stages)}
    in_channels = [features[stage_indices[k]].out_channels for k in spec.returned_stages]
    backbone = BackboneWithFPN(features, return_layers, in_channels, spec.fpn_channels,
                               extra_blocks=LastLevelMaxPool())
    names = [str(v) for v in range(len(spec.returned_stages))]
    anchors = AnchorGenerator(spec.anchor_sizes_px, (spec.aspect_ratios,) * len(spec.anchor_sizes_px))
    roi_pool = MultiScaleRoIAlign(featmap_names=names, output_size=7, sampling_ratio=2)
    head = TwoMLPHead(spec.fpn_channels * 7 * 7, spec.representation_size)
    predictor = FastRCNNPredictor(spec.representation_size, num_classes)
    return FasterRCNN(
        backbone, num_classes=None, rpn_anchor_generator=anchors, box_roi_pool=roi_pool, box_head=head,
        box_predictor=predictor, min_size=spec.min_size_px, max_size=spec.max_size_px,
        image_mean=list(spec.image_mean), image_std=list(spec.image_std),
        rpn_pre_nms_top_n_train=spec.rpn_pre_nms_top_n_train, rpn_post_nms_top_n_train=spec.rpn_post_nms_top_n_train,
        rpn_pre_nms_top_n_test=spec.rpn_pre_nms_top_n_test, rpn_post_nms_top_n_test=spec.rpn_post_nms_top_n_test,
        rpn_batch_size_per_image=spec.rpn_batch_size_per_image, rpn_score_thresh=spec.rpn_score_thresh,
        box_batch_size_per_image=spec.box_batch_size_per_image, box_score_thresh=spec.box_score_thresh,
        box_nms_thresh=spec.box_nms_thresh, box_detections_per_img=spec.box_detections_per_img,
    )


def count_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _lists(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _lists(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_lists(x) for x in v]
    return v


def _tuples(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_tuples(x) for x in v)
    return v
