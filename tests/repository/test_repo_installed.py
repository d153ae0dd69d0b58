"""Installed models and client settings without a server: names, versions, records, config precedence."""
from __future__ import annotations

import json

import pytest

from ais_framework.cli.models_cmd import parse_pixel_size
from ais_framework.errors import InputFileError, UsageError
from ais_framework.model.installed import (add_installed, installed_models, parse_reference, remove_installed,
                                           resolve_model, version_key)
from ais_repository_client import config


def test_references_are_names_with_an_optional_version():
    assert parse_reference("ribosome_10A") == ("ribosome_10A", None)
    assert parse_reference("ribosome_10A@2") == ("ribosome_10A", "2")
    assert parse_reference("membrane_13.48A@1.0.2") == ("membrane_13.48A", "1.0.2")
    for bad in ("", "@2", "a/b", "../x", "name@", "name@a@b", "na me"):
        with pytest.raises(UsageError):
            parse_reference(bad)


def test_versions_sort_like_numbers():
    assert sorted(["10", "2", "1"], key=version_key) == ["1", "2", "10"]
    assert sorted(["1.10", "1.2", "1.9.1"], key=version_key) == ["1.2", "1.9.1", "1.10"]


def install_fake(tmp_path, name: str, version: str, content: bytes = b"package") -> None:
    source = tmp_path / f"{name}-{version}.download"
    source.write_bytes(content)
    add_installed(source, name, version, sha256="0" * 64, feature="membrane")
    assert not source.exists()  # moved, not copied


def test_names_resolve_to_the_newest_installed_version(tmp_path, home):
    for version in ("1", "10", "2"):
        install_fake(tmp_path, "membrane_20A", version, content=version.encode())
    assert resolve_model("membrane_20A").read_bytes() == b"10"
    assert resolve_model("membrane_20A@2").read_bytes() == b"2"
    assert [r["version"] for r in installed_models()] == ["1", "2", "10"]
    assert resolve_model("membrane_20A").parent == home / "models"


def test_a_model_file_path_is_returned_as_is(tmp_path):
    path = tmp_path / "membrane_20A"  # a file wins over an installed model of the same name
    path.write_bytes(b"x")
    assert resolve_model(path) == path and resolve_model(str(path)) == path


def test_unknown_models_list_what_is_installed(tmp_path):
    install_fake(tmp_path, "carbon_10A", "3")
    with pytest.raises(InputFileError) as raised:
        resolve_model("ribosome_10A")
    assert "installed: carbon_10A@3" in raised.value.message and "install-model" in raised.value.hint
    with pytest.raises(InputFileError) as raised:
        resolve_model("missing/model.aism")
    assert "no such model file" in raised.value.message


def test_a_half_finished_install_is_not_listed(tmp_path, home):
    install_fake(tmp_path, "carbon_10A", "1")
    (home / "models" / "carbon_10A@2.aism").write_bytes(b"moved, but the record was never written")
    (home / "models" / "broken@1.json").write_text("{not json")
    assert [r["version"] for r in installed_models()] == ["1"]


def test_uninstall_one_version_or_all(tmp_path, home):
    for version in ("1", "2"):
        install_fake(tmp_path, "carbon_10A", version)
    assert [r["version"] for r in remove_installed("carbon_10A", "1")] == ["1"]
    assert [r["version"] for r in remove_installed("carbon_10A")] == ["2"]
    assert list((home / "models").iterdir()) == []
    with pytest.raises(UsageError):
        remove_installed("carbon_10A")


def test_records_say_where_a_model_came_from(tmp_path, home):
    install_fake(tmp_path, "carbon_10A", "1")
    record = json.loads((home / "models" / "carbon_10A@1.json").read_text())
    assert record["feature"] == "membrane" and record["sha256"] == "0" * 64 and "installed" in record


def test_repository_url_precedence(tmp_path, monkeypatch):
    config_file = tmp_path / "config.toml"
    config_file.write_text('repository = "http://from-config:1"\ntoken = "from-config"\n')
    monkeypatch.setenv("AIS_FW_CONFIG", str(config_file))
    assert config.repository_url() == "http://from-config:1" and config.token() == "from-config"
    monkeypatch.setenv("AIS_FW_REPOSITORY", "http://from-env:2/")
    monkeypatch.setenv("AIS_FW_TOKEN", "from-env")
    assert config.repository_url() == "http://from-env:2" and config.token() == "from-env"
    assert config.repository_url("http://given:3") == "http://given:3" and config.token("given") == "given"
    with pytest.raises(UsageError):
        config.repository_url("ftp://nope")
    config_file.write_text("repository = [unclosed")
    monkeypatch.delenv("AIS_FW_REPOSITORY")
    with pytest.raises(InputFileError):
        config.repository_url()


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_offline_mode_from_the_environment(monkeypatch, value):
    monkeypatch.setenv("AIS_FW_OFFLINE", value)
    assert config.offline()
    monkeypatch.setenv("AIS_FW_OFFLINE", "0")
    assert not config.offline()


def test_pixel_size_is_a_value_or_a_range():
    assert parse_pixel_size("10") == pytest.approx((9.5, 10.5))
    assert parse_pixel_size("8-12") == (8.0, 12.0)
    for bad in ("ten", "12-8", "0", "-3"):
        with pytest.raises(UsageError):
            parse_pixel_size(bad)
