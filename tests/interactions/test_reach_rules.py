"""Colocalize and avoid on small hand-made volumes whose answer is known voxel by voxel."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from ais_framework.plugins import get_registry
from ais_plugins.interactions import avoid, colocalize
from ais_plugins.interactions._reach import near_parent

SHAPE = (11, 21, 21)
POINT = (5, 10, 10)


def point_parent(value: float = 0.9) -> np.ndarray:
    parent = np.zeros(SHAPE, np.float32)
    parent[POINT] = value
    return parent


def ones() -> np.ndarray:
    return np.ones(SHAPE, np.float32)


def kept(result: np.ndarray, *offsets: tuple[int, int, int]) -> list[bool]:
    """Whether the child survives at each offset (dz, dy, dx) from the parent point."""
    return [bool(result[POINT[0] + dz, POINT[1] + dy, POINT[2] + dx] > 0) for dz, dy, dx in offsets]


def test_colocalize_disc_keeps_the_child_within_the_radius_in_the_parent_slice():
    result = colocalize.apply(ones(), point_parent(), threshold=0.5, radius_px=4.5)
    inside = [(0, 0, 4), (0, 0, -4), (0, 3, 3), (0, -4, 0), (0, 0, 0)]  # distances 4, 4, 4.24, 4, 0
    outside = [(0, 0, 5), (0, 4, 3), (0, -3, -4), (1, 0, 0), (-1, 0, 0)]  # 5, 5, 5, other slices
    assert kept(result, *inside) == [True] * 5
    assert kept(result, *outside) == [False] * 5
    assert not result[:5].any() and not result[6:].any()


def test_ball_reaches_neighbouring_slices_and_the_disc_does_not():
    ball = colocalize.apply(ones(), point_parent(), threshold=0.5, radius_px=3.0, ball=True)
    inside = [(1, 0, 0), (3, 0, 0), (-3, 0, 0), (2, 0, 2), (2, 1, 2), (-1, 2, 2)]  # 1, 3, 3, 2.83, 3, 3
    outside = [(4, 0, 0), (2, 0, 3), (2, 2, 2), (-3, 1, 0), (0, 0, 4)]  # 4, 3.61, 3.46, 3.16, 4
    assert kept(ball, *inside) == [True] * 6
    assert kept(ball, *outside) == [False] * 5
    disc = colocalize.apply(ones(), point_parent(), threshold=0.5, radius_px=3.0)
    assert kept(disc, (0, 0, 3), (0, 2, 2), (1, 0, 0), (3, 0, 0)) == [True, True, False, False]
    assert np.array_equal(disc[POINT[0]], ball[POINT[0]])  # the same in the parent's own slice


def test_avoid_removes_the_child_within_the_radius_and_keeps_its_values_elsewhere():
    child = np.random.default_rng(0).uniform(0.1, 1.0, SHAPE).astype(np.float32)
    result = avoid.apply(child, point_parent(), threshold=0.5, radius_px=3.0, ball=True)
    assert kept(result, (0, 0, 0), (3, 0, 0), (2, 1, 2), (0, 3, 0)) == [False] * 4
    assert kept(result, (4, 0, 0), (2, 0, 3), (0, 3, 1)) == [True] * 3
    survivors = result > 0
    assert np.array_equal(result[survivors], child[survivors])
    coloc = colocalize.apply(child, point_parent(), threshold=0.5, radius_px=3.0, ball=True)
    assert np.array_equal(coloc + result, child)  # colocalize and avoid split the child in two


@pytest.mark.parametrize("value, counts", [(0.5, False), (0.51, True)])
def test_the_parent_counts_only_above_the_threshold(value, counts):
    result = colocalize.apply(ones(), point_parent(value), threshold=0.5, radius_px=2.0)
    assert bool(result.any()) is counts


def test_without_parent_colocalize_empties_the_child_and_avoid_keeps_it():
    child = np.full(SHAPE, 0.7, np.float32)
    empty = np.zeros(SHAPE, np.float32)
    assert not colocalize.apply(child, empty, threshold=0.5, radius_px=3.0, ball=True).any()
    assert np.array_equal(avoid.apply(child, empty, threshold=0.5, radius_px=3.0), child)


def test_rules_leave_their_inputs_alone_and_return_float32():
    child, parent = ones(), point_parent()
    for rule in (colocalize, avoid):
        result = rule.apply(child, parent, threshold=0.5, radius_px=2.0, ball=True)
        assert result.dtype == np.float32 and result.shape == SHAPE
    assert np.array_equal(child, ones()) and np.array_equal(parent, point_parent())


def brute_force(present: np.ndarray, radius: float, ball: bool) -> np.ndarray:
    """Reached voxels, by measuring the distance from every voxel to every parent voxel."""
    points = np.argwhere(present)
    grid = np.stack(np.meshgrid(*map(np.arange, present.shape), indexing="ij"), axis=-1)
    reached = np.zeros(present.shape, bool)
    for point in points:
        offset = grid - point
        squared = (offset ** 2).sum(axis=-1) if ball else np.where(offset[..., 0] == 0,
                                                                      (offset[..., 1:] ** 2).sum(axis=-1), np.inf)
        reached |= squared <= radius * radius
    return reached


@pytest.mark.parametrize("radius, ball", itertools.product((1.0, 2.5, 3.0, 4.2), (False, True)))
def test_reach_matches_a_brute_force_distance_check(radius, ball):
    rng = np.random.default_rng(int(radius * 10))
    parent = (rng.random((9, 17, 19)) > 0.985).astype(np.float32)
    parent[:, 0, 0] = 1.0  # parent voxels on the borders too
    assert np.array_equal(near_parent(parent, 0.5, radius, ball), brute_force(parent > 0.5, radius, ball))


def test_builtin_rules_are_registered_with_their_halo():
    specs = get_registry().specs("interaction")
    assert {"colocalize", "avoid", "competition"} <= set(specs)
    assert {specs[name].source.distribution for name in ("colocalize", "avoid", "competition")} == {"ais-fw"}
    for name in ("colocalize", "avoid"):
        halo = specs[name].spec.halo
        assert (halo(3.7, True), halo(3.0, True), halo(3.7, False)) == (3, 3, 0)
    assert specs["competition"].spec.halo(5.0, True) == 0
