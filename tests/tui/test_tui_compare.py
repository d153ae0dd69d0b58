"""The comparison view of the Models screen: two tiny networks, one epoch each, on a 40x64x64
synthetic tomogram annotated on two slices, validated against the true membrane labels."""
from __future__ import annotations

import asyncio
import json
import threading

from ais_framework.annotations import AnnotationStore
from ais_framework.tui import services
from ais_framework.tui.app import AisApp
from ais_framework.tui.screens.compare import CompareScreen, cell_text
from ais_framework.tui.session import Session, open_dataset

import pytest


@pytest.fixture
def annotated(tomogram, synth_source):
    store = AnnotationStore.create(None, tomogram)
    store.import_label_volume(synth_source["files"]["membrane_mask"], "membrane", slices=[10, 20])
    store.save()
    return tomogram


def tick_only(selection, names) -> None:
    selection.deselect_all()
    for name in names:
        selection.select(name)


def test_comparison_fills_the_table_and_its_models_load(annotated, synth_source, settle):
    outdir = annotated.parent / "cmp"

    async def scenario(pilot):
        app = pilot.app
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert set(screen.query_one("#choices").selected) == {"unet_lite", "unet_s", "inceptionnet"}
        tick_only(screen.query_one("#choices"), ["inceptionnet", "unet_lite"])
        for name, value in {"feature": "membrane", "epochs": "1", "box": "32", "outdir": str(outdir),
                            "validate": synth_source["files"]["membrane_mask"]}.items():
            screen.query_one(f"#{name}").value = str(value)
        screen.query_one("#results").focus()
        await pilot.press("r")
        await settle(pilot)

        report = json.loads((outdir / "compare.json").read_text())
        assert [r["architecture"] for r in report["rows"]] == ["inceptionnet", "unet_lite"]
        table = screen.query_one("#results")
        assert table.row_count == 2
        for index, row in enumerate(report["rows"]):
            assert row["status"] == "trained" and (outdir / f"{row['architecture']}.aism").is_file()
            cells = [str(c) for c in table.get_row_at(index)]
            assert cells[:3] == [row["architecture"], "trained", f"{row['parameters']:,}"]
            assert cells[5] == f"{row['train_loss']:.3f}" and cells[6] == f"{row['dice']:.3f}"
            assert 0.0 <= row["dice"] <= 1.0 and row["seconds_per_slice"] > 0
        assert "Done: 2 trained" in str(screen.query_one("#compare-text").render())

        table.move_cursor(row=1)
        await pilot.press("l")
        await settle(pilot)
        assert [m.path.name for m in app.session.models] == ["unet_lite.aism"]
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one("#models").row_count == 1

    async def main():
        async with AisApp([annotated]).run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await scenario(pilot)
    asyncio.run(main())


def test_cancel_stops_after_the_network_being_trained(annotated, tmp_path):
    """The stop hook the view's Cancel sets: the first network keeps its best epoch, the rest is not run."""
    session = Session()
    session.add(open_dataset(annotated))
    stop, rows = threading.Event(), []

    def on_progress(event):
        if event["stage"] == "epoch":
            stop.set()
    report = services.compare(session, "membrane", ["inceptionnet", "unet_lite"], tmp_path / "cmp",
                              {"epochs": 3, "box": 32, "copies": 1}, on_progress=on_progress,
                              on_row=rows.append, should_stop=stop.is_set)
    assert [r["status"] for r in report["rows"]] == ["interrupted", "not run"]
    assert report["rows"][0]["epochs"] < 3 and (tmp_path / "cmp" / "inceptionnet.aism").is_file()
    assert [r["architecture"] for r in rows] == ["inceptionnet"]


def test_comparison_without_annotations_or_with_missing_labels_is_refused(annotated, tmp_path):
    from ais_framework.errors import UsageError

    session = Session()
    session.add(open_dataset(annotated))
    with pytest.raises(UsageError, match="no slice is annotated for 'carbon'"):
        services.compare(session, "carbon", ["unet_lite"], tmp_path, {"epochs": 1})
    with pytest.raises(UsageError, match="no such label volume"):
        services.compare(session, "membrane", ["unet_lite"], tmp_path, {"epochs": 1}, tmp_path / "none.mrc")


def test_cells_read_in_the_users_units():
    assert cell_text("parameters", 482449) == "482,449"
    assert cell_text("seconds_per_slice", 0.0123) == "12"
    assert cell_text("dice", None) == "" and cell_text("train_loss", float("nan")) == ""
    assert cell_text("train_loss", 0.12345) == "0.123"
