"""Installed models: where models from a repository live, and how a name becomes a file.

Every model installed with ``ais-fw install-model`` is a package file plus a small record in
``{home}/models/``: ``NAME@VERSION.aism`` and ``NAME@VERSION.json`` (name, version, sha256,
repository, when). The record is written last, so a half-finished install is never listed.
``home`` is the platform's user cache folder for ais-fw, or ``$AIS_FW_HOME`` when set.

:func:`resolve_model` lets every command that takes a model path also take an installed
model's ``NAME`` (newest installed version) or ``NAME@VERSION``. Nothing here imports torch.
"""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..atomic import write_text_atomic
from ..errors import InputFileError, UsageError

HOME_VARIABLE = "AIS_FW_HOME"
#: a model name in a repository: letters, digits, ``_ . -``; no ``@`` and no path separators
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}"
VERSION_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.+\-]{0,39}"
INSTALL_HINT = "install one with `ais-fw install-model NAME` (`ais-fw search` lists what a repository has)"


def home_dir() -> Path:
    """The folder that holds ais-fw's installed models and download cache."""
    configured = os.environ.get(HOME_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ais-fw", appauthor=False))


def models_dir() -> Path:
    return home_dir() / "models"


def downloads_dir() -> Path:
    """Partial and finished downloads, named by their sha256 (so a resumed download finds its part)."""
    return home_dir() / "downloads"


def parse_reference(text: str) -> tuple[str, str | None]:
    """``NAME`` or ``NAME@VERSION`` → (name, version or None); a clear usage error otherwise."""
    name, _, version = text.strip().partition("@")
    if not re.fullmatch(NAME_PATTERN, name) or ("@" in text and not re.fullmatch(VERSION_PATTERN, version)):
        raise UsageError(f"'{text}' is not a model name", "write NAME or NAME@VERSION, e.g. ribosome_10A@2")
    return name, version or None


def version_key(version: str) -> tuple:
    """Sort key for versions: ``2 < 10``, ``1.2 < 1.10``; text parts sort after numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.\-+_]", version))


def _stem(name: str, version: str) -> str:
    return f"{name}@{version}"


def installed_models() -> list[dict[str, Any]]:
    """Every installed model's record plus ``path``, sorted by name and version."""
    folder = models_dir()
    records = []
    for record_file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = _read_record(record_file)
        if record is not None:
            records.append(record)
    return sorted(records, key=lambda r: (r["name"], version_key(r["version"])))


def _read_record(record_file: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not {"name", "version"} <= set(record):
        return None
    path = record_file.with_suffix(".aism")
    return {**record, "path": str(path)} if path.is_file() else None


def find_installed(name: str, version: str | None = None) -> dict[str, Any] | None:
    """The record of ``name`` at ``version`` (newest when None), or None when not installed."""
    matches = [r for r in installed_models() if r["name"] == name and version in (None, r["version"])]
    return matches[-1] if matches else None


def add_installed(package: Path, name: str, version: str, **facts: Any) -> Path:
    """Move the verified ``package`` file into place as ``name@version``; returns its new path.

    The move is a rename within the home folder (atomic); the record follows it atomically.
    """
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{_stem(name, version)}.aism"
    os.replace(package, target)
    record = {"name": name, "version": version, **facts,
              "installed": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_text_atomic(target.with_suffix(".json"), json.dumps(record, indent=2))
    return target


def remove_installed(name: str, version: str | None = None) -> list[dict[str, Any]]:
    """Uninstall every installed version of ``name`` (or just ``version``); returns what was removed."""
    removed = [r for r in installed_models() if r["name"] == name and version in (None, r["version"])]
    if not removed:
        raise UsageError(f"model '{name}{'@' + version if version else ''}' is not installed",
                         f"installed: {_installed_names()}")
    for record in removed:
        path = Path(record["path"])
        path.with_suffix(".json").unlink(missing_ok=True)  # the record first: never a listed, missing file
        path.unlink(missing_ok=True)
    return removed


def _installed_names() -> str:
    names = sorted({f"{r['name']}@{r['version']}" for r in installed_models()})
    return ", ".join(names) if names else "none"


def resolve_model(text: str | os.PathLike) -> Path:
    """The package file for ``text``: an existing file path as is, else an installed NAME[@VERSION].

    Unknown names raise :class:`InputFileError` listing the installed models.
    """
    path = Path(text)
    if path.is_file():
        return path
    raw = str(text)
    looks_like_path = raw.endswith(".aism") or os.sep in raw or "/" in raw
    if not looks_like_path and re.fullmatch(f"{NAME_PATTERN}(@{VERSION_PATTERN})?", raw):
        name, version = parse_reference(raw)
        record = find_installed(name, version)
        if record is not None:
            return Path(record["path"])
    what = "no such model file" if looks_like_path else "no such model file or installed model"
    raise InputFileError(f"{raw}: {what} (installed: {_installed_names()})", INSTALL_HINT)
