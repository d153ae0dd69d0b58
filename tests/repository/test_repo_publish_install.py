"""The path a lab walks: publish a trained model, search for it, install it by name, segment with it."""
from __future__ import annotations

import json

import pytest
import requests
from repo_helpers import refused, resave, run_cli

from ais_framework import api
from ais_framework.errors import InputFileError
from ais_framework.volume import read_volume

NAME = "membrane_20A"  # what the trainer names a membrane model at 20 Å


@pytest.fixture(scope="module")
def published(shared_server, tiny_model, tmp_path_factory):
    """The tiny model published by alice, as versions 1 and 2 (the trainer's name, membrane_20A)."""
    from ais_framework.cli.main import main

    second = resave(tiny_model, tmp_path_factory.mktemp("v2") / "membrane_v2.aism", version="2",
                    description="second try, more slices")
    for model in (tiny_model, second):
        assert main(["publish", str(model), "--repository", shared_server.url,
                     "--token", shared_server.tokens["alice"], "--quiet"]) == 0
    return shared_server


def test_search_shows_the_newest_version_as_a_table(published, capsys):
    code, out, err = run_cli(capsys, "search", "membrane", "--repository", published.url)
    assert code == 0, err
    header, row = out.strip().splitlines()[:2]
    assert header.split() == ["name", "version", "feature", "pixel", "size", "preprocessing", "architecture",
                              "author", "downloads"]
    assert row.split()[:5] == [NAME, "2", "membrane", "20", "Å"] and "unet_lite" in row


def test_search_filters_by_feature_pixel_size_and_architecture(published, capsys, monkeypatch):
    monkeypatch.setenv("AIS_FW_REPOSITORY", published.url)  # the URL from the environment

    def names(*args) -> list[str]:
        code, out, err = run_cli(capsys, "search", *args, "--json")
        assert code == 0, err
        return [m["name"] for m in json.loads(out)]

    assert names("--feature", "MEMBRANE") == [NAME]
    assert names("--pixel-size", "20") == [NAME] and names("--pixel-size", "19-21") == [NAME]
    assert names("--pixel-size", "10") == [] and names("--feature", "ribosome") == []
    assert names("--architecture", "unet_lite") == [NAME] and names("--architecture", "vggnet_m") == []
    assert names("second try") == [NAME] and names("no such words") == []


def test_install_by_name_then_load_and_segment_by_name(published, synth, tmp_path, capsys):
    code, out, err = run_cli(capsys, "install-model", NAME, "--repository", published.url)
    assert code == 0, err
    assert f"{NAME}@2: installed" in out
    model = api.load_model(NAME)
    assert model.metadata.version == "2" and model.metadata.feature == "membrane"
    output = api.segment_tomogram(synth["tomogram"], NAME, tmp_path / "out")
    assert output.name == "synth_0__membrane.mrc"
    assert read_volume(output).shape == read_volume(synth["tomogram"]).shape
    code, out, err = run_cli(capsys, "models", "--json")
    assert [(m["name"], m["version"], m["feature"]) for m in json.loads(out)] == [(NAME, "2", "membrane")]


def test_install_pinned_version_and_reinstall_is_a_no_op(published, capsys):
    code, out, err = run_cli(capsys, "install-model", f"{NAME}@1", "--repository", published.url, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["status"] == "installed" and first["version"] == "1"
    assert api.resolve_model(f"{NAME}@1").read_bytes() == (published.store / "sha256" / first["sha256"][:2]
                                                           / first["sha256"]).read_bytes()
    code, out, err = run_cli(capsys, "install-model", f"{NAME}@1", "--repository", published.url, "--json")
    assert json.loads(out)["status"] == "already installed"


def test_downloads_are_counted(published, capsys):
    before = requests.get(f"{published.url}/api/v1/models/{NAME}/2").json()["downloads"]
    assert run_cli(capsys, "install-model", NAME, "--repository", published.url)[0] == 0
    assert requests.get(f"{published.url}/api/v1/models/{NAME}/2").json()["downloads"] == before + 1


def test_unknown_names_and_versions_are_clear_errors(published, capsys):
    line = refused(*run_cli(capsys, "install-model", "no_such_model", "--repository", published.url)[::2])
    assert "no model named 'no_such_model'" in line
    line = refused(*run_cli(capsys, "install-model", f"{NAME}@9", "--repository", published.url)[::2])
    assert f"no version {NAME}@9" in line
    line = refused(*run_cli(capsys, "install-model", "bad/name", "--repository", published.url)[::2])
    assert "not a model name" in line


def test_an_unknown_model_name_lists_the_installed_ones(published, capsys):
    assert run_cli(capsys, "install-model", f"{NAME}@1", "--repository", published.url)[0] == 0
    with pytest.raises(InputFileError) as raised:
        api.load_model("ribosome_10A")
    assert f"installed: {NAME}@1" in raised.value.message and "ais-fw install-model" in raised.value.hint


def test_uninstall_removes_the_model(published, capsys):
    assert run_cli(capsys, "install-model", NAME, "--repository", published.url)[0] == 0
    code, out, err = run_cli(capsys, "uninstall-model", NAME)
    assert code == 0 and out.strip() == f"removed {NAME}@2"
    with pytest.raises(InputFileError):
        api.resolve_model(NAME)
    assert "is not installed" in refused(*run_cli(capsys, "uninstall-model", NAME)[::2])


def test_offline_installs_from_the_cache_only(published, capsys, monkeypatch):
    assert run_cli(capsys, "install-model", f"{NAME}@1", "--repository", published.url)[0] == 0
    monkeypatch.setenv("AIS_FW_OFFLINE", "1")
    code, out, err = run_cli(capsys, "install-model", f"{NAME}@1", "--repository", "http://127.0.0.1:9")
    assert code == 0 and "offline" in out, err
    line = refused(*run_cli(capsys, "install-model", f"{NAME}@2", "--repository", "http://127.0.0.1:9")[::2])
    assert "not in the local cache" in line
    assert api.load_model(NAME).metadata.version == "1"  # usable by name without a network


def test_repository_from_the_user_config(published, tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(f'repository = "{published.url}"\n')
    monkeypatch.setenv("AIS_FW_CONFIG", str(config))
    code, out, err = run_cli(capsys, "search", "--json")
    assert code == 0 and [m["name"] for m in json.loads(out)] == [NAME], err
    monkeypatch.setenv("AIS_FW_CONFIG", str(tmp_path / "missing.toml"))
    assert "no model repository is set" in refused(*run_cli(capsys, "search")[::2])


def test_unreachable_repository_is_one_clear_line(capsys):
    line = refused(*run_cli(capsys, "search", "--repository", "http://127.0.0.1:9")[::2])
    assert "cannot reach the model repository" in line


def test_the_api_is_described_by_openapi(published):
    spec = requests.get(f"{published.url}/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/v1/models", "/api/v1/models/{name}", "/api/v1/models/{name}/{version}",
            "/api/v1/models/{name}/{version}/download", "/api/v1/models/{name}/{version}/yank",
            "/api/v1/uploads"} <= paths
    assert "multipart/form-data" in spec["paths"]["/api/v1/models"]["post"]["requestBody"]["content"]


def test_download_honours_http_range(published):
    record = requests.get(f"{published.url}/api/v1/models/{NAME}/1").json()
    url = f"{published.url}/api/v1/models/{NAME}/1/download"
    whole = requests.get(url).content
    part = requests.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{record['size']}"
    assert part.headers["x-content-sha256"] == record["sha256"]
