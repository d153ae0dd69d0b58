"""Milliseconds per 512×720 slice for every builtin architecture, as the segmentation engine runs them.

Untrained networks (speed does not depend on the weights), normalised random input, the
engine's own :class:`~ais_framework.inference.runner.Runner` (eval, inference mode,
channels-last, autocast). 3D networks are timed per output slice of their slabs.

    python benchmarks/segment_speed.py                       # CPU, 2 threads, fp32 and auto precision
    python benchmarks/segment_speed.py --device cuda --batch 16 --precision auto
"""
from __future__ import annotations

import argparse
import statistics
import time
from types import SimpleNamespace

import numpy as np
import torch

from ais_framework.inference.runner import Runner
from ais_framework.plugins import get_registry
from ais_framework.testing import count_parameters

SHAPE = (512, 720)
DEPTH_3D = 9


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-a", "--architecture", action="append", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", action="append", default=None, help="fp32, bf16, fp16, auto (repeatable)")
    parser.add_argument("--batch", type=int, default=1, help="slices per network call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args()


def _model(spec) -> SimpleNamespace:
    three_d = "3d" in spec.dims and "2d" not in spec.dims
    network = spec.build(depth=DEPTH_3D if three_d else 1)
    return SimpleNamespace(network=network, spec=spec, metadata=SimpleNamespace(dims="3d" if three_d else "2d"))


def _seconds_per_slice(model, device: str, precision: str, batch: int, repeats: int) -> float:
    runner = Runner(model, device=device, precision=precision)
    three_d = model.metadata.dims == "3d"
    shape = (1, 1, DEPTH_3D) + SHAPE if three_d else (batch, 1) + SHAPE
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    slices = DEPTH_3D - 2 * (DEPTH_3D // 4) if three_d else batch
    runner(x)  # warm-up (oneDNN / cuDNN pick their kernels)
    times = []
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        runner(x)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return statistics.median(times) / slices


def main() -> None:
    args = _arguments()
    torch.set_num_threads(args.threads)
    precisions = args.precision or ["fp32", "auto"]
    specs = get_registry().specs("architecture")
    names = args.architecture or sorted(specs)
    print(f"milliseconds per {SHAPE[0]}x{SHAPE[1]} slice, device {args.device}, batch {args.batch}, "
          f"{torch.get_num_threads()} CPU threads; 'auto' = bf16 on CPUs with bf16 hardware, fp16 on GPUs")
    print(f"{'architecture':<14}{'params':>12}" + "".join(f"{p:>10}" for p in precisions))
    for name in names:
        model = _model(specs[name].spec)
        row = [_seconds_per_slice(model, args.device, p, args.batch, args.repeats) for p in precisions]
        print(f"{name:<14}{count_parameters(model.network):>12,}" + "".join(f"{s * 1000:>10.1f}" for s in row), flush=True)


if __name__ == "__main__":
    main()
