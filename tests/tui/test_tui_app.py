"""The terminal UI driven with Textual's Pilot: open, browse, draw, train, segment, pick.

Each test runs the real app headless on a small synthetic tomogram; results are checked on
disk (annotation store, model package, segmentation, picks) and in the session."""
from __future__ import annotations

import asyncio
import os

import pytest
from textual import events

from ais_framework.annotations import AnnotationStore
from ais_framework.tui.app import AisApp
from ais_framework.tui.widgets.slice_view import SliceView


@pytest.fixture
def drive(settle):
    """``drive(app, scenario)``: run the app headless and await ``scenario(pilot)`` in it."""
    def run(app: AisApp, scenario, size=(80, 24)) -> None:
        async def main() -> None:
            async with app.run_test(size=size) as pilot:
                await settle(pilot)
                await scenario(pilot)
        asyncio.run(main())
    return run


def view_of(pilot) -> SliceView:
    return pilot.app.screen.query_one("#view", SliceView)


def status_of(pilot) -> str:
    return str(pilot.app.screen.query_one("#status").render())


def test_opens_a_tomogram_and_shows_its_middle_slice(tomogram, drive, settle):
    async def scenario(pilot):
        session = pilot.app.session
        assert [d.path for d in session.datasets] == [tomogram]
        assert session.dataset.volume.pixel_size == 20.0
        assert tomogram.with_suffix(".annotations.zip").is_file()  # store created beside it
        assert view_of(pilot).z == 20 and "z 20/39" in status_of(pilot)
        assert "64×64×40" in str(pilot.app.screen.query_one("#dataset").render())
        lines = [view_of(pilot).render_line(y) for y in range(view_of(pilot).size.height)]
        assert all(line.cell_length == view_of(pilot).size.width for line in lines)
        assert any("▀" in line.text for line in lines)
    drive(AisApp([tomogram]), scenario)


def test_keys_and_wheel_move_through_slices_zoom_and_levels(tomogram, drive, settle):
    async def scenario(pilot):
        view = view_of(pilot)
        await pilot.press("k", "k", "j", "K")
        assert view.z == 31
        view.post_message(events.MouseScrollDown(view, 5, 5, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert view.z == 30
        scale = view.current_view().scale
        await pilot.press("plus")
        assert view.current_view().scale > scale
        await pilot.press("left", "0")
        assert view.view is None
        levels = view.levels()
        await pilot.press("c")
        assert view.levels()[1] - view.levels()[0] < levels[1] - levels[0]
        await pilot.press("a", "g")
        assert view.levels() != levels and view.look.sigma == 1.0 and "gauss" in status_of(pilot)
        await pilot.press("J", "J", "J", "J")
        assert view.z == 0  # clamped at the first slice
    drive(AisApp([tomogram]), scenario)


def test_a_mouse_stroke_is_saved_to_the_annotation_store_and_undone(tomogram, drive, settle):
    async def scenario(pilot):
        await pilot.press("n")
        await pilot.press(*"membrane", "enter")
        await pilot.pause()
        view = view_of(pilot)
        assert view.feature == "membrane"
        await pilot.mouse_down("#view", offset=(20, 8))
        await pilot.hover("#view", offset=(30, 8))
        await pilot.mouse_up("#view", offset=(30, 8))
        await settle(pilot)
        store = AnnotationStore.open(tomogram.with_suffix(".annotations.zip"))
        mask = store.get_slice("membrane", 20)
        assert mask is not None and (mask == 1).sum() > 20  # a painted line, not a dot
        y0, x0 = view.current_view().to_image(20.5, 17, view.cells())
        y1, x1 = view.current_view().to_image(30.5, 17, view.cells())
        assert mask[int(y0), int(x0)] == 1 and mask[int(y1), int(x1)] == 1
        assert mask[int(y0), int((x0 + x1) / 2)] == 1  # filled between the mouse positions
        await pilot.press("u")
        await settle(pilot)
        assert AnnotationStore.open(store.path).annotated_slices("membrane") == []
    drive(AisApp([tomogram]), scenario)


def test_boxes_are_placed_and_removed_with_the_mouse(tomogram, drive, settle):
    store = AnnotationStore.create(None, tomogram)
    store.add_feature("ribosome", box_size=8)
    store.save()

    async def scenario(pilot):
        await pilot.press("x")
        await pilot.click("#view", offset=(25, 10))
        await settle(pilot)
        boxes = AnnotationStore.open(store.path).boxes("ribosome")
        assert len(boxes) == 1 and boxes[0][0] == 20
        await pilot.click("#view", offset=(25, 10), button=3)
        await settle(pilot)
        assert AnnotationStore.open(store.path).boxes("ribosome") == []
    drive(AisApp([tomogram]), scenario)


def test_features_are_renamed_and_recoloured(tomogram, drive, settle):
    async def scenario(pilot):
        for keys in (("n", *"vesicle", "enter"), ("r", *"membrane", "enter"),
                     ("o", *"#00ff00", "enter")):
            await pilot.press(*keys)
            await pilot.pause()
        await settle(pilot)
        features = AnnotationStore.open(tomogram.with_suffix(".annotations.zip")).features
        assert [(f.name, f.colour) for f in features] == [("membrane", "#00ff00")]
    drive(AisApp([tomogram]), scenario)


def test_tomograms_screen_lists_and_switches_datasets(tomogram, tmp_path, drive, settle):
    second = tmp_path / "second.mrc"
    second.write_bytes(tomogram.read_bytes())

    async def scenario(pilot):
        assert len(pilot.app.session.datasets) == 2
        await pilot.press("2")
        await pilot.pause()
        table = pilot.app.screen.query_one("#table")
        assert table.row_count == 2
        await pilot.press("up", "enter")
        await pilot.pause()
        names = [d.name for d in pilot.app.session.datasets]
        assert pilot.app.current_mode == "annotate"
        assert pilot.app.session.dataset.name == names[table.cursor_row]
    drive(AisApp([tomogram, second]), scenario)


def test_help_lists_every_binding_of_every_screen(tomogram, drive, settle):
    from rich.console import Console

    from ais_framework.tui.screens.help import bindings_table, help_sections

    console = Console(width=100, record=True, file=open(os.devnull, "w"))
    for title, bindings in help_sections():
        console.print(bindings_table(title, bindings))
    help_text = console.export_text()

    async def scenario(pilot):
        for mode in ("annotate", "datasets", "models", "batch", "repository"):
            await pilot.app.switch_mode(mode)
            await pilot.pause()
            for bindings in pilot.app.screen._bindings.key_to_bindings.values():
                for binding in bindings:
                    assert binding.description and binding.description in help_text, (mode, binding)
        await pilot.press("f1")  # works even where "?" is typed into a search line
        await pilot.pause()
        assert pilot.app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        assert pilot.app.screen.__class__.__name__ == "RepositoryScreen"
    drive(AisApp([tomogram]), scenario)


def test_a_missing_tomogram_is_reported_not_fatal(tmp_path, drive, settle):
    async def scenario(pilot):
        assert pilot.app.session.datasets == []
        assert "No tomogram open" in status_of(pilot)
        assert any("Cannot open" in (n.title or "") for n in pilot.app._notifications)
    drive(AisApp([tmp_path / "nothing.mrc"]), scenario)


def test_repository_search_reports_an_unreachable_repository(tomogram, drive, settle, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port on this machine that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AIS_FW_REPOSITORY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("AIS_FW_OFFLINE", raising=False)

    async def scenario(pilot):
        await pilot.press("5")
        await pilot.pause()
        if pilot.app.screen.query("#query"):
            pilot.app.screen.query_one("#query").focus()
            await pilot.press(*"membrane", "enter")
            await settle(pilot)
            titles = [n.title for n in pilot.app._notifications]
            assert "Search failed" in titles
            assert any("cannot reach the model repository" in n.message for n in pilot.app._notifications)
        else:
            assert "not installed" in str(pilot.app.screen.query_one("#note").render())
    drive(AisApp([tomogram]), scenario)
