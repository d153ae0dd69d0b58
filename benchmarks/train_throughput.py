"""Training throughput of every registered 2D architecture on the CPU.

For each architecture in the plugin registry that supports "2d": build it for depth 1,
train through the real path (``train_network``) on random 64×64 boxes, batch 32, and
report samples/s of the second epoch (the first one warms up). GAN-trained networks are
trained with their discriminator.

    python benchmarks/train_throughput.py [--threads 2] [--box 64] [--batch 32] [--steps 4] [NAME ...]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="architectures to time (default: every 2D one)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--box", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4, help="timed batches (one epoch)")
    parser.add_argument("--device", default="cpu")
    return parser.parse_args()


def toy_data(n: int, box: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(0).normal(size=(n, 1, box, box)).astype(np.float32)
    return x, (x > 0).astype(np.uint8)


def time_one(spec, args: argparse.Namespace) -> dict:
    from ais_framework.training.fit import train_network

    x, y = toy_data(args.batch * args.steps, args.box)
    discriminator = (lambda: spec.discriminator(1)) if spec.discriminator else None
    started = time.perf_counter()
    result = train_network(lambda: spec.build(1), x, y, epochs=2, batch_size=args.batch, device=args.device,
                           discriminator=discriminator, progress=False)
    seconds = result.history[-1]["seconds"]
    params = sum(p.numel() for p in result.network.parameters())
    return {"name": spec.name, "params": params, "samples_s": len(x) / seconds,
            "step_s": seconds / args.steps, "wall_s": time.perf_counter() - started}


def two_d_specs(names: list[str]) -> list:
    from ais_framework.plugins import get_registry

    specs = {name: entry.spec for name, entry in get_registry().specs("architecture").items()}
    unknown = sorted(set(names) - set(specs))
    if unknown:
        raise SystemExit(f"unknown architecture(s): {', '.join(unknown)}; known: {', '.join(sorted(specs))}")
    chosen = [specs[n] for n in (names or sorted(specs))]
    return [spec for spec in chosen if "2d" in spec.dims]


def main() -> None:
    args = parse_args()
    import torch

    torch.set_num_threads(args.threads)
    specs = two_d_specs(args.names)
    print(f"train throughput: {args.device}, {torch.get_num_threads()} threads, "
          f"{args.box}x{args.box} boxes, batch {args.batch}, {args.steps} steps")
    print(f"{'architecture':<22}{'params':>12}{'samples/s':>12}{'s/step':>10}{'wall s':>9}")
    for spec in specs:
        try:
            row = time_one(spec, args)
        except Exception as exc:  # one broken plugin must not hide the others' numbers
            print(f"{spec.name:<22}  failed: {exc}")
            continue
        print(f"{row['name']:<22}{row['params']:>12,}{row['samples_s']:>12.1f}"
              f"{row['step_s']:>10.2f}{row['wall_s']:>9.1f}")


if __name__ == "__main__":
    main()
