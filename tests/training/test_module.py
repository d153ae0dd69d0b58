"""SegmentationModule and the training data module (sampling and augmentation)."""
import numpy as np
import pytest
import torch
from torch import nn

from ais_framework.errors import UnknownNameError
from ais_framework.training.datamodule import (AugmentedSamples, PositiveBatchSampler, SegmentationDataModule,
                                               dihedral, n_transforms)
from ais_framework.training.module import SegmentationModule


def tiny_net(depth=1):
    return nn.Sequential(nn.Conv2d(depth, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 3, padding=1))


def test_hyperparameters_hold_settings_not_networks():
    module = SegmentationModule(tiny_net(), loss="dice", lr=0.01, discriminator=tiny_net(2))
    assert module.hparams.loss == "dice" and module.hparams.lr == 0.01
    assert "network" not in module.hparams and "discriminator" not in module.hparams
    assert module.automatic_optimization is False
    assert SegmentationModule(tiny_net()).automatic_optimization is True


def test_unknown_loss_is_named():
    with pytest.raises(UnknownNameError, match="focal"):
        SegmentationModule(tiny_net(), loss="focal")


def test_optimisers():
    plain = SegmentationModule(tiny_net(), lr=0.005).configure_optimizers()
    assert isinstance(plain, torch.optim.Adam) and plain.defaults["lr"] == 0.005
    gen, disc = SegmentationModule(tiny_net(), discriminator=tiny_net(2)).configure_optimizers()
    assert gen.param_groups[0]["params"][0].shape == (4, 1, 3, 3)
    assert disc.param_groups[0]["params"][0].shape == (4, 2, 3, 3)


@pytest.mark.parametrize("code", range(16))
def test_dihedral_keeps_image_and_label_aligned_2d(code):
    x = np.random.default_rng(code).normal(size=(1, 8, 8)).astype(np.float32)
    y = (x > 0).astype(np.uint8)
    tx, ty = dihedral(x, y, code, three_d=False)
    assert np.array_equal(ty, (tx > 0).astype(np.uint8))
    assert tx.shape == x.shape and ty.shape == y.shape


@pytest.mark.parametrize("code", range(16))
def test_dihedral_keeps_image_and_label_aligned_3d(code):
    x = np.random.default_rng(code).normal(size=(1, 4, 8, 8)).astype(np.float32)
    tx, ty = dihedral(x, (x > 0).astype(np.uint8), code, three_d=True)
    assert np.array_equal(ty, (tx > 0).astype(np.uint8))


def test_dihedral_z_flip_reverses_slices_but_not_the_centre_label():
    x = np.arange(3 * 4 * 4, dtype=np.float32).reshape(3, 4, 4)
    y = np.zeros((1, 4, 4), np.uint8)
    y[0, 0, 1] = 1
    tx, ty = dihedral(x, y, 8, three_d=False)
    assert np.array_equal(tx, x[::-1]) and np.array_equal(ty, y)


def test_number_of_transforms():
    assert n_transforms(np.zeros((2, 1, 8, 8))) == 8
    assert n_transforms(np.zeros((2, 2, 8, 8))) == 8  # even depth: no centre slice to keep
    assert n_transforms(np.zeros((2, 5, 8, 8))) == 16
    assert n_transforms(np.zeros((2, 1, 5, 8, 8))) == 16


def test_non_square_boxes_keep_their_shape():
    x = np.zeros((1, 4, 6), np.float32)
    for code in range(8):
        tx, ty = dihedral(x, np.zeros((1, 4, 6), np.uint8), code, three_d=False)
        assert tx.shape == ty.shape == (1, 4, 6)


def _positives(n=100, where=(3, 50, 97)):
    positives = np.zeros(n, bool)
    positives[list(where)] = True
    return positives


def test_every_batch_holds_a_positive():
    positives = _positives()
    sampler = PositiveBatchSampler(positives, batch_size=8, seed=0, n_transforms=8)
    for _ in range(3):
        batches = list(sampler)
        assert len(batches) == len(sampler) == 13
        for batch in batches:
            assert any(positives[i] for i, _, _ in batch)
            assert all(0 <= code < 8 for _, code, _ in batch)


def test_sampler_visits_every_negative_and_is_seeded():
    positives = _positives()
    first = list(PositiveBatchSampler(positives, 8, seed=1, n_transforms=8))
    again = list(PositiveBatchSampler(positives, 8, seed=1, n_transforms=8))
    other = list(PositiveBatchSampler(positives, 8, seed=2, n_transforms=8))
    seen = {i for batch in first for i, _, _ in batch}
    replaced = sum(len(b) for b in first) - len(seen)
    assert first == again and first != other
    assert replaced <= 13 and len(seen) >= 100 - 13


def test_sampler_without_positives_is_a_plain_shuffle():
    batches = list(PositiveBatchSampler(np.zeros(20, bool), 8, seed=0, n_transforms=8))
    assert sorted(i for b in batches for i, _, _ in b) == list(range(20))


def test_sampler_never_ends_with_a_single_sample():
    batches = list(PositiveBatchSampler(_positives(17, (0,)), 8, seed=0, n_transforms=8))
    assert [len(b) for b in batches] == [8, 8, 2]


def test_sampler_shares_whole_batches_between_devices():
    positives = _positives()
    ranks = [list(PositiveBatchSampler(positives, 8, 0, 8, rank=r, world_size=3)) for r in range(3)]
    assert [len(r) for r in ranks] == [5, 5, 5]
    assert len(PositiveBatchSampler(positives, 8, 0, 8, rank=0, world_size=3)) == 5
    single = list(PositiveBatchSampler(positives, 8, 0, 8))
    assert ranks[1][0] == single[1]
    assert all(any(positives[i] for i, _, _ in b) for r in ranks for b in r)


def test_dataloader_yields_float_inputs_and_uint8_labels_with_extra_augment():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(10, 3, 16, 16)).astype(np.float32)
    labels = (inputs[:, 1:2] > 0).astype(np.uint8)
    calls = []

    def extra(x, gen):
        calls.append(x.shape)
        return x + 100.0

    loader = SegmentationDataModule(inputs, labels, batch_size=4, seed=0, extra_augment=extra).train_dataloader()
    batches = list(loader)
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.dtype == torch.float32 and x.shape == (4, 3, 16, 16)
    assert y.dtype == torch.uint8 and y.shape == (4, 1, 16, 16)
    assert calls == [(3, 16, 16)] * 10 and float(x.min()) > 90


def test_augmented_samples_follow_the_transform_code():
    inputs = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    labels = np.zeros((2, 1, 4, 4), np.uint8)
    x, _ = AugmentedSamples(inputs, labels)[(1, 1, 0)]
    assert np.array_equal(x.numpy(), np.rot90(inputs[1], 1, axes=(-2, -1)))
