"""A wheel built from the repository installs into a clean virtual environment and works there.

The package list comes from pyproject's [tool.setuptools] table, so the checks grow with it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
PACKAGES: list[str] = SETUPTOOLS["packages"]
PACKAGE_DIRS: dict[str, str] = SETUPTOOLS["package-dir"]
GENERIC_NAMES = ("plugins", "repository_client", "repository_server", "tests", "benchmarks")
LAZY = {"torch", "torchvision", "lightning", "pytorch-lightning", "textual"}  # imported inside functions


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, cwd=cwd, env=env,
                            timeout=900)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def copy_sources(target: Path) -> Path:
    """What a source distribution holds: pyproject, README and the package folders (no build leftovers)."""
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    target.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, target / name)
    for folder in set(PACKAGE_DIRS.values()):
        shutil.copytree(ROOT / folder, target / folder, ignore=junk)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = copy_sources(work / "src")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", source, cwd=work)
    (found,) = (work / "dist").glob("*.whl")
    return found


def runtime_requirements(wheel: Path) -> list[str]:
    """The wheel's own Requires-Dist, without extras, and without the heavy libraries.

    Those are imported lazily, so everything checked here must work without them; leaving
    them out also keeps this test from installing gigabytes.
    """
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(name).decode())
    requirements = [Requirement(line) for line in metadata.get_all("Requires-Dist") or []]
    wanted = [r for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]
    return [str(r) for r in wanted if canonicalize_name(r.name) not in LAZY]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A virtual environment without system site-packages, holding the wheel and its light dependencies."""
    env = tmp_path_factory.mktemp("venv") / "env"
    run(sys.executable, "-m", "venv", env, cwd=env.parent)
    pip = (env / "bin" / "python", "-m", "pip", "install", "-q")
    run(*pip, *runtime_requirements(wheel), cwd=env.parent)
    run(*pip, "--no-deps", wheel, cwd=env.parent)
    return env


def in_venv(env: Path, program: str, *args: str) -> subprocess.CompletedProcess:
    """Run one of the venv's programs, outside the repository so that nothing imports from it."""
    return run(env / "bin" / program, *args, cwd=env.parent)


def site_packages(env: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    return Path(in_venv(env, "python", "-c", code).stdout.strip())


def test_every_package_folder_is_listed_in_pyproject():
    """A sub-package missing from [tool.setuptools] packages would silently be left out of the wheel."""
    on_disk = set()
    for package, folder in PACKAGE_DIRS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            on_disk.add(".".join([package, *parts]))
    missing, stale = sorted(on_disk - set(PACKAGES)), sorted(set(PACKAGES) - on_disk)
    assert (missing, stale) == ([], []), f"pyproject [tool.setuptools] packages: add {missing}, remove {stale}"


@pytest.mark.slow
def test_wheel_holds_only_prefixed_top_level_names(wheel):
    with zipfile.ZipFile(wheel) as archive:
        top = {name.split("/", 1)[0] for name in archive.namelist()}
    expected = {p.split(".")[0] for p in PACKAGES}
    assert {t for t in top if not t.endswith(".dist-info")} == expected


@pytest.mark.slow
def test_every_package_imports_from_site_packages(venv):
    code = f"import importlib as i, json; print(json.dumps({{p: i.import_module(p).__file__ for p in {PACKAGES!r}}}))"
    files = json.loads(in_venv(venv, "python", "-c", code).stdout)
    site = site_packages(venv)
    assert {"ais_framework", "ais_plugins", "ais_plugins.io", "ais_repository_client"} <= set(files)
    for package, file in files.items():
        assert Path(file).is_relative_to(site), f"{package} imported from {file}, not from {site}"


@pytest.mark.slow
def test_no_generic_top_level_package_is_installed(venv):
    site = site_packages(venv)
    assert [name for name in GENERIC_NAMES if (site / name).exists() or (site / f"{name}.py").exists()] == []
    code = "import importlib.util as u; print([n for n in %r if u.find_spec(n)])" % (GENERIC_NAMES,)
    assert in_venv(venv, "python", "-c", code).stdout.strip() == "[]"


@pytest.mark.slow
def test_installed_cli_runs_and_loads_the_builtins(venv):
    version = in_venv(venv, "ais-fw", "--version").stdout
    assert version == f"ais-fw {PYPROJECT['project']['version']}\n"
    listing = json.loads(in_venv(venv, "ais-fw", "plugins", "--json").stdout)
    assert listing["failures"] == []
    mrc = [p for p in listing["plugins"] if (p["kind"], p["name"]) == ("volume_format", "mrc")]
    assert [(p["distribution"], p["module"]) for p in mrc] == [("ais-fw", "ais_plugins.io.mrc")]


@pytest.mark.slow
def test_lazy_libraries_are_really_absent(venv):
    """Proves the checks above ran without torch & co. (the wheel must not need them to start)."""
    modules = sorted(name.replace("-", "_") for name in LAZY)
    code = "import importlib.util as u; print([n for n in %r if u.find_spec(n)])" % (modules,)
    assert in_venv(venv, "python", "-c", code).stdout.strip() == "[]"
