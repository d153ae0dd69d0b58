"""How much of the membrane truth can the image show? A ceiling for membrane Dice on `ais-fw synth`.

For each seed, the simulator's vesicles are rendered alone (no carbon, no particles, no noise)
and passed through the same missing wedge (±60° about Y) and blur as the tomogram. Thresholding
that perfect, noise-free image at its best threshold gives the Dice a voxel-by-voxel decision
could reach; membranes lying nearly flat in the slices (vesicle tops and bottoms) fall in the
missing wedge and are lost, and the others are smeared along Z. A network scoring above this
figure has learned to infer membranes from their context (neighbouring slices, vesicle shape).

    python benchmarks/membrane_ceiling.py [--seeds 0 1 2 3 4 5]

It uses the simulator's internal steps (``ais_framework.synth``), not a public API.
"""
from __future__ import annotations

import argparse

import numpy as np
from scipy import fft

from ais_framework import synth


def membrane_only_image(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(noise-free filtered membrane density, membrane mask, number of vesicles) at the default size."""
    shape, px = synth.DEFAULT_SHAPE, synth.DEFAULT_PIXEL_SIZE / 10.0
    scene_seed = np.random.SeedSequence(seed).spawn(3)[0]
    scene = synth.plan_scene(np.random.default_rng(scene_seed), np.array(shape) * px)
    density = np.zeros((synth._padded_z(shape[0], px), *shape[1:]), np.float32)
    mask = np.zeros(shape, np.uint8)
    for vesicle in scene.vesicles:
        synth._render_vesicle(vesicle, density[: shape[0]], mask, px)
    zx, y_part = synth._transfer(density.shape, px, full_x=False)
    spectrum = fft.rfftn(density) * zx[:, None, :] * y_part[None, :, None]
    return fft.irfftn(spectrum, s=density.shape)[: shape[0]], mask.astype(bool), len(scene.vesicles)


def best_dice(image: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(Dice, threshold) of the best threshold of ``image`` against ``truth``."""
    best = (0.0, 0.0)
    for threshold in np.linspace(0.05, 1.0, 39):
        found = image > threshold
        dice = 2 * np.count_nonzero(found & truth) / (np.count_nonzero(found) + np.count_nonzero(truth))
        best = max(best, (float(dice), float(threshold)))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(6)))
    args = parser.parse_args()
    print("seed  vesicles  membrane voxels  ceiling Dice (noise-free, best threshold)")
    for seed in args.seeds:
        image, truth, vesicles = membrane_only_image(seed)
        dice, threshold = best_dice(image, truth)
        print(f"{seed:>4}{vesicles:>10}{np.count_nonzero(truth):>17,}  {dice:.3f} at {threshold:.2f}", flush=True)


if __name__ == "__main__":
    main()
