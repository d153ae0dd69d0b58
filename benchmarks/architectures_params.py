"""Parameters and CPU cost of every registered architecture, and (``--quality``) how well
each learns a synthetic membrane task.

    python benchmarks/architectures_params.py                    # params + ms per 512x720 slice
    python benchmarks/architectures_params.py --only unet_lite vggnet_m --quality

Timing: depth 1, one 512x720 slice (padded up to the size multiple, as inference does),
``torch.set_num_threads(2)`` (``--threads``), ``torch.inference_mode()``, eval mode, best of ``--repeats``
after one warm-up. 3D networks run a 5x512x720 slab and report ms per slice.
Quality: each network trains ``--steps`` Adam steps (lr 1e-3, batch 8, 64x64 boxes, masked
BCE) on noisy images of thin curved membranes, then is scored (Dice at 0.5) on 16 held-out
128x128 images; the same seed gives every network the same data.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from ais_framework.plugins import get_registry
from ais_framework.testing import count_parameters, masked_bce

SLICE = (512, 720)


def padded(size: int, multiple: int) -> int:
    return math.ceil(size / multiple) * multiple


def ms_per_slice(spec, repeats: int) -> float:
    network = spec.build(1).eval()
    h, w = (padded(s, spec.size_multiple) for s in SLICE)
    slices = 5 if "3d" in spec.dims else 1
    x = torch.randn(1, 1, slices, h, w) if "3d" in spec.dims else torch.randn(1, 1, h, w)
    best = float("inf")
    with torch.inference_mode():
        network(x)
        for _ in range(repeats):
            start = time.perf_counter()
            network(x)
            best = min(best, time.perf_counter() - start)
    return 1000 * best / slices


def membranes(rng: np.random.Generator, count: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Images of 2-3 px thick circular arcs (vesicle membranes) in strong noise, and their masks."""
    yy, xx = np.mgrid[:size, :size]
    images = np.zeros((count, size, size), np.float32)
    masks = np.zeros((count, size, size), np.float32)
    for i in range(count):
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.uniform(-0.2, 1.2, 2) * size
            radius = rng.uniform(0.15, 0.6) * size
            ring = np.abs(np.hypot(yy - cy, xx - cx) - radius) < rng.uniform(1.0, 1.6)
            masks[i] = np.maximum(masks[i], ring)
        images[i] = masks[i] * -1.0 + rng.normal(0, 1.0, (size, size)) + 0.3 * np.sin(xx / rng.uniform(8, 20))
    return images, masks


def quality(spec, steps: int, seed: int = 0) -> tuple[float, float]:
    """(Dice on held-out images, training seconds) after ``steps`` steps on the membrane task."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    network = spec.build(1)
    optimiser = torch.optim.Adam(network.parameters(), lr=1e-3)
    network.train()
    start = time.perf_counter()
    for _ in range(steps):
        images, masks = membranes(rng, 8, 64)
        loss = masked_bce(network(torch.from_numpy(images)[:, None]), torch.from_numpy(masks)[:, None])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    seconds = time.perf_counter() - start
    images, masks = membranes(np.random.default_rng(seed + 1), 16, 128)
    network.eval()
    with torch.inference_mode():
        predicted = network(torch.from_numpy(images)[:, None])[:, 0].numpy() > 0
    truth = masks > 0.5
    dice = 2 * (predicted & truth).sum() / max(1, predicted.sum() + truth.sum())
    return float(dice), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="architecture names (default: all registered)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quality", action="store_true", help="also train on the synthetic membrane task")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic training and test data")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (use 1 on a busy machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    specs = get_registry().specs("architecture")
    names = args.only or sorted(specs)
    quality_header = f" {'dice':>6s} {'train s':>8s}" if args.quality else ""
    print(f"{'name':14s} {'params':>12s} {'ms/slice':>10s}{quality_header}")
    for name in names:
        spec = specs[name].spec
        row = f"{name:14s} {count_parameters(spec.build(1)):>12,} {ms_per_slice(spec, args.repeats):>10.0f}"
        if args.quality and "3d" not in spec.dims:
            dice, seconds = quality(spec, args.steps, args.seed)
            row += f" {dice:>6.3f} {seconds:>8.0f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
