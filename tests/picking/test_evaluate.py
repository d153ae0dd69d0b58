"""Pick evaluation: optimal one-to-one matching within a tolerance, and its precision, recall, F1."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from ais_framework import api
from ais_framework.errors import UsageError
from ais_framework.evaluate import match_points, pick_scores, segmentation_scores
from ais_framework.picks import Picks, write_picks


def brute_force_matches(pred: np.ndarray, truth: np.ndarray, tolerance: float) -> int:
    """The largest number of one-to-one pairs within the tolerance, by trying every assignment."""
    best = 0
    small, large = (pred, truth) if len(pred) <= len(truth) else (truth, pred)
    for order in itertools.permutations(range(len(large)), len(small)):
        pairs = sum(np.linalg.norm(small[i] - large[j]) <= tolerance for i, j in enumerate(order))
        best = max(best, pairs)
    return best


def test_matching_beats_greedy_nearest_neighbour():
    truth = np.array([[0.0, 0, 0], [10.0, 0, 0]])
    pred = np.array([[6.0, 0, 0], [-4.0, 0, 0]])  # greedy: pred 0 takes truth 1 (4 Å)... both can match
    rows, cols, distances = match_points(pred, truth, 7.0)
    assert sorted(zip(rows, cols)) == [(0, 1), (1, 0)]
    np.testing.assert_allclose(distances, [4.0, 4.0])
    chain = np.array([[5.0, 0, 0], [15.0, 0, 0]])  # pred 0 is nearest truth 0 and 1: must leave 1 for pred 1
    assert len(match_points(chain, np.array([[0.0, 0, 0], [9.0, 0, 0]]), 6.0)[0]) == 2


@pytest.mark.parametrize("seed", range(6))
def test_matching_finds_the_most_pairs(seed):
    rng = np.random.default_rng(seed)
    pred, truth = rng.uniform(0, 30, (6, 3)), rng.uniform(0, 30, (5, 3))
    rows, cols, distances = match_points(pred, truth, 12.0)
    assert len(set(rows)) == len(rows) and len(set(cols)) == len(cols) and np.all(distances <= 12.0)
    assert len(rows) == brute_force_matches(pred, truth, 12.0)


def test_precision_recall_f1_definitions():
    truth = np.array([[0.0, 0, 0], [100.0, 0, 0], [200.0, 0, 0], [300.0, 0, 0]])
    pred = np.array([[5.0, 0, 0], [8.0, 0, 0], [104.0, 0, 0], [900.0, 0, 0]])  # two on the first particle
    scores = pick_scores(pred, truth, tolerance_A=10.0)
    assert (scores["true_positive"], scores["false_positive"], scores["false_negative"]) == (2, 2, 2)
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5 and scores["f1"] == 0.5
    assert scores["mean_distance_A"] == pytest.approx(4.5)
    assert pick_scores(np.zeros((0, 3)), np.zeros((0, 3)), 5.0)["f1"] == 1.0
    assert pick_scores(np.zeros((0, 3)), truth, 5.0)["f1"] == 0.0
    with pytest.raises(UsageError, match="tolerance"):
        pick_scores(pred, truth, 0.0)


def test_files_in_different_formats_and_pixel_sizes_are_compared_in_angstrom(tmp_path):
    truth = Picks(x=[10.0, 50.0], y=[10.0, 50.0], z=[5.0, 5.0], pixel_size_A=10.0, tomogram="TS_1")
    pred = Picks(x=[21.0, 300.0], y=[20.0, 0.0], z=[10.0, 0.0], pixel_size_A=5.0, tomogram="TS_1")  # 1st at 5 Å
    write_picks(truth, tmp_path / "truth.csv")
    write_picks(pred, tmp_path / "pred.star")
    scores = api.evaluate_picks(tmp_path / "pred.star", tmp_path / "truth.csv", tolerance_A=20.0)
    assert (scores["true_positive"], scores["false_positive"], scores["false_negative"]) == (1, 1, 1)
    assert scores["mean_distance_A"] == pytest.approx(5.0)


def test_multi_tomogram_files_are_paired_by_name(tmp_path):
    a = Picks(x=[1.0], y=[1.0], z=[1.0], pixel_size_A=10.0, tomogram="TS_1")
    b = Picks(x=[9.0], y=[9.0], z=[9.0], pixel_size_A=10.0, tomogram="TS_2")
    write_picks([a, b], tmp_path / "truth.star")
    write_picks([b, Picks(x=[1.0], y=[1.0], z=[1.0], pixel_size_A=10.0, tomogram="TS_3")], tmp_path / "pred.star")
    scores = api.evaluate_picks(tmp_path / "pred.star", tmp_path / "truth.star", tolerance_A=5.0)
    assert (scores["true_positive"], scores["false_positive"], scores["false_negative"]) == (1, 1, 1)
    assert set(scores["tomograms"]) == {"TS_1", "TS_2", "TS_3"}


def test_segmentation_scores_accept_0_1_masks_as_predictions():
    truth = np.zeros((4, 8, 8), np.uint8)
    truth[:, :4] = 1
    pred = truth.copy()
    pred[:, :2] = 0
    scores = segmentation_scores(pred, truth)
    assert scores["precision"] == 1.0 and scores["recall"] == 0.5
    assert segmentation_scores(pred * 255, truth)["recall"] == 0.5
