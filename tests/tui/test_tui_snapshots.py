"""SVG snapshots of the main screens (pytest-textual-snapshot).

Update after a deliberate change of the UI with ``pytest tests/tui/test_tui_snapshots.py
--snapshot-update`` and look at the SVGs in ``__snapshots__/`` before committing them.
Everything shown is deterministic: a seeded synthetic tomogram opened by a relative path
from the test's folder, annotations made here, no trained model (training differs by CPU).
"""
from __future__ import annotations

import pytest

from ais_framework.annotations import AnnotationStore
from ais_framework.tui.app import AisApp

pytest.importorskip("pytest_textual_snapshot")


@pytest.fixture
def app(tomogram, synth_source, monkeypatch):
    """The app on ``tomo.mrc`` (relative path) with a membrane annotated on slice 20 and a box."""
    monkeypatch.chdir(tomogram.parent)
    store = AnnotationStore.create(None, tomogram)
    store.import_label_volume(synth_source["files"]["membrane_mask"], "membrane", slices=[20])
    store.add_feature("ribosome", box_size=12)
    store.add_box("ribosome", 20, 40, 20)
    store.save()
    return AisApp(["tomo.mrc"])


async def settled(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def test_slice_screen(app, snap_compare):
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled)


def test_slice_screen_large_zoomed_with_filter(app, snap_compare):
    async def zoom(pilot):
        await settled(pilot)
        await pilot.press("plus", "g", "b", "right_square_bracket")
    assert snap_compare(app, terminal_size=(160, 48), run_before=zoom)


def test_slice_screen_light(app, snap_compare):
    async def light(pilot):
        await settled(pilot)
        await pilot.press("ctrl+l")
    assert snap_compare(app, terminal_size=(80, 24), run_before=light)


def test_tomograms_screen(app, snap_compare):
    async def show(pilot):
        await settled(pilot)
        await pilot.press("2")
    assert snap_compare(app, terminal_size=(80, 24), run_before=show)


def test_models_screen(app, snap_compare):
    async def show(pilot):
        await settled(pilot)
        await pilot.press("3")
        await settled(pilot)
    assert snap_compare(app, terminal_size=(100, 30), run_before=show)


def test_batch_screen(app, snap_compare):
    async def show(pilot):
        await settled(pilot)
        await pilot.press("4")
    assert snap_compare(app, terminal_size=(80, 24), run_before=show)


def test_help_screen(app, snap_compare):
    async def show(pilot):
        await settled(pilot)
        await pilot.press("f1")
    assert snap_compare(app, terminal_size=(80, 24), run_before=show)
