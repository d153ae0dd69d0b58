"""Whole-tomogram segmentation: wall time and peak memory of ``ais-fw segment``.

Speed target: the default architecture segments a 300×512×720 tomogram on 2 CPU cores in
under 60 s. Memory target: peak memory must not grow with the number of slices; run with
``--shape 256 1024 2048`` (a 2 GiB float32 tomogram) and a smaller Z to compare.

The tomogram is random noise written as float32 MRC (speed does not depend on content);
the model is the default architecture trained for one short epoch on `ais-fw synth` data.
Two rates are printed: end to end (model loading and GPU start-up included) and once running
(from the first written window to the last).
Peak memory is the segmenting process's own VmHWM (a fresh process, so nothing else counts).

    python benchmarks/segment_tomogram.py                          # 300 512 720, cpu
    python benchmarks/segment_tomogram.py --shape 256 1024 2048    # 2 GiB memory check
    python benchmarks/segment_tomogram.py --device cuda --batch-size 32
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

CHILD = textwrap.dedent("""
    import json, sys, time, torch
    from ais_framework import api
    torch.set_num_threads(int(sys.argv[5]))
    marks = []
    started = time.perf_counter()
    api.segment([sys.argv[1]], sys.argv[2], models=[sys.argv[3]], device=sys.argv[4], overwrite=True,
                batch_size=int(sys.argv[6]), precision=sys.argv[7],
                on_progress=lambda done, total, name: marks.append((time.perf_counter(), done / total)))
    seconds = time.perf_counter() - started
    (t0, f0), (t1, f1) = marks[0], marks[-1]
    steady = (f1 - f0) * int(sys.argv[8]) / (t1 - t0)
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
    print(json.dumps({"seconds": seconds, "steady": steady, "peak_MiB": peak / 1024}))
""")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(300, 512, 720))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--architecture", default="unet_lite")
    return parser.parse_args()


def _tomogram(path: Path, shape: tuple[int, int, int]) -> None:
    from ais_framework.volume import Volume, write_volume

    data = np.lib.format.open_memmap(path.with_suffix(".npy"), mode="w+", dtype=np.float32, shape=tuple(shape))
    rng = np.random.default_rng(0)
    for z in range(shape[0]):
        data[z] = rng.normal(size=shape[1:]).astype(np.float32)
    write_volume(path, Volume(data, pixel_size=10.0))
    path.with_suffix(".npy").unlink()


def _model(folder: Path, architecture: str) -> Path:
    from ais_framework import api
    from ais_framework.training.run import LabelSource, TrainOptions

    synth = api.make_synthetic(folder / "synth", seed=0)
    source = LabelSource(Path(synth["tomogram"]), Path(synth["files"]["membrane_mask"]), (40, 50))
    options = TrainOptions(feature="membrane", architecture=architecture, epochs=1, copies=1, progress=False, device="cpu")
    return Path(api.train(folder / "model.aism", [source], [], options)["model"])


def main() -> None:
    args = _arguments()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tomogram = folder / "tomogram.mrc"
        _tomogram(tomogram, args.shape)
        model = _model(folder, args.architecture)
        command = [sys.executable, "-c", CHILD, str(tomogram), str(folder / "out"), str(model), args.device,
                   str(args.threads), str(args.batch_size), args.precision, str(args.shape[0])]
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
    z, y, x = args.shape
    size_mib = z * y * x * 4 / 2**20
    print(f"{args.architecture} on a {z}x{y}x{x} float32 tomogram ({size_mib:,.0f} MiB), device {args.device}, "
          f"{args.threads} threads, batch {args.batch_size}, precision {args.precision}")
    print(f"  {result['seconds']:.1f} s end to end, model loading included ({z / result['seconds']:.1f} slices/s); "
          f"{result['steady']:.1f} slices/s once running; "
          f"peak memory {result['peak_MiB']:,.0f} MiB ({result['peak_MiB'] / size_mib:.2f}x the tomogram)")


if __name__ == "__main__":
    main()
