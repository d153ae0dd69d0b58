"""Time and peak memory of ``ais-fw mesh`` on a full-size (300×512×720) uint8 segmentation,
and of ``ais-fw preview`` on the same volume.

    python benchmarks/mesh_memory.py                 # 300 512 720, writes into a temporary folder
    python benchmarks/mesh_memory.py --shape 150 256 360 --format glb

The segmentation holds membrane-like shells (vesicles of 15–40 nm radius, 5 nm thick, some cut
by the volume's edges), about 400 solid 25 nm particles and 20,000 one-voxel specks of dust,
at 10 Å per pixel, written as uint8 0/255 MRC. Meshing and the preview each run in a fresh
child process; their peak resident memory (ru_maxrss) is printed next to the size of the
uint8 volume, so the figure is the command's own cost (Python and libraries included).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ais_framework.volume import Volume, write_volume


def ball(data: np.ndarray, centre: np.ndarray, outer: float, inner: float = -1.0) -> None:
    """Set voxels between ``inner`` and ``outer`` radius (pixels) around ``centre`` to 255."""
    low = np.maximum(np.floor(centre - outer).astype(int), 0)
    high = np.minimum(np.ceil(centre + outer).astype(int) + 1, data.shape)
    if (high <= low).any():
        return
    grid = np.ogrid[tuple(slice(lo, hi) for lo, hi in zip(low, high))]
    distance = np.sqrt(sum((g - c) ** 2 for g, c in zip(grid, centre)))
    view = data[tuple(slice(lo, hi) for lo, hi in zip(low, high))]
    view[(distance <= outer) & (distance > inner)] = 255


def make_segmentation(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = np.zeros(shape, dtype=np.uint8)
    size = np.array(shape, dtype=float)
    for _ in range(int(40 * size.prod() / (300 * 512 * 720))):
        radius = rng.uniform(15, 40)
        ball(data, rng.uniform(0, 1, 3) * size, radius, radius - 5)
    for _ in range(int(400 * size.prod() / (300 * 512 * 720))):
        ball(data, rng.uniform(0, 1, 3) * size, 12.5)
    specks = (rng.uniform(0, 1, (20000, 3)) * (size - 1)).astype(int)
    data[specks[:, 0], specks[:, 1], specks[:, 2]] = 255
    return data


CHILD = """
import resource, sys, time
from ais_framework import api
start = time.perf_counter()
if sys.argv[1] == "mesh":
    summary = api.mesh_segmentation(sys.argv[2], sys.argv[3], dust_nm3=100)
    detail = f"{summary['blobs']} blobs, {summary['faces']} triangles, {summary['dust_blobs']} dust blobs dropped"
else:
    summary = api.preview(sys.argv[2], sys.argv[3], [sys.argv[2]])
    detail = f"{summary['size'][0]}x{summary['size'][1]} px"
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, detail, sep="|")
"""


def run_child(*args: str) -> tuple[float, float, str]:
    out = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True).stdout
    seconds, peak_kib, detail = out.strip().splitlines()[-1].split("|")
    return float(seconds), int(peak_kib) / 1024, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(300, 512, 720), metavar=("Z", "Y", "X"))
    parser.add_argument("--format", default="obj", choices=("obj", "stl", "glb"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        seg = Path(folder) / "bench__membrane.mrc"
        data = make_segmentation(tuple(args.shape))
        write_volume(seg, Volume(data, pixel_size=10.0))
        volume_mib = data.nbytes / 2**20
        del data
        for what, output in (("mesh", f"mesh.{args.format}"), ("preview", "preview.png")):
            seconds, peak_mib, detail = run_child(what, str(seg), str(Path(folder) / output))
            print(f"{what:>7}: {seconds:6.1f} s, peak memory {peak_mib:7.0f} MiB "
                  f"({peak_mib / volume_mib:.1f}x the {volume_mib:.0f} MiB uint8 volume); {detail}")


if __name__ == "__main__":
    main()
