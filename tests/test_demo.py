"""``ais-fw demo --quick``: the whole workflow end to end, run in-process as a user runs it."""
from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from ais_framework import api
from ais_framework.cli.demo import report_lines
from ais_framework.cli.main import main
from ais_framework.pipeline import load_pipeline
from ais_framework.picks import read_picks

FEATURES = {"membrane", "carbon", "ribosome"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The JSON report of one quick demo run, and its captured stderr."""
    folder = tmp_path_factory.mktemp("demo") / "out"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["demo", "--quick", "--json", "--quiet", "--seed", "3", "-o", str(folder)])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue()), err.getvalue(), folder


def test_report_has_every_section_and_the_files_exist(demo):
    report, _, folder = demo
    assert {"synthetic", "models", "pipeline", "segmentations", "picks", "scores", "preview"} <= set(report)
    assert report["quick"] is True and report["seed"] == 3 and Path(report["output"]) == folder
    assert set(report["models"]) == FEATURES and set(report["segmentations"]) == FEATURES
    assert set(report["scores"]["features"]) == FEATURES
    paths = [report["pipeline"], report["picks"]["path"], report["preview"]["path"],
             *(m["path"] for m in report["models"].values()), *report["segmentations"].values()]
    for path in paths:
        assert Path(path).is_file() and Path(path).stat().st_size > 0, path
    assert all(m["epochs"] == 1 for m in report["models"].values())


def test_outputs_agree_with_the_report(demo):
    report, _, _ = demo
    test = report["synthetic"]["test"]
    assert test["shape_zyx"] == [48, 128, 128] and test["pixel_size_A"] == 20.0
    for path in report["segmentations"].values():
        assert api.volume_info(path)["shape_zyx"] == test["shape_zyx"]
    picks = read_picks(report["picks"]["path"])
    assert len(picks) == report["picks"]["count"] == report["scores"]["picks"]["predicted"]
    assert report["scores"]["picks"]["truth"] == test["counts"]["large_particles"]
    pipeline = load_pipeline(report["pipeline"])
    assert sorted(pipeline.names) == sorted(FEATURES)
    assert [(i.child, i.parent, i.kind) for i in pipeline.interactions] == [("membrane", "carbon", "avoid")]
    for scores in [*report["scores"]["features"].values(), report["scores"]["picks"]]:
        assert all(0.0 <= scores[k] <= 1.0 for k in ("precision", "recall"))
    assert Path(report["preview"]["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_steps_are_numbered_and_the_text_report_names_the_scores(demo):
    report, steps, _ = demo
    assert re.findall(r"^(\d+)/8 ", steps, flags=re.M) == [str(n) for n in range(1, 9)]
    text = "\n".join(report_lines(report))
    for name in FEATURES:
        assert f"\n{name} " in text
    assert "ribosome picks: precision" in text and "F1" in text and "preview.png" in text


def test_an_output_that_is_a_file_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    assert main(["demo", "--quick", "-o", str(blocker / "demo")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "hint: " in err
