"""Masked losses and precision/recall counts (label 2 = ignore)."""
import math

import pytest
import torch

from ais_framework.errors import UnknownNameError
from ais_framework.training.losses import (LOSSES, confusion_counts, get_loss, masked_bce, masked_bce_dice,
                                           masked_dice, masked_l1, precision_recall)

ALL = [masked_bce, masked_dice, masked_bce_dice, masked_l1]


def _case(seed=0, shape=(2, 1, 8, 8)):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=gen) * 3
    labels = torch.randint(0, 3, shape, generator=gen).to(torch.uint8)
    return logits, labels


@pytest.mark.parametrize("loss", ALL)
def test_predictions_under_ignored_pixels_do_not_change_the_loss(loss):
    logits, labels = _case()
    changed = logits.clone()
    changed[labels == 2] = torch.randn(int((labels == 2).sum())) * 50
    assert torch.isclose(loss(logits, labels), loss(changed, labels), atol=1e-6)
    changed[labels == 1] += 1.0  # sanity: the other pixels do count
    assert not torch.isclose(loss(logits, labels), loss(changed, labels), atol=1e-6)


@pytest.mark.parametrize("loss", ALL)
def test_no_gradient_reaches_ignored_pixels(loss):
    logits, labels = _case(1)
    logits.requires_grad_(True)
    loss(logits, labels).backward()
    assert torch.all(logits.grad[labels == 2] == 0)
    assert torch.any(logits.grad[labels != 2] != 0)


def test_bce_known_value():
    logits = torch.tensor([[[[2.0, -1.0], [5.0, 0.5]]]])
    labels = torch.tensor([[[[1, 0], [2, 1]]]], dtype=torch.uint8)
    sp = torch.nn.functional.softplus
    expected = (sp(torch.tensor(-2.0)) + sp(torch.tensor(-1.0)) + sp(torch.tensor(-0.5))) / 3
    assert masked_bce(logits, labels).item() == pytest.approx(expected.item(), rel=1e-6)


def test_bce_at_zero_logits_is_log2():
    _, labels = _case(2)
    assert masked_bce(torch.zeros(labels.shape), labels).item() == pytest.approx(math.log(2), rel=1e-6)


def test_dice_known_value():
    # three valid pixels at p = 0.5, two of them feature: 1 - (2*1 + 1) / (1.5 + 2 + 1) = 1/3
    logits = torch.zeros(1, 1, 2, 2)
    labels = torch.tensor([[[[1, 1], [0, 2]]]], dtype=torch.uint8)
    assert masked_dice(logits, labels).item() == pytest.approx(1 / 3, rel=1e-6)


def test_dice_perfect_and_wrong_predictions():
    labels = torch.tensor([[[[1, 1], [0, 0]]]], dtype=torch.uint8)
    perfect = torch.tensor([[[[30.0, 30.0], [-30.0, -30.0]]]])
    assert masked_dice(perfect, labels).item() == pytest.approx(0.0, abs=1e-6)
    assert masked_dice(-perfect, labels).item() == pytest.approx(1 - 1 / 5, abs=1e-6)


def test_bce_dice_is_the_weighted_sum():
    logits, labels = _case(3)
    both = masked_bce(logits, labels) + masked_dice(logits, labels)
    assert masked_bce_dice(logits, labels).item() == pytest.approx(both.item(), rel=1e-6)
    weighted = masked_bce_dice(logits, labels, bce_weight=0.3, dice_weight=0.7)
    expected = 0.3 * masked_bce(logits, labels) + 0.7 * masked_dice(logits, labels)
    assert weighted.item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("loss", ALL)
def test_all_ignored_gives_a_finite_loss(loss):
    logits = torch.randn(1, 1, 4, 4)
    labels = torch.full((1, 1, 4, 4), 2, dtype=torch.uint8)
    assert torch.isfinite(loss(logits, labels))


def test_losses_work_in_3d_and_half_precision():
    logits, labels = _case(4, shape=(2, 1, 4, 8, 8))
    for loss in LOSSES.values():
        value = loss(logits.half(), labels)
        assert value.dtype == torch.float32 and torch.isfinite(value)


def test_loss_registry():
    assert set(LOSSES) == {"bce", "dice", "bce_dice"}
    assert get_loss("dice") is masked_dice
    with pytest.raises(UnknownNameError, match="known: bce, dice, bce_dice"):
        get_loss("focal")


def test_confusion_counts_ignore_label_2():
    # predictions (p > 0.5):   1 1 0 0 1 1
    logits = torch.tensor([3.0, 1.0, -2.0, -1.0, 4.0, 4.0]).view(1, 1, 2, 3)
    labels = torch.tensor([1, 0, 1, 0, 2, 1], dtype=torch.uint8).view(1, 1, 2, 3)
    tp, fp, fn = confusion_counts(logits, labels).tolist()
    assert (tp, fp, fn) == (2, 1, 1)
    assert precision_recall([tp, fp, fn]) == pytest.approx((2 / 3, 2 / 3))


def test_confusion_counts_threshold():
    logits = torch.tensor([0.1, 0.1]).view(1, 1, 1, 2)  # sigmoid ~ 0.525
    labels = torch.tensor([1, 0], dtype=torch.uint8).view(1, 1, 1, 2)
    assert confusion_counts(logits, labels, threshold=0.5).tolist() == [1, 1, 0]
    assert confusion_counts(logits, labels, threshold=0.6).tolist() == [0, 0, 1]


def test_precision_recall_without_positives_is_zero():
    assert precision_recall([0, 0, 0]) == (0.0, 0.0)
    assert precision_recall([0, 0, 5]) == (0.0, 0.0)
    assert precision_recall([0, 4, 0]) == (0.0, 0.0)
