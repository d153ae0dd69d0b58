"""Scores that compare a segmentation with ground truth, computed slab by slab.

Definitions (voxels counted over the whole volume, or over ``slices`` when given):
  TP = predicted and true, FP = predicted but not true, FN = true but not predicted.
  Dice = 2TP / (2TP + FP + FN), IoU = TP / (TP + FP + FN),
  precision = TP / (TP + FP), recall = TP / (TP + FN). An empty denominator gives 1.0
  when both are empty (nothing to find, nothing found), else 0.0.
A prediction counts as positive where its value >= threshold; uint8 predictions (0-255)
are compared with threshold * 255.
"""
from __future__ import annotations

import numpy as np

from .errors import UsageError
from .volume import iter_slabs


def _binary(pred: np.ndarray, threshold: float) -> np.ndarray:
    cut = threshold * 255.0 if pred.dtype == np.uint8 else threshold
    return np.asarray(pred) >= cut


def _ratio(num: int, den: int) -> float:
    return float(num) / den if den else 1.0 if num == 0 else 0.0


def segmentation_scores(pred: np.ndarray, truth: np.ndarray, threshold: float = 0.5,
                        slices: list[int] | None = None) -> dict[str, float]:
    """Dice, IoU, precision and recall of ``pred`` (probabilities) against a 0/1 ``truth``."""
    if pred.shape != truth.shape:
        raise UsageError(f"prediction shape {pred.shape} differs from ground truth {truth.shape}",
                         "compare a segmentation with the truth of the same tomogram")
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"threshold must be between 0 and 1, got {threshold}", "e.g. --threshold 0.5")
    if slices is not None:
        pred, truth = pred[slices], truth[slices]
    tp = fp = fn = 0
    for p_slab, t_slab in zip(iter_slabs(pred), iter_slabs(truth)):
        p, t = _binary(p_slab, threshold), np.asarray(t_slab) > 0
        tp += int(np.count_nonzero(p & t))
        fp += int(np.count_nonzero(p & ~t))
        fn += int(np.count_nonzero(~p & t))
    return {
        "dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "iou": _ratio(tp, tp + fp + fn),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "true_positive": tp, "false_positive": fp, "false_negative": fn,
    }
