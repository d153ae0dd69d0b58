"""Speed of the interactions on one 64x512x720 slab, and of the dilation methods we compared.

The builtin colocalize/avoid grow the parent mask by a disc per slice (2D distance transform
per slice) or a ball (the same, then a pass along Z over the squared in-plane distances).
This script times those against the alternatives (3D distance transform, binary dilation with
a disc/ball structure), checks that each gives the same voxels, and times a whole pipeline
step (competition + avoid + colocalize) on the slab. Prints the best of N runs, in seconds.
Usage: python benchmarks/interactions_reach.py [--radius-px 10] [-n 2] [--slow]
  --slow   also time the binary dilation by a ball (about a minute)
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage

from ais_framework.pipeline import Pipeline, postprocess
from ais_plugins.interactions._reach import near_parent

SHAPE = (64, 512, 720)


def carbon_like(shape=SHAPE, seed: int = 0) -> np.ndarray:
    """A parent: a half-plane with an oblique edge plus some small blobs, as probabilities."""
    rng = np.random.default_rng(seed)
    z, y, x = shape
    parent = np.zeros(shape, np.float32)
    yy, xx = np.mgrid[:y, :x]
    parent[:, (yy + 0.3 * xx) < 250] = 0.9
    for _ in range(40):
        cz, cy, cx = rng.integers(0, z), rng.integers(0, y), rng.integers(0, x)
        parent[max(0, cz - 3):cz + 3, max(0, cy - 5):cy + 5, max(0, cx - 5):cx + 5] = 0.8
    return parent


def structure(radius: float, ball: bool) -> np.ndarray:
    r = int(radius)
    if not ball:
        y, x = np.mgrid[-r:r + 1, -r:r + 1]
        return ((y * y + x * x) <= radius * radius)[None]
    z, y, x = np.mgrid[-r:r + 1, -r:r + 1, -r:r + 1]
    return (z * z + y * y + x * x) <= radius * radius


def best_of(n: int, function):
    times, result = [], None
    for _ in range(n):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def compare(parent: np.ndarray, radius: float, ball: bool, n: int, slow: bool) -> None:
    mask = parent > 0.5
    ours_s, ours = best_of(n, lambda: near_parent(parent, 0.5, radius, ball))
    label = "ball" if ball else "disc"
    print(f"{label}: ours (2D EDT per slice{' + Z pass' if ball else ''}): {ours_s:.2f} s")
    sampling = (1.0, 1.0, 1.0) if ball else (radius + 1.0, 1.0, 1.0)  # z spacing > R keeps it in-plane
    edt_s, edt = best_of(n, lambda: ndimage.distance_transform_edt(~mask, sampling=sampling) <= radius)
    print(f"{label}: 3D EDT (sampling {sampling[0]:g},1,1): {edt_s:.2f} s  same voxels: {np.array_equal(ours, edt)}")
    if slow or not ball:
        dil_s, dil = best_of(1, lambda: ndimage.binary_dilation(mask, structure=structure(radius, ball)))
        print(f"{label}: binary dilation: {dil_s:.2f} s  same voxels: {np.array_equal(ours, dil)}")


def pipeline_step(parent: np.ndarray, radius_px: float, n: int) -> None:
    rng = np.random.default_rng(1)
    probs = {name: rng.random(SHAPE, dtype=np.float32) for name in ("membrane", "particles")}
    probs["carbon"] = parent
    for ball in (False, True):
        pipeline = Pipeline.model_validate({
            "model": [{"path": "c.aism", "name": "carbon", "emit": True},
                      {"path": "m.aism", "name": "membrane", "absorb": True},
                      {"path": "p.aism", "name": "particles"}],
            "interaction": [
                {"child": "membrane", "parent": "carbon", "kind": "avoid", "radius_nm": radius_px, "ball": ball},
                {"child": "particles", "parent": "membrane", "kind": "colocalize", "radius_nm": radius_px,
                 "threshold": 0.9, "ball": ball}]})
        seconds, _ = best_of(n, lambda: postprocess(probs, pipeline, pixel_size_A=10.0))
        mode = "ball" if ball else "disc"
        print(f"pipeline (competition + avoid + colocalize, {mode}) on {SHAPE}: {seconds:.2f} s "
              f"= {1000 * seconds / SHAPE[0]:.1f} ms per slice")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radius-px", type=float, default=10.0)
    parser.add_argument("-n", type=int, default=2, help="timed runs per method (best is printed)")
    parser.add_argument("--slow", action="store_true", help="also time the binary dilation by a ball")
    args = parser.parse_args(argv)
    parent = carbon_like()
    print(f"slab {SHAPE}, radius {args.radius_px:g} px")
    compare(parent, args.radius_px, False, args.n, args.slow)
    compare(parent, args.radius_px, True, args.n, args.slow)
    pipeline_step(parent, args.radius_px, args.n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
