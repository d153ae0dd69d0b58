"""What the terminal UI works on, without any UI: open tomograms, their annotations, models.

A :class:`Dataset` is one open tomogram (memory-mapped) with its annotation store, its
normalisation statistics (computed in a worker), live predictions and picks. A
:class:`Session` holds the open datasets, the current one, and the models. The screens
read and change this state; blocking calls on it run in workers.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..annotations import AnnotationStore, default_store_path
from ..errors import UsageError
from ..volume import Volume, read_volume
from .editing import Annotator


@dataclass
class ModelEntry:
    """A loaded model: its file, the feature it segments, colour, threshold and pipeline role."""

    path: Path
    loaded: object
    feature: str
    colour: str
    threshold: float = 0.5
    show: bool = True
    emit: bool = False
    absorb: bool = False

    @property
    def key(self) -> str:
        return str(self.path)


class Dataset:
    """One open tomogram and everything the UI keeps about it."""

    def __init__(self, volume: Volume, store: AnnotationStore):
        self.volume, self.store = volume, store
        self.annotator = Annotator(store)
        self.stats: dict | None = None
        self.predictions: dict[tuple[str, int], np.ndarray] = {}  # (model key, z) -> probabilities
        self.picks: dict[str, np.ndarray] = {}  # feature -> (N, 3) z, y, x pixels
        self.segmentations: dict[str, Path] = {}  # feature -> segmentation file

    @property
    def path(self) -> Path:
        return Path(self.volume.path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.volume.shape

    def slice(self, z: int) -> np.ndarray:
        """Slice ``z`` as float32 (read from the memory map)."""
        return np.asarray(self.volume.data[int(z)], dtype=np.float32)

    def describe(self) -> str:
        z, y, x = self.shape
        size = f"{self.volume.pixel_size:g} Å" if self.volume.pixel_size else "unknown (set it)"
        return f"{self.name}: {x}×{y}×{z} px (X×Y×Z), pixel size {size}"

    def set_pixel_size(self, pixel_size: float) -> None:
        self.volume = self.volume.with_pixel_size(pixel_size)
        self.predictions.clear()


def open_dataset(path: str | os.PathLike, pixel_size: float | None = None) -> Dataset:
    """Read a tomogram (memory-mapped) and open its annotation store, creating one if needed."""
    path = Path(path)
    volume = read_volume(path, pixel_size=pixel_size, require_pixel_size=False)
    store_path = default_store_path(path)
    if store_path.exists():
        store = AnnotationStore.open(store_path)
        store.tomogram_path()  # refuses a store that belongs to another tomogram
    else:
        store = AnnotationStore.create(store_path, volume, pixel_size=pixel_size)
    return Dataset(volume, store)


@dataclass
class Session:
    """The open datasets, which one is shown, and the loaded models."""

    datasets: list[Dataset] = field(default_factory=list)
    current: int = 0
    models: list[ModelEntry] = field(default_factory=list)
    interactions: list[dict] = field(default_factory=list)  # child, parent, kind, radius_nm, threshold
    save_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def dataset(self) -> Dataset | None:
        return self.datasets[self.current] if self.datasets else None

    def add(self, dataset: Dataset) -> int:
        """Add (or re-select, when already open) a dataset; returns its index and selects it."""
        for i, open_one in enumerate(self.datasets):
            if open_one.path.resolve() == dataset.path.resolve():
                self.current = i
                return i
        self.datasets.append(dataset)
        self.current = len(self.datasets) - 1
        return self.current

    def select(self, index: int) -> None:
        if not 0 <= index < len(self.datasets):
            raise UsageError(f"no open tomogram number {index + 1}", "open one first")
        self.current = index

    def add_model(self, entry: ModelEntry) -> None:
        self.models = [m for m in self.models if m.key != entry.key] + [entry]
        for dataset in self.datasets:
            dataset.predictions = {k: v for k, v in dataset.predictions.items() if k[0] != entry.key}

    def stores_with(self, feature: str) -> list[Path]:
        """Annotation stores of the open datasets that hold slices of ``feature``."""
        found = []
        for dataset in self.datasets:
            names = [f.name for f in dataset.store.features]
            if feature in names and dataset.store.annotated_slices(feature):
                found.append(dataset.store.path)
        return found

    def save_all(self) -> list[Path]:
        """Save every dirty annotation store (atomic; one saver at a time); returns those written."""
        with self.save_lock:
            return [d.store.save() for d in self.datasets if d.store.dirty]
