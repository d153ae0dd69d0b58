"""The Batch screen through the library API: several models with their competition flags and
interactions (``api.segment`` with a pipeline), picking with ``api.pick``, cancelling, errors.

The models are untrained UNet Lite packages (instant to make): the batch plumbing is what is
tested, and an interaction with threshold 0 has a result that is known without training."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from ais_framework import api
from ais_framework.tui import services
from ais_framework.tui.app import AisApp
from ais_framework.tui.session import Session, open_dataset
from ais_framework.volume import read_volume

pytest.importorskip("ais_framework.pipeline")


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict:
    """Untrained 2D models for carbon and membrane at the tomogram's 20 Å (different weights)."""
    import torch

    from ais_framework.model import save_model
    from ais_framework.plugins import get_registry

    folder = tmp_path_factory.mktemp("batch-models")
    build = get_registry().get("architecture", "unet_lite").build
    test_input = np.random.default_rng(0).normal(size=(1, 1, 16, 16)).astype(np.float32)
    found = {}
    for seed, feature in enumerate(("carbon", "membrane")):
        torch.manual_seed(seed)
        meta = {"name": f"{feature}_20A", "feature": feature, "architecture": "unet_lite", "dims": "2d",
                "depth": 1, "box": 16, "pixel_size_A": 20.0}
        found[feature] = save_model(folder / f"{feature}.aism", build(1), meta, test_input)
    return found


def session_with(packages, tomogram=None, emit=False, interactions=()) -> Session:
    """Both models loaded (carbon emits, membrane absorbs when ``emit``); the tomogram opened if given."""
    session = Session()
    if tomogram is not None:
        session.add(open_dataset(tomogram))
    for feature in ("carbon", "membrane"):
        session.add_model(services.load_model(packages[feature], {}))
    session.models[0].emit, session.models[1].absorb = emit, emit
    session.interactions.extend(services.parse_interaction(rule, {"carbon", "membrane"}) for rule in interactions)
    return session


def run_batch(tomogram, models: Session, settle, key: str, **inputs) -> tuple[AisApp, list[str]]:
    """The app on ``tomogram``; once it is open, load the models and interactions of ``models``
    (as the Models screen does), open the Batch screen, fill its inputs (output folder: ``out``
    beside the tomogram) and press ``key``. Returns the app and the rows' statuses, then the note."""
    app, statuses = AisApp([tomogram]), []
    inputs = {"outdir": str(tomogram.parent / "out"), "device": "cpu", **inputs}

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.session.models, app.session.interactions = models.models, models.interactions
            await pilot.press("4")
            await settle(pilot)
            for name, value in inputs.items():
                app.screen.query_one(f"#{name}").value = value
            app.screen.query_one("#jobs").focus()
            await pilot.press(key)
            await settle(pilot)
            table = app.screen.query_one("#jobs")
            statuses.extend(str(table.get_cell_at((row, 2))) for row in range(table.row_count))
            statuses.append(str(app.screen.query_one("#note").render()))
    asyncio.run(main())
    return app, statuses


def test_batch_applies_the_models_competition_and_interactions(tomogram, packages, settle):
    plain = api.segment([tomogram], tomogram.parent / "plain", models=[packages["carbon"]], device="cpu")
    models = session_with(packages, emit=True, interactions=["membrane avoid carbon 2 0"])
    app, (carbon_row, membrane_row, note) = run_batch(tomogram, models, settle, "s")
    assert carbon_row == "done: tomo__carbon.mrc" and membrane_row == "done: tomo__membrane.mrc"
    assert "Competition (emit/absorb) applied. 1 interaction(s) applied." in note
    carbon = read_volume(tomogram.parent / "out" / "tomo__carbon.mrc").data
    membrane = read_volume(tomogram.parent / "out" / "tomo__membrane.mrc").data
    assert np.array_equal(carbon, read_volume(plain[0]["outputs"]["carbon"]).data)  # an emitter is unchanged
    assert carbon.max() > 0 and membrane.max() == 0  # carbon is above 0 everywhere: membrane avoids it all
    assert set(app.session.datasets[0].segmentations) == {"carbon", "membrane"}


def test_the_pipeline_holds_the_flags_and_the_rules_between_the_models_run(packages):
    session = session_with(packages, emit=True, interactions=["membrane avoid carbon 10 0.3"])
    pipeline = services.batch_pipeline(session.models, session.interactions)
    assert pipeline.names == ["carbon", "membrane"]
    assert [(m.emit, m.absorb) for m in pipeline.models] == [(True, False), (False, True)]
    assert (pipeline.interactions[0].kind, pipeline.interactions[0].threshold) == ("avoid", 0.3)
    assert services.batch_pipeline(session.models[:1], session.interactions).interactions == []
    assert services.batch_pipeline(session_with(packages).models, []) is None  # plain models


def test_segment_and_pick_writes_picks_the_pick_command_reads(tomogram, packages, settle):
    models = session_with(packages)
    models.models[0].threshold = 0.523  # the picker's threshold: the model's, not the default 0.5
    models.models[1].show = False  # hidden models are not run
    app, (status, note) = run_batch(tomogram, models, settle, "p", picker="blob")
    outdir = tomogram.parent / "out"
    assert "1 tomogram(s) × 1 model(s)." in note and not (outdir / "tomo__membrane.mrc").exists()
    expected = api.pick(outdir / "tomo__carbon.mrc", "blob", threshold=0.523)
    assert len(expected) != len(api.pick(outdir / "tomo__carbon.mrc", "blob"))
    written = api.read_picks(outdir / "tomo__carbon_picks.star")
    assert status == f"done: tomo__carbon.mrc, {len(expected)} picks"
    assert np.allclose(np.c_[written.z, written.y, written.x], np.c_[expected.z, expected.y, expected.x])
    assert app.session.datasets[0].picks["carbon"].shape == (len(expected), 3)


def test_an_unknown_picker_keeps_the_segmentation_and_says_what_to_do(tomogram, packages, settle):
    _, (carbon, membrane, _) = run_batch(tomogram, session_with(packages), settle, "p", picker="blobby")
    assert carbon.startswith("done: tomo__carbon.mrc, picking failed:") and "blobby" in carbon
    assert (tomogram.parent / "out" / "tomo__membrane.mrc").is_file()


def test_a_bad_device_fails_every_row_of_the_tomogram(tomogram, packages, settle):
    _, statuses = run_batch(tomogram, session_with(packages), settle, "s", device="tpu")
    assert all(s.startswith("failed: unknown device 'tpu'") for s in statuses[:2]), statuses


def test_cancel_stops_at_the_next_slab_and_writes_nothing(tomogram, packages, tmp_path):
    session = session_with(packages, tomogram, emit=True)
    seen = []
    with pytest.raises(services.Cancelled):
        services.segment(session.dataset, session.models, [], tmp_path / "out", "cpu", seen.append,
                         should_stop=lambda: bool(seen))
    assert len(seen) == 1 and 0 < seen[0] < 1
    assert not list((tmp_path / "out").glob("*.mrc")) and not session.dataset.segmentations
