"""Whole-tomogram segmentation with a trained model."""
