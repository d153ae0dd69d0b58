"""Write new plugin packages from templates: ``ais-fw plugins new architecture NAME``.

The package is ready to publish: a pyproject.toml declaring the module under the
``ais_fw`` entry-point group, the architecture template renamed for NAME, a test that runs
the contract (``ais_framework.testing.check_architecture``) and a README.
"""
from __future__ import annotations

import keyword
import os
import re
from pathlib import Path

from . import __version__
from .errors import UsageError

TEMPLATES = Path(__file__).parent / "templates"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# The template's placeholders, replaced in this order.
TEMPLATE_MODULE, TEMPLATE_NAME, TEMPLATE_TITLE = "my_package_module", "my_network", "My Network"


def check_plugin_name(name: str) -> None:
    """A plugin name is a lowercase Python identifier (it is stored in saved models and used as a module name)."""
    if not NAME_PATTERN.match(name) or keyword.iskeyword(name) or name.endswith("_") or "__" in name:
        raise UsageError(
            f"invalid architecture name {name!r}",
            "use 1 to 40 lowercase letters, digits and single '_' inside, starting with a letter, e.g. 'tiny_unet'",
        )


def package_names(name: str) -> dict[str, str]:
    """The distribution, folder, module and title names of the package for plugin ``name``."""
    dist = f"ais-fw-arch-{name.replace('_', '-')}"
    return {"distribution": dist, "folder": dist, "module": f"ais_fw_arch_{name}",
            "title": name.replace("_", " ").title()}


def new_architecture_package(name: str, outdir: str | os.PathLike = ".") -> Path:
    """Write the package ``ais-fw-arch-NAME/`` into ``outdir``; returns its folder.

    Raises :class:`UsageError` for an invalid name, a name an installed architecture already
    has, or a folder that already exists (nothing is overwritten).
    """
    check_plugin_name(name)
    _check_not_installed(name)
    names = package_names(name)
    root = Path(outdir) / names["folder"]
    if root.exists():
        raise UsageError(f"{root} already exists", "choose another output folder (-o) or remove it")
    files = {
        "pyproject.toml": _pyproject(name, names),
        "README.md": _readme(name, names),
        f"src/{names['module']}.py": _module_source(name, names),
        "tests/test_contract.py": _test_source(name, names),
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _check_not_installed(name: str) -> None:
    from .plugins import get_registry

    found = get_registry().specs("architecture").get(name)
    if found is not None:
        raise UsageError(
            f"an architecture named {name!r} is already installed (from {found.source.distribution})",
            "names must be unique across all installed plugins; choose another",
        )


def _module_source(name: str, names: dict[str, str]) -> str:
    text = (TEMPLATES / "architecture_template.py").read_text(encoding="utf-8")
    for old, new in ((TEMPLATE_MODULE, names["module"]), (TEMPLATE_NAME, name), (TEMPLATE_TITLE, names["title"])):
        text = text.replace(old, new)
    return text


def _requirement() -> str:
    release = re.match(r"(\d+)\.(\d+)", __version__)
    return f"ais-fw>={release[1]}.{release[2]}" if release and __version__ != "0.0.0+unknown" else "ais-fw"


def _pyproject(name: str, names: dict[str, str]) -> str:
    return f'''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{names['distribution']}"
version = "0.1.0"
description = "{names['title']}: a network architecture plugin for ais-fw (cryo-ET segmentation)"
readme = "README.md"
requires-python = ">=3.10"
# Add your licence here before publishing, e.g.  license = "MIT"
dependencies = ["{_requirement()}", "torch"]

[project.optional-dependencies]
test = ["pytest"]

# This is what makes ais-fw find the network: one entry point in the ais_fw group.
[project.entry-points.ais_fw]
arch_{name} = "{names['module']}"

[tool.setuptools]
package-dir = {{ "" = "src" }}
py-modules = ["{names['module']}"]
'''


def _readme(name: str, names: dict[str, str]) -> str:
    return f"""# {names['distribution']}

{names['title']}: a network architecture for [ais-fw](https://pypi.org/project/ais-fw/),
registered under the name `{name}`.

The network lives in `src/{names['module']}.py`; change the layers in `build()`.
Keep `NAME` once models have been trained with it: saved models refer to it.

## Develop

```bash
pip install -e ".[test]"
ais-fw plugins          # lists architecture `{name}` from {names['distribution']}
pytest                  # runs the ais-fw architecture contract, including one training step
```

## Publish

```bash
python -m build
python -m twine upload dist/*
```

Users then `pip install {names['distribution']}` and select the architecture `{name}`.
"""


def _test_source(name: str, names: dict[str, str]) -> str:
    return f'''"""The ais-fw architecture contract: shapes, dtype, parameters, one training step, reloading."""
from ais_framework.plugins import get_registry
from ais_framework.testing import check_architecture

import {names['module']} as plugin


def test_network_meets_the_contract():
    (spec,) = plugin.ais_fw_architectures()
    result = check_architecture(spec)
    assert result["params"] > 0


def test_installed_package_registers_the_network():
    """Needs the package installed (pip install -e .): ais-fw finds it through its entry point."""
    entry = get_registry().specs("architecture")["{name}"]
    assert entry.source.distribution == "{names['distribution']}"
    check_architecture("{name}", box=32)
'''
