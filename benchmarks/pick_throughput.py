"""Blob picking of a 300x512x720 uint8 segmentation: time and peak memory.

    python benchmarks/pick_throughput.py                  # defaults (automatic binning)
    python benchmarks/pick_throughput.py --binning 1      # full resolution
    python benchmarks/pick_throughput.py --keep DIR       # keep the segmentation file

Target: under 10 s on 2 cores, peak memory under 3x the uint8 volume (3 x 110.6 MB).

A segmentation like ``ais-fw segment`` writes (uint8 0-255, soft edges) is made once: ~2500
particles (radius 60-120 Å at 10 Å/px, some touching in pairs) in a 300x512x720 MRC. Then a
fresh process picks it (``ais_framework.picking.pick_file``, blob mode, threshold 0.5,
min size 4/3·π·(40 Å)³, margin 50 Å) and reports its wall time and peak resident memory
(``VmHWM`` of /proc/self/status, which includes the pages of the memory-mapped segmentation it
reads; Linux only). A second
fresh process that only imports the same modules gives the baseline memory of Python, numpy
and scipy, so the growth due to picking is shown too. Thread pools are limited to 2 threads.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPE = (300, 512, 720)
PIXEL_A = 10.0
THREADS = {k: "2" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

CHILD = r"""
import json, sys, time
def peak_MB():  # VmHWM: this process's peak RSS (ru_maxrss would include the parent's peak from before exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from ais_framework.picking import pick_file, picker_spec
picker_spec("blob")
import scipy.ndimage
if sys.argv[1] == "baseline":
    print(json.dumps({"rss_MB": peak_MB()}))
    raise SystemExit
params = json.loads(sys.argv[2])
start = time.perf_counter()
picks = pick_file(sys.argv[1], "blob", **params)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "picks": len(picks), "binning": picks.metadata.get("binning"),
                  "rss_MB": peak_MB()}))
"""


def make_segmentation(path: Path, seed: int = 0) -> int:
    """Soft-edged particles (uint8 0-255) written as MRC; returns how many."""
    from ais_framework.volume import Volume, write_volume

    rng = np.random.default_rng(seed)
    data = np.zeros(SHAPE, dtype=np.uint8)
    count = 0
    for _ in range(2500):
        radius = rng.uniform(6.0, 12.0)
        centre = rng.uniform(radius, np.array(SHAPE) - radius)
        centres = [centre]
        if rng.random() < 0.2:  # a touching neighbour
            direction = rng.normal(size=3)
            centres.append(centre + direction / np.linalg.norm(direction) * radius * 1.9)
        for c in centres:
            _stamp(data, c, radius)
            count += 1
    write_volume(path, Volume(data=data, pixel_size=PIXEL_A, voxel_size=(PIXEL_A,) * 3))
    return count


def _stamp(data: np.ndarray, centre: np.ndarray, radius: float) -> None:
    lo = np.maximum(np.floor(centre - radius - 2).astype(int), 0)
    hi = np.minimum(np.ceil(centre + radius + 3).astype(int), SHAPE)
    grids = np.ogrid[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    distance = np.sqrt(sum((g - c) ** 2 for g, c in zip(grids, centre)))
    value = np.clip((radius + 1.0 - distance) / 2.0, 0.0, 1.0) * 255
    box = data[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    np.maximum(box, value.astype(np.uint8), out=box)


def run_child(*args: str) -> dict:
    env = {**os.environ, **THREADS}
    out = subprocess.run([sys.executable, "-c", CHILD, *args], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binning", type=int, default=0, help="0 = automatic (default)")
    parser.add_argument("--keep", type=Path, help="folder to keep the segmentation in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="ais-pick-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench__particles.mrc"
    if not path.exists():
        start = time.perf_counter()
        count = make_segmentation(path)
        print(f"made {path} ({count} particles, {time.perf_counter() - start:.1f} s)")
    volume_MB = np.prod(SHAPE) / 2**20
    params = {"threshold": 0.5, "min_size_A3": 4 / 3 * np.pi * 40.0**3, "margin_A": 50.0, "binning": args.binning}
    baseline = run_child("baseline")
    result = run_child(str(path), json.dumps(params))
    growth = result["rss_MB"] - baseline["rss_MB"]
    print(f"blob picking {'x'.join(map(str, SHAPE))} uint8 ({volume_MB:.1f} MiB), binning {result['binning']}: "
          f"{result['picks']} picks in {result['seconds']:.2f} s")
    print(f"peak RSS {result['rss_MB']:.0f} MiB = {result['rss_MB'] / volume_MB:.2f}x the volume "
          f"(baseline after imports {baseline['rss_MB']:.0f} MiB; picking added {growth:.0f} MiB = "
          f"{growth / volume_MB:.2f}x)")
    print(f"targets: < 10 s -> {'met' if result['seconds'] < 10 else 'NOT met'}; "
          f"peak < 3x volume -> {'met' if result['rss_MB'] < 3 * volume_MB else 'NOT met'}")
    if args.keep is None:
        path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
