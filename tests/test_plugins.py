"""The plugin registry, tested the way a user meets it: third-party distributions installed
on the path and the real ``ais-fw`` command run in a subprocess."""
from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import types
from pathlib import Path

import numpy as np
import pytest

import ais_framework
from ais_framework import hookimpl, hookspecs, specs
from ais_framework.errors import PluginError, UnknownNameError
from ais_framework.plugins import PluginSource, new_registry

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

NPYVOL_PLUGIN = '''
import json
from pathlib import Path

import numpy as np

from ais_framework import hookimpl
from ais_framework.specs import VolumeFormatSpec
from ais_framework.volume import Volume


def read(path, pixel_size=None):
    """A .npyvol file is a .npy array; its pixel size (Å) sits in the sidecar FILE.json."""
    meta = json.loads(Path(str(path) + ".json").read_text())
    return Volume(data=np.load(path, mmap_mode="r"), pixel_size=meta["pixel_size_A"], path=Path(path))


@hookimpl
def ais_fw_volume_formats():
    return [VolumeFormatSpec(name="npyvol", title="NumPy volume with a JSON sidecar",
                             extensions=(".npyvol",), read=read)]
'''


def spec_plugin(hook: str, spec_class: str, name: str, body: str = "") -> str:
    """Source of a plugin module whose hook returns one spec of ``spec_class`` called ``name``."""
    fields = "extensions=('.x',)" if "Format" in spec_class else "pick=print" if "Picker" in spec_class else ""
    return textwrap.dedent(f"""
        from ais_framework import hookimpl
        from ais_framework.specs import {spec_class}

        @hookimpl
        def {hook}():
            {body or 'pass'}
            return [{spec_class}(name={name!r}, title='test', {fields})]
    """)


def install_plugin(site: Path, module: str, source: str, dist: str, version: str = "1.0",
                   entry_name: str | None = None) -> None:
    """A plugin distribution as pip leaves it: the module plus a real .dist-info folder."""
    site.mkdir(exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[ais_fw]\n{entry_name or module} = {module}\n")


def ais_fw(*args: str, site: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``ais-fw`` script, with ``site`` on the path when given."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AIS_FW_DEBUG")}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    script = Path(sysconfig.get_path("scripts")) / "ais-fw"
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=env,
                          cwd=site or ROOT, timeout=120)


def listing(*args: str, site: Path | None = None) -> dict:
    result = ais_fw("plugins", "--json", *args, site=site)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def failure_of(data: dict, plugin: str) -> dict:
    found = [f for f in data["failures"] if f["plugin"] == plugin]
    assert found, f"no failure reported for {plugin}: {data['failures']}"
    return found[0]


def assert_one_error(stderr: str, *needles: str) -> None:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr
    assert lines[0].startswith("error: ") and all(n in lines[0] for n in needles), stderr
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), stderr


# ---- a third-party plugin ------------------------------------------------------------

def test_third_party_plugin_is_listed_with_its_distribution(tmp_path):
    install_plugin(tmp_path, "ais_fw_npyvol_plugin", NPYVOL_PLUGIN, "ais-fw-npyvol-plugin", "0.3.1", "npyvol")
    data = listing(site=tmp_path)
    found = [p for p in data["plugins"] if p["name"] == "npyvol"]
    assert found == [{
        "kind": "volume_format", "name": "npyvol", "title": "NumPy volume with a JSON sidecar",
        "plugin": "npyvol", "module": "ais_fw_npyvol_plugin",
        "distribution": "ais-fw-npyvol-plugin", "version": "0.3.1",
    }]
    assert "mrc" in {p["name"] for p in data["plugins"]}


def test_framework_reads_volumes_through_a_third_party_plugin(tmp_path):
    site, tomo = tmp_path / "site", tmp_path / "tomo.npyvol"
    install_plugin(site, "ais_fw_npyvol_plugin", NPYVOL_PLUGIN, "ais-fw-npyvol-plugin", "0.3.1")
    with open(tomo, "wb") as out:
        np.save(out, np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    Path(f"{tomo}.json").write_text(json.dumps({"pixel_size_A": 7.5}))

    result = ais_fw("info", str(tomo), "--json", site=site)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["shape_zyx"] == [2, 3, 4] and facts["dtype"] == "float32"
    assert facts["pixel_size_A"] == 7.5
    assert (facts["min"], facts["max"], facts["mean"]) == (0.0, 23.0, 11.5)

    without = ais_fw("info", str(tomo), "--json", site=tmp_path)  # the same files, no plugin
    assert without.returncode == 1
    assert_one_error(without.stderr, "cannot read files ending in '.npyvol'")


# ---- failures ------------------------------------------------------------------------

BROKEN_ON_IMPORT = "raise RuntimeError('needs libfoo 2.0')\n"


def test_plugin_failing_on_import_is_reported_and_skipped(tmp_path):
    install_plugin(tmp_path, "ais_fw_broken", BROKEN_ON_IMPORT, "ais-fw-broken", "2.1")
    install_plugin(tmp_path, "ais_fw_npyvol_plugin", NPYVOL_PLUGIN, "ais-fw-npyvol-plugin", "0.3.1")
    data = listing(site=tmp_path)
    failure = failure_of(data, "ais_fw_broken")
    assert failure["error"] == "RuntimeError: needs libfoo 2.0"
    assert (failure["distribution"], failure["version"]) == ("ais-fw-broken", "2.1")
    assert {"mrc", "npyvol"} <= {p["name"] for p in data["plugins"]}

    table = ais_fw("plugins", site=tmp_path)
    assert table.returncode == 0
    assert "ais_fw_broken (ais-fw-broken 2.1): RuntimeError: needs libfoo 2.0" in table.stderr


def test_strict_turns_a_failed_plugin_into_a_one_line_error(tmp_path):
    install_plugin(tmp_path, "ais_fw_broken", BROKEN_ON_IMPORT, "ais-fw-broken", "2.1")
    result = ais_fw("plugins", "--strict", site=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert_one_error(result.stderr, "failed", "RuntimeError")


def test_plugin_whose_hook_raises_is_a_failure(tmp_path):
    source = spec_plugin("ais_fw_pickers", "PickerSpec", "boom", body="raise ValueError('picker table missing')")
    install_plugin(tmp_path, "ais_fw_bad_picker", source, "ais-fw-bad-picker")
    data = listing(site=tmp_path)
    assert failure_of(data, "ais_fw_bad_picker")["error"] == "ais_fw_pickers raised ValueError: picker table missing"
    assert "boom" not in {p["name"] for p in data["plugins"]}
    assert ais_fw("plugins", "--strict", site=tmp_path).returncode == 1


def test_hook_returning_something_else_than_specs_is_a_failure(tmp_path):
    source = spec_plugin("ais_fw_pickers", "VolumeFormatSpec", "wrongkind")  # a format from the picker hook
    install_plugin(tmp_path, "ais_fw_confused", source, "ais-fw-confused")
    data = listing(site=tmp_path)
    expected = "ais_fw_pickers returned a VolumeFormatSpec, not a picker spec"
    assert failure_of(data, "ais_fw_confused")["error"] == expected
    assert "wrongkind" not in {p["name"] for p in data["plugins"]}


def test_misspelt_hook_is_a_failure(tmp_path):
    source = spec_plugin("ais_fw_picker", "PickerSpec", "typo")
    install_plugin(tmp_path, "ais_fw_typo", source, "ais-fw-typo")
    data = listing(site=tmp_path)
    assert failure_of(data, "ais_fw_typo")["error"] == "'ais_fw_picker' is not an ais-fw hook"


# ---- duplicate names -----------------------------------------------------------------

def test_two_plugins_claiming_one_name_is_an_error_naming_both(tmp_path):
    install_plugin(tmp_path, "ais_fw_npyvol_plugin", NPYVOL_PLUGIN, "ais-fw-npyvol-plugin", "0.3.1")
    install_plugin(tmp_path, "other_npyvol", spec_plugin("ais_fw_volume_formats", "VolumeFormatSpec", "npyvol"),
                   "other-npyvol", "9.0")
    result = ais_fw("plugins", "--json", site=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert_one_error(result.stderr, "'npyvol'", "ais_fw_npyvol_plugin", "ais-fw-npyvol-plugin 0.3.1",
                     "other_npyvol", "other-npyvol 9.0")


def test_plugin_claiming_a_builtin_name_is_an_error_naming_both(tmp_path):
    install_plugin(tmp_path, "fake_mrc", spec_plugin("ais_fw_volume_formats", "VolumeFormatSpec", "mrc"), "fake-mrc")
    result = ais_fw("plugins", site=tmp_path)
    assert result.returncode == 1
    assert_one_error(result.stderr, "'mrc'", f"ais-fw {ais_framework.__version__}", "fake-mrc 1.0")


def test_two_distributions_with_one_entry_point_name_is_an_error(tmp_path):
    install_plugin(tmp_path, "first_mod", spec_plugin("ais_fw_pickers", "PickerSpec", "a"), "first-dist",
                   entry_name="dup")
    install_plugin(tmp_path, "second_mod", spec_plugin("ais_fw_pickers", "PickerSpec", "b"), "second-dist",
                   entry_name="dup")
    result = ais_fw("plugins", site=tmp_path)
    assert result.returncode == 1
    assert_one_error(result.stderr, "'dup'", "first-dist", "second-dist")


# ---- the builtins --------------------------------------------------------------------

def declared_builtins() -> dict[str, str]:
    return PYPROJECT["project"]["entry-points"]["ais_fw"]


def test_builtins_load_and_come_from_ais_fw():
    data = listing()
    builtin_failures = [f for f in data["failures"] if f["plugin"] in declared_builtins()]
    assert builtin_failures == []
    builtins = [p for p in data["plugins"] if p["module"] in declared_builtins().values()]
    assert {p["plugin"] for p in builtins} <= set(declared_builtins())
    assert {(p["distribution"], p["version"]) for p in builtins} == {("ais-fw", ais_framework.__version__)}
    assert ("volume_format", "mrc") in {(p["kind"], p["name"]) for p in builtins}


# ---- the registry in-process ---------------------------------------------------------

def plugin_module(name: str, **hooks) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


def test_failures_are_reported_once_however_often_they_are_read():
    registry = new_registry(load_entry_points=False)
    source = PluginSource("flaky", "flaky", "flaky-dist", "1.0")
    registry.register_module(plugin_module("flaky", ais_fw_pickers=lambda: 1 / 0), source)
    assert len(registry.failures) == 1
    good = specs.PickerSpec(name="blob", title="Blob", pick=print)
    registry.register_module(plugin_module("good", ais_fw_pickers=lambda: [good]),
                             PluginSource("good", "good", "good-dist", "1.0"))
    assert [f.plugin for f in registry.failures] == ["flaky"]
    assert registry.get("picker", "blob") is good
    with pytest.raises(UnknownNameError, match="unknown picker 'nope'"):
        registry.get("picker", "nope")


def test_hook_with_wrong_arguments_cannot_be_registered():
    registry = new_registry(load_entry_points=False)
    module = plugin_module("wrong", ais_fw_pickers=lambda volume: [])
    with pytest.raises(PluginError, match="'wrong' cannot be registered"):
        registry.register_module(module, PluginSource("wrong", "wrong", "wrong-dist", "1.0"))


# ---- meta-tests: hooks documented, builtin plugin modules declared -------------------

def hookspec_functions() -> dict[str, object]:
    marker = f"{ais_framework.PROJECT_NAME}_spec"
    return {name: f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, marker)}


def test_every_hook_is_documented_and_has_a_kind():
    hooks = hookspec_functions()
    assert hooks, "no hookspecs found"
    assert set(hooks) == set(hookspecs.HOOK_KINDS)
    for name, function in hooks.items():
        assert (function.__doc__ or "").strip(), f"hook {name} has no docstring"
    assert set(hookspecs.HOOK_KINDS.values()) == set(specs.PLUGIN_KINDS)


def module_for(path: Path) -> str:
    """The installed module name of a source file, through [tool.setuptools] package-dir."""
    relative = path.relative_to(ROOT).with_suffix("")
    for package, folder in PYPROJECT["tool"]["setuptools"]["package-dir"].items():
        if relative.parts[: len(Path(folder).parts)] == Path(folder).parts:
            return ".".join([package, *relative.parts[len(Path(folder).parts):]])
    raise AssertionError(f"{path} is in no package of pyproject's package-dir")


def hookimpl_names(path: Path) -> list[str]:
    """Names of the functions in ``path`` decorated with ``hookimpl`` (found without importing)."""
    def is_hookimpl(node: ast.expr) -> bool:
        node = node.func if isinstance(node, ast.Call) else node
        return getattr(node, "id", getattr(node, "attr", None)) == "hookimpl"

    tree = ast.parse(path.read_text(), filename=str(path))
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return [f.name for f in functions if any(map(is_hookimpl, f.decorator_list))]


def builtin_plugin_files() -> dict[Path, list[str]]:
    files = sorted((ROOT / "plugins").rglob("*.py"))
    found = {f: hookimpl_names(f) for f in files if f.name != "__init__.py"}
    return {f: names for f, names in found.items() if names}


def test_every_builtin_plugin_module_is_declared_as_an_entry_point():
    declared = set(declared_builtins().values())
    files = builtin_plugin_files()
    assert files, "no builtin plugin modules found under plugins/"
    missing = [module_for(f) for f in files if module_for(f) not in declared]
    assert missing == [], f"add these to [project.entry-points.ais_fw] in pyproject.toml: {missing}"


def test_every_declared_builtin_exists_and_implements_only_known_hooks():
    files = {module_for(f): names for f, names in builtin_plugin_files().items()}
    for entry, module in declared_builtins().items():
        assert module in files, f"entry point {entry} = {module}: no such module with hooks under plugins/"
        unknown = set(files[module]) - set(hookspecs.HOOK_KINDS)
        assert not unknown, f"{module} marks {unknown} as hooks; known: {sorted(hookspecs.HOOK_KINDS)}"


def test_hookimpl_finder_sees_decorated_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import ais_framework\n@ais_framework.hookimpl\ndef ais_fw_pickers(): pass\n"
                      "@hookimpl(tryfirst=True)\ndef ais_fw_interactions(): pass\ndef helper(): pass\n")
    assert hookimpl_names(sample) == ["ais_fw_pickers", "ais_fw_interactions"]
