"""Augmentation of training boxes, in numpy only (no torch).

* :func:`orient` applies one of the 16 exact orientation transforms: the 8 elements of the
  dihedral group of the square (``code % 4`` quarter turns, then an X flip when
  ``(code // 4) % 2``) and, for ``code >= 8``, a Z flip (depth > 1 only).
* :func:`extra_augment` is the optional photometric augmentation ("extra augmentations" in
  the reference tool), applied on the fly by the data loader: each of brightness (±0.1),
  contrast (×0.9–1.1), Gaussian noise (σ up to 0.2) and in-plane blur (σ 0.1–1.1 px) is
  applied with probability ``p`` (default 0.1). Inputs are already normalised (median 0,
  robust σ 1), so these amounts are in units of the tomogram's robust σ.
"""
from __future__ import annotations

import numpy as np

N_DIHEDRAL = 8


def orient(image: np.ndarray, label: np.ndarray, code: int, three_d: bool) -> tuple[np.ndarray, np.ndarray]:
    """Transform one sample (``image`` (..., D, H, W), ``label`` (..., H, W) or 3D (..., D, H, W)).

    Turns and flips act on the last two axes of both; the Z flip reverses the image's
    axis -3 and, for 3D samples, the label's too. Returns contiguous copies.
    """
    quarter_turns, flip, zflip = code % 4, (code // 4) % 2, (code // 8) % 2
    image, label = np.rot90(image, quarter_turns, axes=(-2, -1)), np.rot90(label, quarter_turns, axes=(-2, -1))
    if flip:
        image, label = image[..., ::-1], label[..., ::-1]
    if zflip:
        image = image[..., ::-1, :, :]
        label = label[..., ::-1, :, :] if three_d else label
    return np.ascontiguousarray(image), np.ascontiguousarray(label)


def extra_augment(inputs: np.ndarray, rng: np.random.Generator, p: float = 0.1, batched: bool = False) -> np.ndarray:
    """Brightness, contrast, noise and blur, each with probability ``p`` (see module doc).

    ``inputs`` is one sample (any shape; blur acts on the last two axes) or, with
    ``batched=True``, a batch whose first axis holds independent samples. Returns a new
    float32 array; labels are never changed by these transforms.
    """
    out = np.array(inputs, dtype=np.float32, copy=True)
    if batched:
        for i in range(len(out)):
            out[i] = _augment_one(out[i], rng, p)
        return out
    return _augment_one(out, rng, p)


def _augment_one(x: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    if rng.random() < p:
        x = x + np.float32(rng.uniform(-0.1, 0.1))
    if rng.random() < p:
        mean = np.float32(x.mean())
        x = (x - mean) * np.float32(rng.uniform(0.9, 1.1)) + mean
    if rng.random() < p:
        x = x + rng.normal(0.0, rng.uniform(0.0, 0.2), size=x.shape).astype(np.float32)
    if rng.random() < p:
        from scipy import ndimage

        sigma = [0.0] * (x.ndim - 2) + [rng.uniform(0.1, 1.1)] * 2
        x = ndimage.gaussian_filter(x, sigma, mode="reflect")
    return x.astype(np.float32, copy=False)
