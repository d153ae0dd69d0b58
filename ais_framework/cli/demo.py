"""``ais-fw demo``: the whole workflow on synthetic tomograms, scored against their ground truth.

The work is :func:`ais_framework.demo.run_demo`; this module prints its steps and its report.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import typer

from .output import is_terminal, print_json


def demo(
    output: Path = typer.Option(Path("ais-fw-demo"), "-o", "--output", help="Folder for the demo's files."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the synthetic tomograms and the training."),
    epochs: int = typer.Option(None, "--epochs", min=1,
                               help="Training epochs of every model (default: membrane 12, carbon and ribosome 8; "
                                    "1 with --quick)."),
    quick: bool = typer.Option(False, "--quick", help="Tiny tomograms (48x128x128 at 20 Å) and 1 epoch: "
                                                      "a smoke test in seconds, not a meaningful score."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON (the steps go to stderr)."),
) -> None:
    """Simulate, train membrane, carbon and ribosome models, segment with a pipeline, pick, score, draw.

    Prints a table of scores per feature, the picks' precision, recall and F1, and where the files are.
    """
    from ..demo import run_demo

    say = partial(typer.echo, err=as_json)
    report = run_demo(output, seed=seed, epochs=epochs, quick=quick, progress=not quiet and is_terminal(),
                      on_step=say, on_detail=lambda text: say(f"    {text}"))
    if as_json:
        print_json(report)
    else:
        typer.echo("\n".join(report_lines(report)))


def report_lines(report: dict) -> list[str]:
    """The demo's report as short text: scores per feature, pick scores, files."""
    lines = ["", f"{'feature':<10} {'dice':>6} {'iou':>6} {'precision':>9} {'recall':>6}   (voxels, test tomogram)"]
    for name, s in report["scores"]["features"].items():
        lines.append(f"{name:<10} {s['dice']:>6.3f} {s['iou']:>6.3f} {s['precision']:>9.3f} {s['recall']:>6.3f}")
    p = report["scores"]["picks"]
    lines += ["", f"ribosome picks: precision {p['precision']:.3f}, recall {p['recall']:.3f}, F1 {p['f1']:.3f} "
              f"({p['true_positive']} of {p['truth']} found, {p['false_positive']} false, "
              f"within {p['tolerance_A']:g} Å)", ""]
    out = report["output"]
    lines += [f"files in {out}/ ({report['seconds']:.0f} s):",
              f"  models     {', '.join(_rel(m['path'], out) for m in report['models'].values())}",
              f"  pipeline   {_rel(report['pipeline'], out)}",
              f"  segmented  {', '.join(_rel(s, out) for s in report['segmentations'].values())}",
              f"  picks      {_rel(report['picks']['path'], out)}",
              f"  preview    {_rel(report['preview']['path'], out)}"]
    return lines


def _rel(path: str, folder: str) -> str:
    try:
        return str(Path(path).relative_to(folder))
    except ValueError:
        return path
