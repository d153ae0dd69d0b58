"""Train a membrane model on `ais-fw synth` data and score it on a second synthetic tomogram.

Issue target: the default architecture reaches Dice >= 0.8 on the second tomogram in under
5 minutes of training on 2 CPU cores. Prints, per architecture: parameters, training time,
segmentation time, and Dice/IoU/precision/recall at threshold 0.5.

    python benchmarks/membrane_quality.py                       # default architecture, 25 epochs
    python benchmarks/membrane_quality.py -a unet_lite -a vggnet_m --epochs 8
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from ais_framework import api
from ais_framework.testing import count_parameters
from ais_framework.plugins import get_registry
from ais_framework.training.run import LabelSource, TrainOptions


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-a", "--architecture", action="append", default=None)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--slices", type=int, default=11, help="annotated slices of the training tomogram")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="training and segmentation device (cpu, cuda, ...)")
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--loss", default="bce")
    parser.add_argument("--copies", type=int, default=8)
    return parser.parse_args()


def _data(root: Path) -> tuple[dict, dict]:
    return api.make_synthetic(root / "train", seed=0), api.make_synthetic(root / "test", seed=1)


def _run(arch: str, train: dict, test: dict, args, root: Path) -> dict:
    n_z = api.volume_info(train["tomogram"])["shape_zyx"][0]
    step = n_z // (args.slices + 1)
    source = LabelSource(Path(train["tomogram"]), Path(train["files"]["membrane_mask"]),
                         tuple(step * (i + 1) for i in range(args.slices)))
    options = TrainOptions(feature="membrane", architecture=arch, epochs=args.epochs, progress=False,
                           device=args.device, depth=args.depth, loss=args.loss, copies=args.copies)
    started = time.perf_counter()
    summary = api.train(root / f"{arch}.aism", [source], [], options)
    trained = time.perf_counter() - started
    started = time.perf_counter()
    seg = api.segment_tomogram(test["tomogram"], summary["model"], root / arch, overwrite=True,
                               device="cuda" if args.device.startswith("cuda") else "cpu")
    segmented = time.perf_counter() - started
    scores = api.segmentation_scores(seg, test["files"]["membrane_mask"], threshold=0.5)
    scores["best"] = max((api.segmentation_scores(seg, test["files"]["membrane_mask"], threshold=t)["dice"], t)
                         for t in (0.3, 0.4, 0.6, 0.7))
    params = count_parameters(get_registry().get("architecture", arch).build(depth=1))
    return {"arch": arch, "params": params, "train_s": trained, "segment_s": segmented, **scores}


def main() -> None:
    args = _arguments()
    torch.set_num_threads(args.threads)
    archs = args.architecture or ["unet_lite"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train, test = _data(root)
        print(f"membrane model, {args.epochs} epochs, {args.slices} annotated slices, depth {args.depth}, "
              f"loss {args.loss}, device {args.device}, {args.threads} threads; "
              f"target: Dice >= 0.8 in < 300 s of training")
        print(f"{'architecture':<14}{'params':>11}{'train s':>9}{'seg s':>8}{'dice':>7}{'iou':>7}{'prec':>7}{'recall':>8}")
        for arch in archs:
            r = _run(arch, train, test, args, root)
            print(f"{r['arch']:<14}{r['params']:>11,}{r['train_s']:>9.0f}{r['segment_s']:>8.1f}"
                  f"{r['dice']:>7.3f}{r['iou']:>7.3f}{r['precision']:>7.3f}{r['recall']:>8.3f}"
                  f"   (dice {r['best'][0]:.3f} at threshold {r['best'][1]})", flush=True)


if __name__ == "__main__":
    main()
