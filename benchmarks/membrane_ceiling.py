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

from ais_framework import synth
from ais_framework.evaluate import segmentation_scores


def membrane_only_image(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(noise-free filtered membrane density, 0/1 membrane mask, number of vesicles) at the default size."""
    shape, px = synth.DEFAULT_SHAPE, synth.DEFAULT_PIXEL_SIZE / 10.0
    scene_seed = np.random.SeedSequence(seed).spawn(3)[0]
    scene = synth.plan_scene(np.random.default_rng(scene_seed), np.array(shape) * px)
    density = np.zeros((synth._padded_z(shape[0], px), *shape[1:]), np.float32)
    mask = np.zeros(shape, np.uint8)
    for vesicle in scene.vesicles:
        synth._render_vesicle(vesicle, density[: shape[0]], mask, px)
    return synth.apply_transfer(density, px)[: shape[0]], mask, len(scene.vesicles)


def best_dice(image: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(Dice, threshold) of the best threshold of ``image`` against ``truth``."""
    return max((segmentation_scores(image, truth, float(t))["dice"], float(t)) for t in np.linspace(0.05, 1.0, 39))


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
