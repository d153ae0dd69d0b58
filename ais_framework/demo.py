"""The whole workflow on synthetic tomograms with known answers (``ais-fw demo``).

1. simulate a training and a test tomogram (:func:`ais_framework.synth`), each with its ground truth;
2-4. train a membrane, a carbon and a ribosome (large particle) model on a few slices of the
   training tomogram, labelled from its truth masks, as a user would paint them;
5. write a pipeline file (carbon emits, membrane absorbs, membrane avoids the carbon edge) and
   segment the test tomogram with it;
6. pick the ribosomes (blob picker) and write them as a RELION STAR file;
7. score every segmentation (Dice, IoU, precision, recall) and the picks (precision, recall, F1
   within a tolerance) against the test tomogram's truth;
8. draw a PNG of a few slices with the segmentations and the picks.

:func:`run_demo` returns the report as plain data; the CLI prints it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import api
from .atomic import write_text_atomic

STEPS = 8
QUICK_SHAPE = (48, 128, 128)  # at 20 Å: the same field of view, so the same objects, as the default synth
QUICK_PIXEL_SIZE = 20.0
# Blobs under a 16 nm ball are debris; picks closer than 20 nm in one blob merge (the particles are ~25 nm,
# so two touching ones still give two picks); picks within 5 nm of a face are cut particles or edge noise.
PICK_PARAMETERS = {"threshold": 0.5, "min_size_A3": round(4 / 3 * math.pi * 80.0**3), "spacing_A": 200.0,
                   "margin_A": 50.0}
PICK_TOLERANCE_A = 100.0
PICK_RADIUS_A = 125.0  # the ~25 nm ribosome-like particles
AVOID_RADIUS_NM = 10.0


@dataclass(frozen=True)
class DemoModel:
    """How the demo trains one feature: its synth truth mask, how many labelled slices and epochs."""

    feature: str
    truth: str                # key of the mask in the synth manifest's "files"
    slices: int               # labelled slices of the training tomogram, spread over the feature's Z range
    epochs: int
    copies: int = 4           # orientations per positive box
    train_pixel_size: float | None = None  # Å; coarser is cheaper for big, blunt features
    batch_size: int = 32


MODELS = (  # about 100 s of training on one CPU core in all, for a demo of a few minutes on a laptop
    DemoModel("membrane", "membrane_mask", slices=6, epochs=12, batch_size=8),
    DemoModel("carbon", "carbon_mask", slices=6, epochs=8, copies=8, train_pixel_size=20.0, batch_size=16),
    DemoModel("ribosome", "large_particles_mask", slices=6, epochs=8, train_pixel_size=20.0, batch_size=16),
)

Say = Callable[[str], Any]


def _quiet(_text: str) -> None:
    return None


def run_demo(output: str | Path, seed: int = 0, epochs: int | None = None, quick: bool = False,
             progress: bool = False, on_step: Say | None = None, on_detail: Say | None = None) -> dict[str, Any]:
    """Run the demo into ``output`` and return its report (see the module docstring).

    ``epochs`` trains every model for that many epochs (default: each model's own; 1 with
    ``quick``, which also shrinks the tomograms to 48x128x128 at 20 Å). ``on_step`` receives
    "N/8 what" lines as steps start, ``on_detail`` a line of facts after each.
    """
    step, detail = on_step or _quiet, on_detail or _quiet
    output, start = Path(output), time.perf_counter()
    step(f"1/{STEPS} simulating a training and a test tomogram in {output}/ ...")
    train_set, test_set = _simulate(output, seed, quick)
    report: dict[str, Any] = {"output": str(output), "seed": seed, "quick": quick,
                              "synthetic": _synthetic_facts(output, train_set, test_set)}
    facts = report["synthetic"]["test"]
    detail(f"{' x '.join(map(str, facts['shape_zyx']))} (Z Y X) at {facts['pixel_size_A']:g} Å/px; "
           f"{facts['counts']['large_particles']} ribosomes, {facts['counts']['vesicles']} vesicles in the test one")
    report["models"] = {}
    for number, spec in enumerate(MODELS, start=2):
        chosen = _epochs(spec, epochs, quick)
        plural = "s" if chosen != 1 else ""
        step(f"{number}/{STEPS} training a {spec.feature} model on {spec.slices} labelled slices "
             f"({chosen} epoch{plural}) ...")
        summary = train_model(output / "train" / train_set["tomogram"], _file(output, "train", train_set, spec.truth),
                              output / "models" / f"{spec.feature}.aism", spec, chosen, seed, progress)
        report["models"][spec.feature] = summary
        detail(f"{summary['path']}: slices {', '.join(map(str, summary['slices']))}, best loss "
               f"{summary['best_loss']:.4f}, {summary['seconds']:.0f} s")
    step(f"5/{STEPS} segmenting the test tomogram with a pipeline (competition and interactions) ...")
    report["pipeline"] = str(write_pipeline(output / "pipeline.toml", report["models"]))
    report["segmentations"] = segment(output, test_set, report["pipeline"])
    detail(f"{report['pipeline']} -> {', '.join(report['segmentations'].values())}")
    step(f"6/{STEPS} picking the ribosomes ...")
    report["picks"] = pick(output, report["segmentations"]["ribosome"])
    detail(f"{report['picks']['count']} picks -> {report['picks']['path']}")
    step(f"7/{STEPS} scoring against the simulator's ground truth ...")
    report["scores"] = score(output, test_set, report["segmentations"], report["picks"]["path"])
    step(f"8/{STEPS} drawing a preview ...")
    report["preview"] = draw_preview(output, test_set, report["segmentations"], report["picks"]["path"])
    detail(report["preview"]["path"])
    report["seconds"] = round(time.perf_counter() - start, 1)
    return report


def _simulate(output: Path, seed: int, quick: bool) -> tuple[dict, dict]:
    shape, pixel_size = (QUICK_SHAPE, QUICK_PIXEL_SIZE) if quick else (None, None)
    train_set = api.make_synthetic(output / "train", seed=seed, shape=shape, pixel_size=pixel_size)
    test_set = api.make_synthetic(output / "test", seed=seed + 1, shape=shape, pixel_size=pixel_size)
    return train_set, test_set


def _synthetic_facts(output: Path, *sets: dict) -> dict[str, Any]:
    return {role: {"folder": str(output / role), "tomogram": str(output / role / s["tomogram"]),
                   "shape_zyx": s["shape_zyx"], "pixel_size_A": s["pixel_size_A"], "counts": s["counts"]}
            for role, s in zip(("train", "test"), sets)}


def _epochs(spec: DemoModel, epochs: int | None, quick: bool) -> int:
    return epochs if epochs is not None else (1 if quick else spec.epochs)


def _file(output: Path, role: str, manifest: dict, key: str) -> Path:
    return output / role / manifest["files"][key]


def training_slices(mask_path: Path, count: int) -> tuple[int, ...]:
    """``count`` slices spread evenly over the Z range where the mask has the feature."""
    import numpy as np

    from .volume import read_volume

    mask = read_volume(mask_path, require_pixel_size=False).data
    present = np.flatnonzero([np.any(mask[z]) for z in range(mask.shape[0])])
    if len(present) == 0:
        from .errors import AisError

        raise AisError(f"{mask_path}: the simulated tomogram holds none of this feature", "try another --seed")
    chosen = np.linspace(present[0], present[-1], count + 2)[1:-1] if len(present) > count else present
    return tuple(sorted({int(round(z)) for z in chosen}))


def train_model(tomogram: Path, mask: Path, path: Path, spec: DemoModel, epochs: int, seed: int,
                progress: bool) -> dict[str, Any]:
    """Train one of the demo's models on a few slices of ``tomogram`` labelled from its truth ``mask``."""
    from .training.run import LabelSource, TrainOptions

    source = LabelSource(Path(tomogram), Path(mask), training_slices(mask, spec.slices))
    options = TrainOptions(feature=spec.feature, epochs=epochs, seed=seed, copies=spec.copies,
                           batch_size=spec.batch_size, train_pixel_size=spec.train_pixel_size, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = api.train(path, [source], [], options)
    return {"path": str(path), "architecture": options.architecture, "slices": list(source.slices),
            "epochs": epochs, "samples": summary["samples"], "best_loss": summary["best_loss"],
            "best_epoch": summary["best_epoch"], "seconds": summary["seconds"],
            "train_pixel_size_A": spec.train_pixel_size}


PIPELINE = """\
# The demo's pipeline: ais-fw segment TOMO... --pipeline {name} -o OUT
# Competition: where carbon is stronger than membrane, membrane is set to 0.
# Interaction: membrane within {radius:g} nm of carbon (carbon >= 0.5) is removed: the dense carbon
# edge looks like a membrane to the membrane model.

[[model]]
path = "{carbon}"
emit = true

[[model]]
path = "{membrane}"
absorb = true

[[model]]
path = "{ribosome}"

[[interaction]]
child = "membrane"
parent = "carbon"
kind = "avoid"
radius_nm = {radius:g}
threshold = 0.5
"""


def write_pipeline(path: Path, models: dict[str, dict]) -> Path:
    """The demo's pipeline TOML (model paths relative to it), checked by loading it back."""
    from .pipeline import load_pipeline

    relative = {name: Path(m["path"]).resolve().relative_to(path.parent.resolve()).as_posix()
                for name, m in models.items()}
    write_text_atomic(path, PIPELINE.format(name=path.name, radius=AVOID_RADIUS_NM, **relative))
    load_pipeline(path)
    return path


def segment(output: Path, test_set: dict, pipeline: str) -> dict[str, str]:
    """Segment the test tomogram with the pipeline; the output file of each feature."""
    tomogram = output / "test" / test_set["tomogram"]
    results = api.segment([tomogram], output / "segmented", pipeline=pipeline, overwrite=True)
    return dict(results[0]["outputs"])


def pick(output: Path, segmentation: str) -> dict[str, Any]:
    """Blob picks of the ribosome segmentation, written as RELION STAR."""
    picks = api.pick(segmentation, "blob", **PICK_PARAMETERS)
    path = api.write_picks(picks, output / "picks" / f"{Path(segmentation).stem}_picks.star", fmt="star")
    return {"path": str(path), "count": len(picks), "mode": "blob", **PICK_PARAMETERS}


def score(output: Path, test_set: dict, segmentations: dict[str, str], picks: str) -> dict[str, Any]:
    """Each segmentation against its truth mask, and the picks against the true particle centres."""
    truth = {spec.feature: spec.truth for spec in MODELS}
    features = {name: api.segmentation_scores(path, _file(output, "test", test_set, truth[name]))
                for name, path in segmentations.items()}
    true_picks = _file(output, "test", test_set, "large_particles")
    scores = api.evaluate_picks(picks, true_picks, tolerance_A=PICK_TOLERANCE_A)
    scores.pop("tomograms", None)
    return {"features": features, "picks": {"truth": str(true_picks), **scores}}


def preview_slices(test_set: dict) -> list[int]:
    """A slice through the carbon film and three spread over the rest of the tomogram."""
    depth, pixel_size = test_set["shape_zyx"][0], test_set["pixel_size_A"]
    carbon = int(round(sum(test_set["carbon_z_range_nm"]) / 2 * 10 / pixel_size))
    spread = [round(depth * f) for f in (0.3, 0.55, 0.8)]
    return sorted({min(max(z, 0), depth - 1) for z in [carbon, *spread]})


def draw_preview(output: Path, test_set: dict, segmentations: dict[str, str], picks: str) -> dict[str, Any]:
    """A PNG of a few slices of the test tomogram with every segmentation and the picks."""
    path = output / "preview.png"
    drawn = api.preview(output / "test" / test_set["tomogram"], path, segmentations=list(segmentations.values()),
                        picks=[picks], slices=preview_slices(test_set), pick_radius_A=PICK_RADIUS_A)
    return {"path": str(path), "slices": drawn["slices"]}
