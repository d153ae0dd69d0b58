"""From a raw tomogram to a trained model, live prediction, a segmentation and picks, all in
the terminal UI (one tiny epoch on a 40x64x64 synthetic tomogram)."""
from __future__ import annotations

import asyncio
import shutil

import pytest

from ais_framework.annotations import AnnotationStore
from ais_framework.model import read_metadata
from ais_framework.tui import services
from ais_framework.tui.app import AisApp
from ais_framework.volume import read_volume


@pytest.fixture
def annotated(tomogram, synth_source):
    """The tomogram with two slices of true membrane labels in its annotation store."""
    store = AnnotationStore.create(None, tomogram)
    store.import_label_volume(synth_source["files"]["membrane_mask"], "membrane", slices=[10, 20])
    store.save()
    return tomogram


def set_inputs(screen, **values) -> None:
    for name, value in values.items():
        screen.query_one(f"#{name}").value = value


def test_train_predict_segment_and_pick(annotated, settle):
    output = annotated.parent / "membrane.aism"

    async def scenario(pilot):
        app = pilot.app
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#architectures").row_count >= 2  # with parameter counts
        set_inputs(screen, feature="membrane", epochs="1", box="32", output=str(output))
        screen.query_one("#architectures").focus()
        await pilot.press("t")
        await settle(pilot)
        assert output.is_file() and read_metadata(output).feature == "membrane"
        assert [m.feature for m in app.session.models] == ["membrane"]
        assert "best loss" in str(screen.query_one("#progress-text").render())
        assert screen.query_one("#progress").progress == 1

        await pilot.press("1")  # live prediction of the slice shown
        await settle(pilot)
        dataset, model = app.session.dataset, app.session.models[0]
        probs = dataset.predictions[(model.key, 20)]
        assert probs.shape == (64, 64) and 0.0 <= probs.min() <= probs.max() <= 1.0
        await pilot.press("k")
        await settle(pilot)
        assert (model.key, 21) in dataset.predictions

        await pilot.press("4")
        await settle(pilot)
        set_inputs(app.screen, outdir=str(annotated.parent / "out"))
        app.screen.query_one("#jobs").focus()
        await pilot.press("p" if services.picking_available() else "s")
        await settle(pilot)
        status = str(app.screen.query_one("#jobs").get_cell_at((0, 2)))
        assert status.startswith("done"), status
        assert read_volume(annotated.parent / "out" / "tomo__membrane.mrc").shape == (40, 64, 64)
        if services.picking_available():
            assert "picks" in status and (annotated.parent / "out" / "tomo__membrane_picks.star").is_file()
            assert dataset.picks["membrane"].shape[1] == 3

    async def main():
        async with AisApp([annotated]).run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await scenario(pilot)
    asyncio.run(main())


def test_cancel_stops_training_and_keeps_the_best_epoch(annotated, tmp_path):
    """The cancel hook the Models screen uses: stop after the first epoch, model still saved."""
    from ais_framework.tui.session import Session, open_dataset

    session = Session()
    session.add(open_dataset(annotated))
    seen, stop = [], []
    summary = services.train(session, "membrane", tmp_path / "m.aism",
                             {"epochs": 5, "box": 32, "copies": 2, "batch_size": 8},
                             on_epoch=lambda info: (seen.append(info["epoch"]), stop.append(True)),
                             should_stop=lambda: bool(stop))
    assert seen == [1] and summary["interrupted"] and summary["best_epoch"] == 1
    assert read_metadata(tmp_path / "m.aism").training.epochs == 1


def test_training_without_annotations_is_refused_clearly(tomogram, tmp_path):
    from ais_framework.errors import UsageError
    from ais_framework.tui.session import Session, open_dataset

    session = Session()
    session.add(open_dataset(tomogram))
    with pytest.raises(UsageError, match="no slice is annotated for 'membrane'"):
        services.train(session, "membrane", tmp_path / "m.aism", {"epochs": 1}, print, lambda: False)


def test_pipeline_is_saved_as_toml_the_engine_reads(annotated, tmp_path):
    engine = services.pipeline_module()
    if engine is None:
        pytest.skip("the pipeline engine (ais_framework.pipeline) is not installed")
    from ais_framework.tui.session import ModelEntry, Session, open_dataset

    session = Session()
    session.add(open_dataset(annotated))
    services.train(session, "membrane", tmp_path / "membrane.aism", {"epochs": 1, "box": 32, "copies": 1},
                   on_epoch=None, should_stop=lambda: False)
    shutil.copyfile(tmp_path / "membrane.aism", tmp_path / "carbon.aism")  # any model file will do here
    session.models = [ModelEntry(tmp_path / "carbon.aism", None, "carbon", "#ffffff", emit=True),
                      ModelEntry(tmp_path / "membrane.aism", None, "membrane", "#ff0000", 0.4, absorb=True)]
    kinds = services.interaction_kinds()
    rule = services.parse_interaction(f"membrane {kinds[0]} carbon 10", {"membrane", "carbon"})
    session.interactions.append(rule)
    path = services.save_pipeline(session, tmp_path / "pipeline.toml")
    pipeline = engine.load_pipeline(path)
    assert [m.name for m in pipeline.models] == ["carbon", "membrane"]
    assert pipeline.models[0].emit and pipeline.models[1].absorb and pipeline.models[1].threshold == 0.4
    assert pipeline.interactions[0].kind == kinds[0] and pipeline.interactions[0].radius_nm == 10


def test_bad_interactions_are_refused_with_the_known_names():
    from ais_framework.errors import UsageError

    with pytest.raises(UsageError, match="unknown interaction 'hug'"):
        services.parse_interaction("membrane hug carbon 10", {"membrane", "carbon"})
    with pytest.raises(UsageError, match="no loaded model segments 'ice'"):
        services.parse_interaction(f"ice {(services.interaction_kinds() or ['avoid'])[0]} carbon 10", {"carbon"})
    with pytest.raises(UsageError, match="cannot read"):
        services.parse_interaction("membrane avoid", {"membrane"})
