"""Model packages (.aism): save, info, load, validate, and refusal of damaged or hostile files."""
from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ais_framework import hookimpl
from ais_framework.cli.model_cmd import model_app
from ais_framework.errors import InputFileError, PluginError, UsageError
from ais_framework.model import (ModelMetadata, load_model, predict, read_metadata, save_model,
                                 validate_model)
from ais_framework.model import archive
from ais_framework.plugins import PluginSource, get_registry, new_registry, reset_registry
from ais_framework.specs import ArchitectureSpec

ARCH = "tiny-test-net"
SOURCE = PluginSource(plugin="tiny-test", module=__name__, distribution="tiny-test-dist", version="9.9")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def build_tiny(depth: int, width: int = 4) -> torch.nn.Module:
    """A 2-conv network with batch norm: (N, depth, H, W) -> (N, 1, H, W) logits."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(depth, width, 3, padding=1), torch.nn.BatchNorm2d(width), torch.nn.ReLU(),
        torch.nn.Conv2d(width, 1, 1),
    )


class TinyPlugin:
    @hookimpl
    def ais_fw_architectures(self):
        return [ArchitectureSpec(name=ARCH, title="Tiny test net", build=build_tiny, size_multiple=1)]


def registry_with(source: PluginSource = SOURCE):
    registry = new_registry(load_entry_points=False)
    registry.register_module(TinyPlugin(), source)
    return registry


@pytest.fixture
def registry():
    return registry_with()


@pytest.fixture
def global_registry():
    """The process-wide registry with the tiny architecture added (for the CLI)."""
    reset_registry()
    get_registry().register_module(TinyPlugin(), SOURCE)
    yield get_registry()
    reset_registry()


def metadata(**changes) -> dict:
    values = {
        "name": "Tiny membrane", "feature": "membrane", "architecture": ARCH,
        "architecture_options": {"width": 4}, "dims": "2.5d", "depth": 3, "box": 16,
        "pixel_size_A": 13.88, "normalisation": {"method": "standardise", "center": 0.1, "scale": 2.5},
        "preprocessing": "gaussian lowpass 30 Å", "threshold": 0.4, "colour": "#30c0ff",
        "training": {"epochs": 2, "loss": "dice", "best_loss": 0.31, "history": [{"epoch": 1, "loss": 0.4}],
                     "seconds": 12.5, "samples": 40, "seed": 7, "date": "2025-01-02"},
        "author": "A. Tester", "licence": "CC-BY-4.0", "description": "for tests",
    }
    values.update(changes)
    return values


def sample_input(depth: int = 3) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(2, depth, 16, 16)).astype(np.float32)


@pytest.fixture
def network():
    """A tiny network whose batch-norm statistics differ from a fresh one's (they must be saved too)."""
    torch.manual_seed(0)
    net = build_tiny(3)
    net[1].running_mean.uniform_(-0.5, 0.5)
    net[1].running_var.uniform_(0.5, 2.0)
    return net.train()


@pytest.fixture
def model(tmp_path, network, registry) -> Path:
    return save_model(tmp_path / "tiny.aism", network, metadata(), sample_input(), PNG, registry=registry)


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive_file:
        return {info.filename: archive_file.read(info) for info in archive_file.infolist()}


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive_file:
        for name, data in members.items():
            archive_file.writestr(zipfile.ZipInfo(name), data)
    return path


def rewrite(path: Path, name: str, data: bytes, update_sha: bool = False, **meta_changes) -> Path:
    """Replace one member (a valid zip again, new CRC); optionally fix its sha256 in model.json."""
    members = members_of(path)
    members[name] = data
    meta = json.loads(members["model.json"])
    if update_sha:
        meta["members"][name] = archive.sha256(data)
    meta.update(meta_changes)
    members["model.json"] = json.dumps(meta).encode()
    return write_zip(path, members)


def npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


# --- round trip -------------------------------------------------------------------------------

def test_save_writes_the_documented_members_with_their_checksums(model):
    members = members_of(model)
    assert list(members) == ["model.json", "weights.safetensors", "test_input.npy", "test_output.npy", "preview.png"]
    meta = json.loads(members["model.json"])
    assert meta["members"] == {name: archive.sha256(data) for name, data in members.items() if name != "model.json"}
    output = np.load(io.BytesIO(members["test_output.npy"]), allow_pickle=False)
    assert output.dtype == np.float32 and output.shape == (2, 1, 16, 16)
    assert 0 < output.min() and output.max() < 1


def test_metadata_round_trips_with_provenance(model):
    meta = read_metadata(model)
    assert (meta.name, meta.feature, meta.architecture) == ("Tiny membrane", "membrane", ARCH)
    assert (meta.architecture_distribution, meta.architecture_version) == ("tiny-test-dist", "9.9")
    assert (meta.depth, meta.box, meta.pixel_size_A, meta.threshold) == (3, 16, 13.88, 0.4)
    assert meta.normalisation.scale == 2.5 and meta.preprocessing == "gaussian lowpass 30 Å"
    assert meta.training.epochs == 2 and meta.training.history == [{"epoch": 1, "loss": 0.4}]
    assert meta.training.framework_version  # filled in by save_model
    assert meta.created.tzinfo is not None and meta.schema_version == 1


def test_load_gives_the_same_network_in_eval_mode(model, network, registry):
    loaded = load_model(model, registry=registry)
    assert not loaded.network.training and loaded.spec.name == ARCH and loaded.warnings == []
    np.testing.assert_allclose(predict(loaded.network, sample_input()), predict(network, sample_input()), atol=1e-6)
    for key, value in network.state_dict().items():
        assert torch.equal(loaded.network.state_dict()[key], value)


def test_validate_passes_on_an_untouched_package(model, registry):
    report = validate_model(model, registry=registry)
    assert report["passed"] is True and report["max_abs_diff"] <= 1e-6
    assert [c["check"] for c in report["checks"]] == [
        "archive", "metadata", "checksums", "architecture", "weights", "test input", "test output",
        "test run", "test pair"]
    assert all(c["ok"] for c in report["checks"])


def test_predict_gives_eval_mode_probabilities_and_restores_the_training_flag(network):
    x = sample_input()
    probabilities = predict(network, x)
    assert network.training
    with torch.no_grad():
        expected = torch.sigmoid(network.eval()(torch.from_numpy(x))).numpy()
        in_training_mode = torch.sigmoid(network.train()(torch.from_numpy(x))).numpy()
    assert probabilities.dtype == np.float32 and probabilities.shape == (2, 1, 16, 16)
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    assert np.abs(in_training_mode - expected).max() > 1e-3


def test_loading_never_unpickles_or_calls_torch_load(model, registry, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("code from the file would be executed")

    for target, name in [(pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")]:
        monkeypatch.setattr(target, name, forbidden)
    assert load_model(model, registry=registry).metadata.name == "Tiny membrane"
    assert validate_model(model, registry=registry)["passed"]


def test_read_metadata_does_not_import_torch(model):
    code = ("import sys; from ais_framework.model import read_metadata; "
            f"m = read_metadata({str(model)!r}); assert m.feature == 'membrane'; "
            "assert 'torch' not in sys.modules and 'safetensors' not in sys.modules, 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_installed_version_other_than_the_saved_one_is_a_warning(model):
    newer = registry_with(PluginSource("tiny-test", __name__, "tiny-test-dist", "10.0"))
    assert "9.9" in load_model(model, registry=newer).warnings[0]
    assert validate_model(model, registry=newer)["warnings"]


# --- tampering and damage ---------------------------------------------------------------------

def test_changed_weights_are_a_sha256_mismatch_naming_the_member(model, registry):
    weights = bytearray(members_of(model)["weights.safetensors"])
    weights[-1] ^= 0xFF
    rewrite(model, "weights.safetensors", bytes(weights))
    with pytest.raises(InputFileError, match="sha256 of member 'weights.safetensors'"):
        load_model(model, registry=registry)
    failed = validate_model(model, registry=registry)["checks"][-1]
    assert (failed["check"], failed["ok"]) == ("checksums", False)


def test_a_flipped_byte_in_the_zip_is_reported_for_its_member(model, registry):
    with zipfile.ZipFile(model) as archive_file:
        info = archive_file.getinfo("weights.safetensors")  # stored uncompressed
    data = bytearray(model.read_bytes())
    data[info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size - 1] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="weights.safetensors"):
        load_model(model, registry=registry)


def test_changed_test_output_fails_validation(model, registry):
    output = np.load(io.BytesIO(members_of(model)["test_output.npy"]))
    rewrite(model, "test_output.npy", npy(np.clip(output + 0.25, 0, 1).astype(np.float32)), update_sha=True)
    report = validate_model(model, registry=registry)
    assert report["passed"] is False and report["max_abs_diff"] > 0.1
    assert report["checks"][-1]["check"] == "test pair" and not report["checks"][-1]["ok"]
    assert validate_model(model, tolerance=1.0, registry=registry)["passed"]


def test_a_pickled_test_input_is_refused_without_running_it(model, registry, tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    rewrite(model, "test_input.npy", npy(np.array([Payload()], dtype=object), allow_pickle=True), update_sha=True)
    report = validate_model(model, registry=registry)
    failed = report["checks"][-1]
    assert (failed["check"], failed["ok"], report["passed"]) == ("test input", False, False)
    assert "pickle" in failed["detail"].lower() or "object" in failed["detail"].lower()
    assert not marker.exists()


@pytest.mark.parametrize("evil", ["../evil.py", "/etc/evil", "C:/evil", "weights/../../x"])
def test_member_paths_outside_the_package_are_refused(model, registry, evil):
    write_zip(model, {**members_of(model), evil: b"x"})
    with pytest.raises(InputFileError, match="absolute path or '..'"):
        read_metadata(model)
    with pytest.raises(InputFileError, match="refusing"):
        load_model(model, registry=registry)


def test_unexpected_members_are_refused(model):
    write_zip(model, {**members_of(model), "setup.py": b"print('hi')"})
    with pytest.raises(InputFileError, match="unexpected member 'setup.py'"):
        read_metadata(model)


def declare_size(path: Path, name: str, size: int) -> None:
    """Patch the central directory so ``name`` claims ``size`` uncompressed bytes."""
    data = bytearray(path.read_bytes())
    start = data.index(b"PK\x01\x02")
    while True:
        name_length = int.from_bytes(data[start + 28:start + 30], "little")
        if data[start + 46:start + 46 + name_length] == name.encode():
            data[start + 24:start + 28] = size.to_bytes(4, "little")
            path.write_bytes(bytes(data))
            return
        start = data.index(b"PK\x01\x02", start + 46)


def test_a_member_declaring_a_huge_size_is_refused_before_inflating(model, registry, monkeypatch):
    declare_size(model, "weights.safetensors", 0xFFFF0000)

    def no_reading(*args, **kwargs):
        raise AssertionError("a member was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_reading)
    with pytest.raises(InputFileError, match="'weights.safetensors' declares 4294901760 bytes"):
        load_model(model, registry=registry)


def test_reading_stops_at_the_cap_whatever_the_header_says():
    class Endless(io.RawIOBase):
        given = 0

        def read(self, n=-1):
            self.given += n
            return b"\0" * n

    stream = Endless()
    with pytest.raises(InputFileError, match="more than 5000 bytes"):
        archive.read_bounded(stream, 5000, "member 'x'")
    assert stream.given == 5001
    assert archive.read_bounded(io.BytesIO(b"abc"), 3, "member 'x'") == b"abc"


@pytest.mark.parametrize("missing", ["model.json", "weights.safetensors", "test_output.npy"])
def test_a_missing_member_is_named(model, registry, missing):
    members = members_of(model)
    del members[missing]
    write_zip(model, members)
    with pytest.raises(InputFileError, match=f"member {missing} is missing"):
        load_model(model, registry=registry)


def test_a_listed_member_that_is_absent_is_an_error(model, registry):
    members = members_of(model)
    del members["preview.png"]
    write_zip(model, members)
    with pytest.raises(InputFileError, match="'preview.png' is listed in model.json but missing"):
        load_model(model, registry=registry)


def test_a_member_without_a_checksum_is_refused(model, registry):
    members = members_of(model)
    meta = json.loads(members["model.json"])
    del meta["members"]["preview.png"]
    write_zip(model, {**members, "model.json": json.dumps(meta).encode()})
    with pytest.raises(InputFileError, match="'preview.png' has no sha256"):
        load_model(model, registry=registry)


def test_files_that_are_not_packages(tmp_path, registry):
    junk = tmp_path / "junk.aism"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(InputFileError, match="not a zip"):
        read_metadata(junk)
    with pytest.raises(InputFileError, match="no such model file"):
        load_model(tmp_path / "absent.aism", registry=registry)


# --- metadata ----------------------------------------------------------------------------------

def test_a_bad_metadata_field_in_a_file_is_named(model):
    rewrite(model, "test_input.npy", members_of(model)["test_input.npy"], pixel_size_A=-1)
    with pytest.raises(InputFileError, match="field 'pixel_size_A'") as caught:
        read_metadata(model)
    assert str(model) in caught.value.message and caught.value.hint


def test_a_newer_schema_is_refused_with_an_upgrade_hint(model):
    rewrite(model, "test_input.npy", members_of(model)["test_input.npy"], schema_version=2, new_field=1)
    with pytest.raises(InputFileError, match="schema version 2 is newer") as caught:
        read_metadata(model)
    assert "upgrade" in caught.value.hint


def test_metadata_that_is_not_json_is_refused(model):
    write_zip(model, {**members_of(model), "model.json": b"{not json"})
    with pytest.raises(InputFileError, match="not valid JSON"):
        read_metadata(model)


@pytest.mark.parametrize("field, value", [
    ("pixel_size_A", -1), ("pixel_size_A", float("nan")), ("depth", 4), ("threshold", 1.5),
    ("colour", "red"), ("dims", "4d"), ("architecture_options", {"f": object()}), ("surprise", 1),
])
def test_bad_metadata_given_to_save_names_the_field(tmp_path, network, registry, field, value):
    with pytest.raises(UsageError, match=f"field '{field}"):
        save_model(tmp_path / "m.aism", network, metadata(**{field: value}), sample_input(), registry=registry)
    assert not (tmp_path / "m.aism").exists()


def test_metadata_can_be_given_as_a_model(tmp_path, network, registry):
    meta = ModelMetadata(**metadata())
    path = save_model(tmp_path / "m.aism", network, meta, sample_input(), registry=registry)
    assert read_metadata(path).name == meta.name and meta.members == {}  # the caller's copy is untouched


# --- architectures and weights -----------------------------------------------------------------

def test_an_unknown_architecture_says_what_to_install(model):
    with pytest.raises(PluginError, match=f"architecture '{ARCH}' \\(from distribution tiny-test-dist 9.9\\) "
                                          "is not installed") as caught:
        load_model(model, registry=new_registry(load_entry_points=False))
    assert "pip install 'tiny-test-dist==9.9'" in caught.value.hint
    report = validate_model(model, registry=new_registry(load_entry_points=False))
    assert report["checks"][-1]["check"] == "architecture" and not report["passed"]


def test_saving_needs_an_installed_architecture(tmp_path, network):
    with pytest.raises(PluginError, match=ARCH):
        save_model(tmp_path / "m.aism", network, metadata(), sample_input(), registry=new_registry(False))


def test_weights_that_do_not_fit_the_architecture(model, registry):
    rewrite(model, "test_input.npy", members_of(model)["test_input.npy"], architecture_options={"width": 8})
    with pytest.raises(InputFileError, match=f"do not fit architecture '{ARCH}'.*shape"):
        load_model(model, registry=registry)


def test_saving_a_network_that_the_metadata_does_not_describe_is_refused(tmp_path, registry):
    with pytest.raises(InputFileError, match="do not fit"):
        save_model(tmp_path / "m.aism", build_tiny(3, width=6), metadata(), sample_input(), registry=registry)


def test_build_options_the_architecture_rejects(model, registry):
    rewrite(model, "test_input.npy", members_of(model)["test_input.npy"], architecture_options={"colour": 1})
    with pytest.raises(PluginError, match="could not build"):
        load_model(model, registry=registry)


@pytest.mark.parametrize("bad", [np.zeros((1, 5, 16, 16)), np.zeros((3, 16, 16)), np.full((1, 3, 4, 4), np.nan)])
def test_a_test_input_of_the_wrong_layout_is_refused(tmp_path, network, registry, bad):
    with pytest.raises(UsageError, match="test_input"):
        save_model(tmp_path / "m.aism", network, metadata(), bad, registry=registry)


def test_a_preview_must_be_a_png(tmp_path, network, registry):
    with pytest.raises(UsageError, match="PNG"):
        save_model(tmp_path / "m.aism", network, metadata(), sample_input(), b"GIF89a", registry=registry)


# --- command line ------------------------------------------------------------------------------

def test_cli_info(model):
    result = CliRunner().invoke(model_app, ["info", str(model)])
    assert result.exit_code == 0, result.output
    for text in ["Tiny membrane", "membrane", f"{ARCH} (tiny-test-dist 9.9)", "13.88 Å", "depth 3",
                 "gaussian lowpass", "2 epochs", "weights.safetensors"]:
        assert text in result.output
    as_json = CliRunner().invoke(model_app, ["info", str(model), "--json"])
    assert json.loads(as_json.stdout)["members"].keys() >= {"weights.safetensors", "test_input.npy"}


def test_cli_info_on_a_damaged_file_raises_the_error_for_main_to_report(tmp_path):
    (tmp_path / "bad.aism").write_bytes(b"junk")
    result = CliRunner().invoke(model_app, ["info", str(tmp_path / "bad.aism")])
    assert result.exit_code == 1 and isinstance(result.exception, InputFileError)


def test_cli_validate(model, global_registry):
    result = CliRunner().invoke(model_app, ["validate", str(model)])
    assert result.exit_code == 0, result.output
    assert "test pair" in result.stdout and "FAILED" not in result.stdout
    report = json.loads(CliRunner().invoke(model_app, ["validate", str(model), "--json"]).stdout)
    assert report["passed"] is True


def test_cli_validate_failure_exits_1_with_an_error_line(model, global_registry):
    output = np.load(io.BytesIO(members_of(model)["test_output.npy"]))
    rewrite(model, "test_output.npy", npy((output * 0.5).astype(np.float32)), update_sha=True)
    result = CliRunner().invoke(model_app, ["validate", str(model)])
    assert result.exit_code == 1
    assert "error:" in result.stderr and "the test pair check failed" in result.stderr
    assert CliRunner().invoke(model_app, ["validate", str(model), "--tolerance", "1"]).exit_code == 0
