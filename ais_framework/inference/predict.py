"""One model's probabilities for a range of slices of one tomogram, in the tomogram's geometry.

The input is normalised with the tomogram's robust statistics (the method recorded in the
model), resampled in XY to the model's pixel size, run through a :class:`Runner`, and the
probabilities are resampled back to the tomogram's grid.

- 2D/2.5D models see each slice with ``depth // 2`` neighbours on each side as channels
  (clamped at the tomogram's ends).
- 3D models see slabs of ``depth`` slices; slabs overlap by ``depth // 4`` slices on each
  side and only each slab's central slices are kept, so no output comes from a slab edge.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..normalisation import normalise
from .slices import rescale, resize_to, slice_stack


class SlicePredictor:
    def __init__(self, model: Any, runner: Any, volume: Any, stats: dict, batch_size: int = 8):
        self.runner = runner
        self.data = volume.data
        self.stats = stats
        self.depth = int(model.metadata.depth)
        self.three_d = model.metadata.dims == "3d"
        self.factor = volume.pixel_size / model.metadata.pixel_size_A
        self.batch_size = max(1, int(batch_size))
        self._cached: tuple[int, np.ndarray] | None = None

    def predict(self, z0: int, z1: int) -> np.ndarray:
        """float32 probabilities (z1 - z0, Y, X) for slices ``z0 .. z1 - 1``."""
        if z1 <= z0:
            return np.zeros((0,) + self.data.shape[1:], dtype=np.float32)
        parts = self._slabs(z0, z1) if self.three_d else self._slices(z0, z1)
        return np.concatenate(parts)

    def _slices(self, z0: int, z1: int) -> list[np.ndarray]:
        """Batches of slices; the next batch is read and normalised while the network runs."""
        batches = [range(s, min(s + self.batch_size, z1)) for s in range(z0, z1, self.batch_size)]
        parts = []
        with ThreadPoolExecutor(max_workers=1) as reader:
            upcoming = reader.submit(self._prepare, batches[0])
            for following in batches[1:] + [None]:
                batch = upcoming.result()
                if following is not None:
                    upcoming = reader.submit(self._prepare, following)
                parts.append(self._finish(self.runner(batch)))
        return parts

    def _prepare(self, zs: range) -> np.ndarray:
        batch = np.stack([slice_stack(self.data, z, self.depth) for z in zs])
        return rescale(normalise(batch, self.stats), self.factor)

    def _finish(self, probs: np.ndarray) -> np.ndarray:
        """Probabilities back on the tomogram's grid."""
        return resize_to(probs, self.data.shape[1:]).astype(np.float32, copy=False)

    def _slabs(self, z0: int, z1: int) -> list[np.ndarray]:
        """Slabs on a fixed grid (slab k keeps slices k·keep .. (k+1)·keep - 1), whatever z0 is."""
        keep = self.depth - 2 * (self.depth // 4)
        parts = []
        for k in range(z0 // keep, (z1 - 1) // keep + 1):
            probs = self._slab(k * keep)
            lo, hi = max(z0, k * keep), min(z1, (k + 1) * keep)
            parts.append(probs[lo - k * keep : hi - k * keep])
        return parts

    def _slab(self, start: int) -> np.ndarray:
        """Kept probabilities of the slab whose kept slices begin at ``start`` (last one cached)."""
        if self._cached is not None and self._cached[0] == start:
            return self._cached[1]
        margin = self.depth // 4
        index = np.clip(np.arange(start - margin, start - margin + self.depth), 0, self.data.shape[0] - 1)
        slab = np.asarray(self.data[index], dtype=np.float32)[np.newaxis, np.newaxis]
        probs = self._run(slab)[0][margin : self.depth - margin]
        self._cached = (start, probs)
        return probs

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """Normalise, resample to the model, run, resample back: (N, ..., Y, X) float32."""
        return self._finish(self.runner(rescale(normalise(batch, self.stats), self.factor)))
