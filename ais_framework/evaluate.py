"""Scores that compare segmentations or picks with ground truth.

Segmentations (computed slab by slab; voxels counted over the whole volume, or over
``slices`` when given):
  TP = predicted and true, FP = predicted but not true, FN = true but not predicted.
  Dice = 2TP / (2TP + FP + FN), IoU = TP / (TP + FP + FN),
  precision = TP / (TP + FP), recall = TP / (TP + FN). An empty denominator gives 1.0
  when both are empty (nothing to find, nothing found), else 0.0.
A prediction counts as positive where its value >= threshold; uint8 predictions (0-255)
are compared with threshold * 255, except 0/1 masks (uint8 whose largest value is 1).

Picks (:func:`pick_scores`): each predicted pick may match at most one true pick and vice
versa, only if they are at most ``tolerance_A`` apart (positions in Å: pixels x each file's
own pixel size). Among all such one-to-one matchings, the one with the MOST matched pairs is
taken, and of those the one with the smallest total distance (optimal assignment, Hungarian
method: ``scipy.optimize.linear_sum_assignment``; a pair beyond the tolerance costs more than
all pairs within it together, so the number of matches comes first). Then
  TP = matched pairs, FP = predicted picks left unmatched, FN = true picks left unmatched,
  precision = TP / (TP + FP), recall = TP / (TP + FN),
  F1 = 2 precision recall / (precision + recall) = 2TP / (2TP + FP + FN),
with the same convention for empty denominators. Unlike "nearest true pick within the
tolerance", a true pick can never be counted twice (two picks on one particle: one TP, one FP).
"""
from __future__ import annotations

import numpy as np

from .errors import UsageError
from .volume import iter_slabs, probability_scale


def _ratio(num: int, den: int) -> float:
    return float(num) / den if den else 1.0 if num == 0 else 0.0


def segmentation_scores(pred: np.ndarray, truth: np.ndarray, threshold: float = 0.5,
                        slices: list[int] | None = None) -> dict[str, float]:
    """Dice, IoU, precision and recall of ``pred`` (probabilities) against a 0/1 ``truth``."""
    if pred.shape != truth.shape:
        raise UsageError(f"prediction shape {pred.shape} differs from ground truth {truth.shape}",
                         "compare a segmentation with the truth of the same tomogram")
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"threshold must be between 0 and 1, got {threshold}", "e.g. --threshold 0.5")
    if slices is not None:
        pred, truth = pred[slices], truth[slices]
    tp = fp = fn = 0
    cut = threshold * probability_scale(pred)
    for p_slab, t_slab in zip(iter_slabs(pred), iter_slabs(truth)):
        p, t = np.asarray(p_slab) >= cut, np.asarray(t_slab) > 0
        tp += int(np.count_nonzero(p & t))
        fp += int(np.count_nonzero(p & ~t))
        fn += int(np.count_nonzero(~p & t))
    return {
        "dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "iou": _ratio(tp, tp + fp + fn),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "true_positive": tp, "false_positive": fp, "false_negative": fn,
    }


def match_points(predicted: np.ndarray, truth: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Optimal one-to-one matching of two point sets (N, 3) and (M, 3) within ``tolerance``.

    Returns (predicted indices, true indices, distances) of the matched pairs: the most pairs
    possible, and among those the smallest total distance. Points are split into groups that
    can reach each other within the tolerance (k-d tree), and each group is solved exactly
    with ``scipy.optimize.linear_sum_assignment``, so large sets stay fast.
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    empty = (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    if len(predicted) == 0 or len(truth) == 0:
        return empty
    close = cKDTree(predicted).sparse_distance_matrix(cKDTree(truth), tolerance, output_type="coo_matrix")
    if close.nnz == 0:
        return empty
    n, m = len(predicted), len(truth)
    links = coo_matrix((np.ones(close.nnz), (close.row, close.col + n)), shape=(n + m, n + m))
    _, group = connected_components(links, directed=False)
    pairs = []
    for g in np.unique(group[close.row]):
        rows, cols = np.flatnonzero(group[:n] == g), np.flatnonzero(group[n:] == g)
        cost = np.linalg.norm(predicted[rows, None, :] - truth[None, cols, :], axis=2)
        too_far = cost > tolerance
        penalised = np.where(too_far, tolerance * (min(len(rows), len(cols)) + 1) + 1.0, cost)
        r, c = linear_sum_assignment(penalised)
        ok = ~too_far[r, c]
        pairs.append((rows[r[ok]], cols[c[ok]], cost[r[ok], c[ok]]))
    return tuple(np.concatenate(part) for part in zip(*pairs))  # type: ignore[return-value]


def pick_scores(predicted_A: np.ndarray, truth_A: np.ndarray, tolerance_A: float) -> dict[str, float]:
    """Precision, recall and F1 of predicted positions against true ones (both (N, 3) in Å)."""
    if not (np.isfinite(tolerance_A) and tolerance_A > 0):
        raise UsageError(f"tolerance must be a positive distance in Å, got {tolerance_A}",
                         "e.g. --tolerance-A 100 (about a particle radius)")
    predicted_A = np.asarray(predicted_A, dtype=float).reshape(-1, 3)
    truth_A = np.asarray(truth_A, dtype=float).reshape(-1, 3)
    _, _, distances = match_points(predicted_A, truth_A, tolerance_A)
    tp = len(distances)
    fp, fn = len(predicted_A) - tp, len(truth_A) - tp
    return {
        "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "true_positive": tp, "false_positive": fp, "false_negative": fn,
        "predicted": len(predicted_A), "truth": len(truth_A), "tolerance_A": float(tolerance_A),
        "mean_distance_A": float(distances.mean()) if tp else None,
    }


def evaluate_pick_files(predicted, truth, tolerance_A: float, pixel_size: float | None = None,
                        truth_pixel_size: float | None = None, tomogram: str | None = None) -> dict:
    """:func:`pick_scores` of two coordinate files (any format), totalled over their tomograms.

    With one tomogram in each file they are compared directly; otherwise tomograms are paired
    by name (``tomogram`` restricts both to one), and picks of a tomogram missing from the
    other file count as false positives or false negatives.
    """
    from .picks import read_picks_all, tomogram_stem

    pred_tables = read_picks_all(predicted, pixel_size=pixel_size)
    true_tables = read_picks_all(truth, pixel_size=truth_pixel_size)
    if tomogram is not None:
        pred_tables = [t for t in pred_tables if tomogram_stem(t.tomogram) == tomogram_stem(tomogram)]
        true_tables = [t for t in true_tables if tomogram_stem(t.tomogram) == tomogram_stem(tomogram)]
    pairs = _pair_tables(pred_tables, true_tables)
    per_tomogram = {name: pick_scores(_positions_A(p), _positions_A(t), tolerance_A) for name, p, t in pairs}
    total = pick_scores(np.zeros((0, 3)), np.zeros((0, 3)), tolerance_A)
    tp = sum(s["true_positive"] for s in per_tomogram.values())
    fp = sum(s["false_positive"] for s in per_tomogram.values())
    fn = sum(s["false_negative"] for s in per_tomogram.values())
    total.update(precision=_ratio(tp, tp + fp), recall=_ratio(tp, tp + fn), f1=_ratio(2 * tp, 2 * tp + fp + fn),
                 true_positive=tp, false_positive=fp, false_negative=fn, predicted=tp + fp, truth=tp + fn,
                 mean_distance_A=_mean_distance(per_tomogram))
    return {**total, "tomograms": per_tomogram}


def _positions_A(picks) -> np.ndarray:
    return picks.xyz_A() if picks is not None and len(picks) else np.zeros((0, 3))


def _pair_tables(pred_tables: list, true_tables: list) -> list[tuple[str, object, object]]:
    from .picks import tomogram_stem

    if len(pred_tables) <= 1 and len(true_tables) <= 1:
        name = (pred_tables or true_tables)[0].tomogram if (pred_tables or true_tables) else ""
        return [(name, pred_tables[0] if pred_tables else None, true_tables[0] if true_tables else None)]
    by_name: dict[str, list] = {}
    for side, tables in ((0, pred_tables), (1, true_tables)):
        for table in tables:
            entry = by_name.setdefault(tomogram_stem(table.tomogram), [None, None])
            entry[side] = table
    return [(name, p, t) for name, (p, t) in by_name.items()]


def _mean_distance(per_tomogram: dict) -> float | None:
    weighted = [(s["mean_distance_A"], s["true_positive"]) for s in per_tomogram.values() if s["true_positive"]]
    total = sum(n for _, n in weighted)
    return sum(d * n for d, n in weighted) / total if total else None
