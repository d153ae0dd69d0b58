"""Brush, eraser, boxes and undo on a real annotation store (saved and reopened from disk)."""
from __future__ import annotations

import numpy as np

from ais_framework.annotations import AnnotationStore
from ais_framework.tui.editing import Annotator


def make_store(tomogram) -> AnnotationStore:
    store = AnnotationStore.create(None, tomogram)
    store.add_feature("membrane")
    return store


def test_a_stroke_annotates_the_slice_and_undo_takes_it_back(tomogram):
    store = make_store(tomogram)
    annotator = Annotator(store)
    annotator.begin("membrane", 10)
    annotator.paint(30, 30, 2, "brush")
    annotator.paint(30, 40, 2, "ignore")
    assert annotator.end()
    store.save()
    mask = AnnotationStore.open(store.path).get_slice("membrane", 10)
    assert mask[30, 30] == 1 and mask[30, 40] == 2 and mask[0, 0] == 0
    assert (mask == 1).sum() == 13  # a disc of radius 2: 13 pixels
    annotator.undo()
    store.save()
    assert AnnotationStore.open(store.path).annotated_slices("membrane") == []


def test_eraser_restores_background_and_is_undone_step_by_step(tomogram):
    store = make_store(tomogram)
    annotator = Annotator(store)
    annotator.begin("membrane", 5)
    annotator.paint(20, 20, 4, "brush")
    annotator.end()
    annotator.begin("membrane", 5)
    annotator.paint(20, 20, 1, "eraser")
    annotator.end()
    assert store.get_slice("membrane", 5)[20, 20] == 0 and store.get_slice("membrane", 5)[20, 23] == 1
    annotator.undo()
    assert store.get_slice("membrane", 5)[20, 20] == 1


def test_erasing_an_unannotated_slice_changes_nothing(tomogram):
    store = make_store(tomogram)
    annotator = Annotator(store)
    annotator.begin("membrane", 3)
    annotator.paint(10, 10, 3, "eraser")
    assert not annotator.end() and not annotator.can_undo
    assert store.annotated_slices("membrane") == []


def test_boxes_are_added_removed_and_undone(tomogram):
    store = make_store(tomogram)
    annotator = Annotator(store)
    annotator.add_box("membrane", 7, 30.4, 31.6)
    assert store.boxes("membrane") == [(7, 30, 32)]
    assert annotator.remove_box("membrane", 7, 33, 33, radius=5)
    assert store.boxes("membrane") == []
    annotator.undo()
    assert store.boxes("membrane") == [(7, 30, 32)]
    annotator.undo()
    assert store.boxes("membrane") == []
    assert not annotator.can_undo and annotator.undo() is None


def test_clearing_a_slice_is_undoable(tomogram):
    store = make_store(tomogram)
    annotator = Annotator(store)
    mask = np.zeros(store.shape[1:], np.uint8)
    mask[1, 1] = 1
    store.set_slice("membrane", 2, mask)
    assert annotator.clear_slice("membrane", 2) and store.annotated_slices("membrane") == []
    annotator.undo()
    assert store.get_slice("membrane", 2)[1, 1] == 1
