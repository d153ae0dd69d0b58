"""A third-party interaction rule installed as a distribution (module + real .dist-info with an
entry point), used from a pipeline file exactly like the builtins."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ais_framework.errors import InputFileError, PluginError
from ais_framework.pipeline import halo_slices, load_pipeline, postprocess
from ais_framework.plugins import new_registry

MODULE = "ais_fw_gate_rule"
PLUGIN = '''
import numpy as np

from ais_framework import hookimpl
from ais_framework.specs import InteractionSpec


def gate(child, parent, *, threshold, radius_px, ball=False):
    """Keep the child only where the parent itself is present (the radius is ignored)."""
    return np.multiply(child, parent > threshold, dtype=np.float32)


def broken(child, parent, *, threshold, radius_px, ball=False):
    return child[:1]


@hookimpl
def ais_fw_interactions():
    return [InteractionSpec(name="gate", title="Gate", apply=gate),
            InteractionSpec(name="broken_rule", title="Broken", apply=broken)]
'''
PIPELINE = """\
[[model]]
path = "a.aism"
name = "carbon"
[[model]]
path = "b.aism"
name = "membrane"
[[interaction]]
child = "membrane"
parent = "carbon"
kind = "{kind}"
radius_nm = 2.5
threshold = 0.5
"""


def install(site: Path) -> None:
    """The plugin as pip leaves it: the module and its .dist-info with an ``ais_fw`` entry point."""
    site.mkdir()
    (site / f"{MODULE}.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "ais_fw_gate-0.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ais-fw-gate\nVersion: 0.2\n")
    (info / "entry_points.txt").write_text(f"[ais_fw]\ngate = {MODULE}\n")


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A registry loaded from the entry points, with the plugin's site folder on the path."""
    install(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield new_registry()
    sys.modules.pop(MODULE, None)


def pipeline_file(folder: Path, kind: str) -> Path:
    for name in ("a.aism", "b.aism"):
        (folder / name).write_bytes(b"")
    path = folder / "pipeline.toml"
    path.write_text(PIPELINE.format(kind=kind))
    return path


def test_a_third_party_rule_is_used_from_a_pipeline_file(tmp_path, registry):
    entry = registry.specs("interaction")["gate"]
    assert (entry.source.distribution, entry.source.version, entry.source.module) == ("ais-fw-gate", "0.2", MODULE)
    pipeline = load_pipeline(pipeline_file(tmp_path, "gate"), registry=registry)
    carbon = np.array([[[0.9, 0.2, 0.6]]], np.float32)
    membrane = np.array([[[0.7, 0.8, 0.3]]], np.float32)
    result = postprocess({"carbon": carbon, "membrane": membrane}, pipeline, 10.0, registry=registry)
    assert np.array_equal(result["membrane"], np.array([[[0.7, 0.0, 0.3]]], np.float32))
    assert halo_slices(pipeline, 10.0, registry=registry) == 3  # no halo declared: ceil(2.5 px) assumed


def test_a_rule_returning_the_wrong_shape_is_named(tmp_path, registry):
    pipeline = load_pipeline(pipeline_file(tmp_path, "broken_rule"), registry=registry)
    probs = {name: np.zeros((4, 2, 2), np.float32) for name in ("carbon", "membrane")}
    with pytest.raises(PluginError, match="interaction 'broken_rule' returned \\(1, 2, 2\\)"):
        postprocess(probs, pipeline, 10.0, registry=registry)


def test_without_the_plugin_the_kind_is_unknown_and_the_installed_ones_are_listed(tmp_path):
    with pytest.raises(InputFileError) as caught:
        load_pipeline(pipeline_file(tmp_path, "gate"), registry=new_registry())
    assert "line 10" in caught.value.message and "unknown interaction kind 'gate'" in caught.value.message
    assert caught.value.hint.startswith("installed: avoid, colocalize")


def test_ais_fw_plugins_lists_the_rule_with_its_distribution(tmp_path):
    install(tmp_path / "site")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AIS_FW_DEBUG")}
    env["PYTHONPATH"] = str(tmp_path / "site")
    script = Path(sysconfig.get_path("scripts")) / "ais-fw"
    result = subprocess.run([str(script), "plugins", "--json"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    rules = {p["name"]: p["distribution"] for p in json.loads(result.stdout)["plugins"] if p["kind"] == "interaction"}
    assert rules == {"gate": "ais-fw-gate", "broken_rule": "ais-fw-gate", "colocalize": "ais-fw",
                     "avoid": "ais-fw", "competition": "ais-fw"}
