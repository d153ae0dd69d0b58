"""Masked losses and counts for segmentation training.

Labels are uint8 with 0 = background, 1 = feature, 2 = ignore. Every function here takes
the network's *logits* (any shape) and labels of the same shape, and leaves the ignored
pixels out entirely: changing the prediction under a label-2 pixel never changes a value.
Losses are computed in float32 even under mixed precision.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..errors import UnknownNameError

IGNORE = 2
DICE_SMOOTH = 1.0  # added to numerator and denominator: an empty mask predicted empty scores 0


def target_and_mask(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(target, valid) as float32: target is 1 where the label is 1, valid is 0 where it is 2."""
    return (labels == 1).float(), (labels != IGNORE).float()


def masked_bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy averaged over the pixels whose label is not 2."""
    target, valid = target_and_mask(labels)
    per_pixel = F.binary_cross_entropy_with_logits(logits.float(), target, reduction="none")
    return (per_pixel * valid).sum() / valid.sum().clamp_min(1.0)


def masked_dice(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Soft Dice loss ``1 - (2·Σpt + s) / (Σp + Σt + s)`` over the batch's non-ignored pixels."""
    target, valid = target_and_mask(labels)
    prob = torch.sigmoid(logits.float()) * valid
    target = target * valid
    overlap = (prob * target).sum()
    return 1.0 - (2.0 * overlap + DICE_SMOOTH) / (prob.sum() + target.sum() + DICE_SMOOTH)


def masked_bce_dice(logits: torch.Tensor, labels: torch.Tensor,
                    bce_weight: float = 1.0, dice_weight: float = 1.0) -> torch.Tensor:
    """``bce_weight · masked_bce + dice_weight · masked_dice``."""
    return bce_weight * masked_bce(logits, labels) + dice_weight * masked_dice(logits, labels)


def masked_l1(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean |sigmoid(logits) − target| over non-ignored pixels (the Pix2pix reconstruction term)."""
    target, valid = target_and_mask(labels)
    per_pixel = (torch.sigmoid(logits.float()) - target).abs()
    return (per_pixel * valid).sum() / valid.sum().clamp_min(1.0)


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "bce": masked_bce,
    "dice": masked_dice,
    "bce_dice": masked_bce_dice,
}


def get_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss function called ``name``, or an error listing the known names."""
    if name not in LOSSES:
        raise UnknownNameError(f"unknown loss '{name}'", f"known: {', '.join(LOSSES)}")
    return LOSSES[name]


def confusion_counts(logits: torch.Tensor, labels: torch.Tensor,
                     threshold: float = 0.5) -> torch.Tensor:
    """Counts ``[tp, fp, fn]`` (float64) of ``sigmoid(logits) > threshold`` against label 1,
    ignoring label-2 pixels."""
    with torch.no_grad():
        predicted = torch.sigmoid(logits.float()) > threshold
        valid = labels != IGNORE
        truth = labels == 1
        tp = (predicted & truth & valid).sum()
        fp = (predicted & ~truth & valid).sum()
        fn = (~predicted & truth & valid).sum()
        return torch.stack([tp, fp, fn]).double()


def precision_recall(counts) -> tuple[float, float]:
    """(precision, recall) from ``[tp, fp, fn]``; 0.0 where nothing was predicted / present."""
    tp, fp, fn = (float(c) for c in counts)
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    return precision, recall
