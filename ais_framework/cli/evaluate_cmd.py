"""``ais-fw evaluate seg|picks PRED GT``: scores against ground truth."""
from __future__ import annotations

from pathlib import Path

import typer

from .output import print_json

evaluate_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                           help="Score a segmentation or picks against ground truth.")


@evaluate_app.command("seg")
def evaluate_seg(
    prediction: Path = typer.Argument(..., help="Segmentation (uint8 0-255, 0/1 mask or float 0..1)."),
    truth: Path = typer.Argument(..., help="Ground-truth mask of the same tomogram (non-zero = feature)."),
    threshold: float = typer.Option(0.5, "--threshold", help="Positive where the prediction is >= this (0..1)."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
) -> None:
    """Dice, IoU, precision and recall, voxel by voxel: TP, FP, FN = voxels predicted and true,
    predicted only, true only; Dice = 2TP/(2TP+FP+FN), IoU = TP/(TP+FP+FN)."""
    from .. import api

    scores = api.segmentation_scores(prediction, truth, threshold)
    if as_json:
        print_json(scores)
        return
    typer.echo(f"dice {scores['dice']:.4f}  iou {scores['iou']:.4f}  precision {scores['precision']:.4f}  "
               f"recall {scores['recall']:.4f}")
    typer.echo(f"  voxels: {scores['true_positive']} TP, {scores['false_positive']} FP, "
               f"{scores['false_negative']} FN (threshold {threshold})")


@evaluate_app.command("picks")
def evaluate_picks(
    prediction: Path = typer.Argument(..., help="Predicted picks (star, relion5, tbl, json, csv, tsv)."),
    truth: Path = typer.Argument(..., help="True picks, any coordinate format."),
    tolerance_A: float = typer.Option(..., "--tolerance-A", help="Largest distance of a match, Å."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Pixel size (Å) of the predicted coordinates."),
    truth_pixel_size: float = typer.Option(None, "--truth-pixel-size", help="Pixel size (Å) of the true ones."),
    tomogram: str = typer.Option(None, "--tomogram", help="Only this tomogram of multi-tomogram files."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
) -> None:
    """Precision, recall and F1 with optimal one-to-one matching within --tolerance-A.

    Each predicted pick matches at most one true pick and vice versa, at most --tolerance-A
    apart (in Å). The matching with the most pairs (then the least total distance) is found by
    the Hungarian method. TP = pairs, FP = unmatched predictions, FN = unmatched true picks;
    precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN).
    """
    from .. import api

    scores = api.evaluate_picks(prediction, truth, tolerance_A, pixel_size=pixel_size,
                                truth_pixel_size=truth_pixel_size, tomogram=tomogram)
    if as_json:
        print_json(scores)
        return
    typer.echo(f"precision {scores['precision']:.4f}  recall {scores['recall']:.4f}  f1 {scores['f1']:.4f}")
    mean = scores["mean_distance_A"]
    typer.echo(f"  picks: {scores['true_positive']} matched (TP), {scores['false_positive']} unmatched predicted "
               f"(FP), {scores['false_negative']} unmatched true (FN); tolerance {tolerance_A:g} Å"
               + (f", mean distance {mean:.1f} Å" if mean is not None else ""))
