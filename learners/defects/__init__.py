"""Defect classification of surface images (magnetic tile, NEU steel): torchvision CNNs trained from scratch."""
from learners.defects.classifier import DefectClassifier
from learners.defects.image_folder import ImageSet, load_image_folder, load_magnetic_tile, load_neu, split_stratified
from learners.defects.scores import classification_scores

__all__ = ["DefectClassifier", "ImageSet", "load_image_folder", "load_magnetic_tile", "load_neu",
           "split_stratified", "classification_scores"]
