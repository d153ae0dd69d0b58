"""Installed models by name where a model file was asked for: ``ais-fw model info|validate`` and
pipeline files (``[[model]] path = "NAME[@VERSION]"``), with a real trained model installed into
a temporary AIS_FW home (no server needed: installing is moving a verified package into place)."""
from __future__ import annotations

import json
import shutil
import textwrap

import pytest
from repo_helpers import refused, resave, run_cli

from ais_framework import api
from ais_framework.errors import InputFileError
from ais_framework.model import read_metadata
from ais_framework.model.installed import add_installed
from ais_framework.pipeline import load_pipeline, save_pipeline
from ais_framework.volume import read_volume

NAME = "membrane_20A"


@pytest.fixture
def installed(tiny_model, tmp_path, home) -> dict[str, str]:
    """The tiny model installed as NAME@1 and a re-saved copy as NAME@2; version → package path."""
    second = resave(tiny_model, tmp_path / "second.aism", version="2", description="the second version")
    paths = {}
    for version, package in (("1", tiny_model), ("2", second)):
        download = tmp_path / f"download-{version}"
        shutil.copyfile(package, download)
        paths[version] = str(add_installed(download, NAME, version, sha256="0" * 64, feature="membrane"))
    return paths


def model_info(capsys, model: str) -> dict:
    code, out, err = run_cli(capsys, "model", "info", model, "--json")
    assert code == 0, err
    return json.loads(out)


def test_model_info_takes_an_installed_name_or_a_path(installed, tiny_model, capsys):
    assert model_info(capsys, NAME)["description"] == "the second version"  # the newest version
    assert model_info(capsys, f"{NAME}@1")["version"] == read_metadata(tiny_model).version
    assert model_info(capsys, str(tiny_model))["feature"] == "membrane"
    code, out, err = run_cli(capsys, "model", "info", f"{NAME}@2")
    assert code == 0 and "the second version" in out and "membrane" in out, err


def test_model_validate_takes_an_installed_name(installed, capsys):
    code, out, err = run_cli(capsys, "model", "validate", f"{NAME}@1", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["passed"] and report["path"] == installed["1"]
    code, out, err = run_cli(capsys, "model", "validate", NAME)
    assert code == 0 and "test pair" in out, err


def test_model_commands_refuse_unknown_names_listing_the_installed_ones(installed, capsys):
    for command in ("info", "validate"):
        line = refused(*run_cli(capsys, "model", command, "ribosome_10A")[::2])
        assert "ribosome_10A" in line and f"installed: {NAME}@1, {NAME}@2" in line
        line = refused(*run_cli(capsys, "model", command, f"{NAME}@7")[::2])
        assert f"{NAME}@7" in line
        assert "no such model file" in refused(*run_cli(capsys, "model", command, "missing/model.aism")[::2])


PIPELINE = """\
[[model]]
path = "carbon.aism"
name = "carbon"
emit = true
[[model]]
path = "{membrane}"
absorb = true
[[interaction]]
child = "membrane"
parent = "carbon"
kind = "avoid"
radius_nm = 4
"""


def write_pipeline(folder, membrane: str, carbon_from) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(carbon_from, folder / "carbon.aism")  # any model will do as "carbon" here
    path = folder / "pipeline.toml"
    path.write_text(textwrap.dedent(PIPELINE.format(membrane=membrane)))
    return path


def test_pipeline_models_may_be_installed_names(installed, tiny_model, tmp_path, tmp_path_factory):
    path = write_pipeline(tmp_path / "run", f"{NAME}@1", tiny_model)
    pipeline = load_pipeline(path)
    assert pipeline.names == ["carbon", "membrane"]  # the installed model named after its feature
    assert str(pipeline.model_path(pipeline.models[1])) == installed["1"]
    latest = load_pipeline(write_pipeline(tmp_path / "latest", NAME, tiny_model))
    assert str(latest.model_path(latest.models[1])) == installed["2"]
    saved = save_pipeline(pipeline, tmp_path_factory.mktemp("elsewhere") / "saved.toml")
    assert f'path = "{NAME}@1"' in saved.read_text()  # a name stays a name, not a path into the cache
    assert str(load_pipeline(saved).model_path(pipeline.models[1])) == installed["1"]


def test_a_file_beside_the_pipeline_wins_over_an_installed_name(installed, tiny_model, tmp_path):
    path = write_pipeline(tmp_path, NAME, tiny_model)
    shutil.copyfile(tiny_model, tmp_path / NAME)
    pipeline = load_pipeline(path)
    assert pipeline.model_path(pipeline.models[1]) == tmp_path / NAME


def test_unknown_pipeline_model_names_are_clear_errors(installed, tiny_model, tmp_path):
    for reference in ("ribosome_10A", f"{NAME}@9"):
        path = write_pipeline(tmp_path / reference.replace("@", "-"), reference, tiny_model)
        with pytest.raises(InputFileError) as raised:
            load_pipeline(path)
        error = raised.value
        assert "line 6" in error.message and f"no installed model '{reference}'" in error.message
        assert f"installed: {NAME}@1, {NAME}@2" in error.hint and "NAME@VERSION" in error.hint
    path = write_pipeline(tmp_path / "path", "models/missing.aism", tiny_model)
    with pytest.raises(InputFileError) as raised:
        load_pipeline(path)
    assert "model file not found" in raised.value.message and "installed model" not in raised.value.message


def test_segment_with_a_pipeline_that_names_an_installed_model(installed, tiny_model, synth, tmp_path):
    path = write_pipeline(tmp_path / "run", NAME, tiny_model)
    [result] = api.segment([synth["tomogram"]], tmp_path / "out", pipeline=path, device="cpu")
    assert set(result["outputs"]) == {"carbon", "membrane"}
    for output in result["outputs"].values():
        assert read_volume(output).shape == read_volume(synth["tomogram"]).shape
