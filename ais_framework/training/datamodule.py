"""Training batches from in-memory arrays: seeded shuffling, dihedral augmentation, and a
guarantee that every batch holds an annotated (positive) box.

Shapes: 2D/2.5D ``inputs`` (N, depth, H, W) with ``labels`` (N, 1, H, W); 3D ``inputs``
(N, 1, D, H, W) with ``labels`` (N, 1, D, H, W). Labels are uint8 0/1/2.

Everything random is decided by the batch sampler from ``seed`` and the epoch number: it
yields ``(index, transform, subseed)`` triples, so runs are reproducible whatever the
number of workers. Under several devices every rank draws the same epoch plan and takes
its own share of whole batches (each therefore still holds a positive).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import lightning
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

ExtraAugment = Callable[[np.ndarray, np.random.Generator], np.ndarray]
Item = tuple[int, int, int]  # (sample index, dihedral transform code, subseed)


def dihedral(x: np.ndarray, y: np.ndarray, code: int, three_d: bool) -> tuple[np.ndarray, np.ndarray]:
    """Apply transform ``code`` (0..15: rot90 count, XY flip, Z flip) to one sample.

    Rotations and flips act on the last two axes of both arrays. The Z flip reverses axis
    -3 of the input (slices for 2.5D, depth for 3D) and, for 3D, of the label too."""
    k, flip, zflip = code % 4, (code // 4) % 2, (code // 8) % 2
    if x.shape[-1] != x.shape[-2]:
        k = 2 * (k % 2)  # non-square boxes: only 0 and 180 degrees keep the shape
    x, y = np.rot90(x, k, axes=(-2, -1)), np.rot90(y, k, axes=(-2, -1))
    if flip:
        x, y = x[..., ::-1], y[..., ::-1]
    if zflip:
        x = x[..., ::-1, :, :]
        y = y[..., ::-1, :, :] if three_d else y
    return x, y


class AugmentedSamples(Dataset):
    """Samples addressed by ``(index, transform, subseed)``; returns float32 input and uint8 label."""

    def __init__(self, inputs: np.ndarray, labels: np.ndarray, extra_augment: ExtraAugment | None = None):
        self.inputs, self.labels = inputs, labels
        self.three_d = inputs.ndim == 5
        self.extra_augment = extra_augment

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, item: Item) -> tuple[torch.Tensor, torch.Tensor]:
        index, code, subseed = item
        x, y = dihedral(self.inputs[index], self.labels[index], code, self.three_d)
        if self.extra_augment is not None:
            x = self.extra_augment(np.array(x, dtype=np.float32), np.random.default_rng(subseed))
        x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        return x, torch.from_numpy(np.ascontiguousarray(y, dtype=np.uint8))


class PositiveBatchSampler:
    """Shuffled batches of ``(index, transform, subseed)`` in which every batch holds a positive.

    An epoch visits every sample once (``ceil(n / batch_size)`` batches); a batch that drew
    no positive gets its first slot replaced by a random positive (when any exist). A
    last batch of one sample is topped up with a random one (BatchNorm needs two).
    """

    def __init__(self, positives: np.ndarray, batch_size: int, seed: int, n_transforms: int,
                 rank: int = 0, world_size: int = 1):
        self.positives = np.asarray(positives, dtype=bool)
        self.batch_size, self.seed, self.n_transforms = batch_size, seed, n_transforms
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def _plan(self, rng: np.random.Generator) -> list[np.ndarray]:
        n, size = len(self.positives), self.batch_size
        order = rng.permutation(n)
        if n % size == 1 and n > 1:
            order = np.append(order, rng.integers(n))
        batches = [order[i:i + size] for i in range(0, len(order), size)]
        positive_ids = np.flatnonzero(self.positives)
        for batch in batches:
            if len(positive_ids) and not self.positives[batch].any():
                batch[0] = rng.choice(positive_ids)
        return batches

    def _share(self, batches: list) -> list:
        per_rank = -(-len(batches) // self.world_size)
        padded = [batches[i % len(batches)] for i in range(per_rank * self.world_size)]
        return padded[self.rank::self.world_size]

    def __iter__(self) -> Iterator[list[Item]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        batches = self._plan(rng)
        codes = [rng.integers(self.n_transforms, size=len(b)) for b in batches]
        subseeds = [rng.integers(2**31, size=len(b)) for b in batches]
        items = [[(int(i), int(c), int(s)) for i, c, s in zip(*parts)] for parts in zip(batches, codes, subseeds)]
        yield from self._share(items)

    def __len__(self) -> int:
        n = len(self.positives)
        batches = -(-n // self.batch_size)
        return -(-batches // self.world_size)


def n_transforms(inputs: np.ndarray) -> int:
    """How many dihedral variants apply: 8 (rot90 × XY flip), or 16 with a Z flip for 3D
    and for 2.5D with an odd depth (the annotated centre slice then stays put)."""
    depth = inputs.shape[-3]
    return 16 if inputs.ndim == 5 or (depth > 1 and depth % 2 == 1) else 8


class SegmentationDataModule(lightning.LightningDataModule):
    """Training data for :class:`~ais_framework.training.module.SegmentationModule`."""

    def __init__(self, inputs: np.ndarray, labels: np.ndarray, batch_size: int = 32, seed: int = 0,
                 extra_augment: ExtraAugment | None = None, num_workers: int = 0):
        super().__init__()
        self.inputs, self.labels = inputs, labels
        self.batch_size, self.seed, self.num_workers = batch_size, seed, num_workers
        self.extra_augment = extra_augment

    def positives(self) -> np.ndarray:
        """One bool per sample: does its label hold any feature (1) pixel?"""
        flat = self.labels.reshape(len(self.labels), -1)
        return (flat == 1).any(axis=1)

    def train_dataloader(self) -> DataLoader:
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        sampler = PositiveBatchSampler(self.positives(), self.batch_size, self.seed,
                                       n_transforms(self.inputs), rank, world)
        samples = AugmentedSamples(self.inputs, self.labels, self.extra_augment)
        return DataLoader(samples, batch_sampler=sampler, num_workers=self.num_workers,
                          pin_memory=_on_gpu(trainer), persistent_workers=self.num_workers > 0)


def _on_gpu(trainer: Any) -> bool:
    return trainer is not None and type(trainer.accelerator).__name__ == "CUDAAccelerator"
