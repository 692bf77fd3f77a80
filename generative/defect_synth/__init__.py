"""Defect synthesis on surface images: a SyNDGAN-like normal + defect map → defect image GAN.

Public API::

    from generative.defect_synth import (DefectData, load_defect_folder, load_magnetic_tile_masks,
        split_defect_data, DefectSynthesizer, Pix2PixDefect, copy_paste, novel_masks, class_map,
        train_feature_net, blend_into)

    data = load_magnetic_tile_masks(os.environ["TWINLOOP_REALDATA"], size_px=64)
    train, held_out = split_defect_data(data, 0.25, seed=0)
    gan = DefectSynthesizer(steps=3000).fit(train, seed=0)
    new, labels, _, iou = novel_masks(train.masks, train.labels, 20, np.random.default_rng(1))
    images = gan.sample(20, condition=(normal_images, class_map(new, labels)), seed=2)

Modules (one concept each): ``data`` (folders of images + masks), ``maps``
(class / one-hot / colour defect maps), ``masks`` (moved, scaled, rotated
masks), ``tensors``, ``features`` (the domain feature CNN), ``sft``,
``encoder``, ``decoder``, ``discriminator``, ``losses``, ``common`` (batches,
condition, sampling), ``synthesizer`` (the model), ``pix2pix`` and
``copy_paste`` (baselines), ``blend`` (paste a result back into the normal
image). Metrics: :mod:`generative.image_metrics`.
"""
from generative.defect_synth.blend import blend_into
from generative.defect_synth.copy_paste import copy_paste
from generative.defect_synth.data import DefectData, load_defect_folder, load_magnetic_tile_masks, split_defect_data
from generative.defect_synth.features import DefectFeatureNet, train_feature_net
from generative.defect_synth.maps import class_map, colour_map, one_hot_map, overlay
from generative.defect_synth.masks import novel_masks, transform_mask
from generative.defect_synth.pix2pix import Pix2PixDefect
from generative.defect_synth.synthesizer import DefectSynthesizer

__all__ = ["DefectData", "load_defect_folder", "load_magnetic_tile_masks", "split_defect_data", "DefectSynthesizer",
           "Pix2PixDefect", "copy_paste", "blend_into", "novel_masks", "transform_mask", "class_map", "colour_map",
           "one_hot_map", "overlay", "DefectFeatureNet", "train_feature_net"]
