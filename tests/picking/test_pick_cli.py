"""``ais-fw pick`` and ``ais-fw evaluate`` as users run them (real processes, real files)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ais_framework import api
from ais_framework.picks import read_picks
from ais_framework.volume import Volume, write_volume


def ais_fw(*args, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("ais-fw")
    return subprocess.run([str(script), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pick_cli")
    api.make_synthetic(folder / "synth", seed=2)
    shutil.copy(folder / "synth" / "truth" / "large_particles.mrc", folder / "synth_2__ribosome.mrc")
    write_volume(folder / "synth_2__empty.mrc", Volume(data=np.zeros((20, 30, 30), np.uint8), pixel_size=10.0))
    return folder


def test_pick_many_segmentations_in_parallel_then_evaluate(project):
    result = ais_fw("pick", "synth_2__ribosome.mrc", "synth_2__empty.mrc", "--min-size-A3", 2e6, "--jobs", 2,
                    "--format", "relion5", "-o", "picks", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "synth_2__empty.mrc: 0 picks -> picks/synth_2__empty_picks.star (empty file: empty segmentation" in result.stdout
    picks = read_picks(project / "picks" / "synth_2__ribosome_picks.star")
    assert picks.tomogram == "synth_2" and len(picks) > 0
    assert len(read_picks(project / "picks" / "synth_2__empty_picks.star")) == 0
    scored = ais_fw("evaluate", "picks", "picks/synth_2__ribosome_picks.star", "synth/truth/large_particles.csv",
                    "--tolerance-A", 100, "--json", cwd=project)
    assert scored.returncode == 0, scored.stderr
    scores = json.loads(scored.stdout)
    assert scores["f1"] >= 0.95 and scores["true_positive"] == len(picks)
    text = ais_fw("evaluate", "picks", "picks/synth_2__ribosome_picks.star", "synth/truth/large_particles.csv",
                  "--tolerance-A", 100, cwd=project)
    assert text.stdout.startswith("precision ") and "matched (TP)" in text.stdout


@pytest.mark.parametrize("fmt, ext", [("star", ".star"), ("tbl", ".tbl"), ("json", ".json"), ("csv", ".csv")])
def test_each_format_from_the_command_line(project, fmt, ext):
    out = project / f"out_{fmt}"
    result = ais_fw("pick", "synth_2__ribosome.mrc", "--mode", "centroid", "--orient", "axis", "--format", fmt,
                    "-o", out, cwd=project)
    assert result.returncode == 0, result.stderr
    assert (out / f"synth_2__ribosome_picks{ext}").is_file()


def test_evaluate_seg_json(project):
    result = ais_fw("evaluate", "seg", "synth_2__ribosome.mrc", "synth/truth/large_particles.mrc", "--json",
                    cwd=project)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["dice"] == 1.0


@pytest.mark.parametrize("args, message", [
    (["--format", "xyz"], "unknown coordinate format 'xyz'"),
    (["--threshold", "1.5"], "threshold must be above 0 and at most 1"),
    (["--mode", "ribbon"], "unknown picker 'ribbon'"),
    (["--twist-deg", "3"], "picker 'blob' has no parameter twist_deg"),
])
def test_bad_options_are_one_clear_error_and_write_nothing(project, args, message):
    out = project / "never"
    result = ais_fw("pick", "synth_2__ribosome.mrc", "-o", out, *args, cwd=project)
    assert result.returncode != 0
    assert message in result.stderr and "hint:" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_a_missing_segmentation_fails_alone(project):
    result = ais_fw("pick", "missing__x.mrc", "synth_2__ribosome.mrc", "-o", "partial", cwd=project)
    assert result.returncode == 1
    assert "missing__x.mrc" in result.stderr and "1 of 2 segmentations could not be picked" in result.stderr
    assert (project / "partial" / "synth_2__ribosome_picks.star").is_file()
