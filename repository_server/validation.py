"""Checks an uploaded package before anyone else may download it.

1. the zip is safe to unpack: no absolute or ``..`` names, no symlinks, no directories,
   few members, and a bounded total unpacked size (decompression is also bounded while reading);
2. :func:`ais_framework.model.validate_model`: metadata schema, the sha256 of every member,
   the architecture plugin is installed here, and the test input re-run matches the stored
   output within the tolerance;
3. the repository name and version are well formed.

The result is a report (a dict stored with the upload), never an exception.
"""
from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path
from typing import Any

from ais_framework.model.installed import NAME_PATTERN, VERSION_PATTERN

MAX_MEMBERS = 16


def check_zip(path: Path, max_unpacked: int) -> str:
    """Raises ``ValueError`` naming the first unsafe thing in the zip; returns a summary."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"not a zip file ({exc})") from exc
    if len(infos) > MAX_MEMBERS:
        raise ValueError(f"{len(infos)} members; a model package has at most {MAX_MEMBERS}")
    for info in infos:
        _check_member(info)
    unpacked = sum(info.file_size for info in infos)
    if unpacked > max_unpacked:
        raise ValueError(f"members unpack to {unpacked} bytes, more than the {max_unpacked} allowed")
    return f"{len(infos)} members, {unpacked} bytes unpacked"


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = re.split(r"[/\\]", name)
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise ValueError(f"member '{name}' would unpack outside the package (absolute path or '..')")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ValueError(f"member '{name}' is a symbolic link")
    if info.is_dir() or len(parts) > 1:
        raise ValueError(f"member '{name}' is inside a folder; packages are flat")


def validate_upload(path: Path, max_unpacked: int, tolerance: float, name: str | None = None) -> dict[str, Any]:
    """The validation report of the package at ``path``: ``passed``, ``checks``, ``name``, ``version``, ...

    ``name`` overrides the name in model.json (the repository name the uploader asked for).
    """
    report: dict[str, Any] = {"passed": False, "checks": [], "warnings": [], "name": name, "version": None,
                              "metadata": None}
    try:
        summary = check_zip(path, max_unpacked)
    except ValueError as exc:
        report["checks"].append(_check("safe unpacking", False, str(exc), "repack it with `ais-fw train` or "
                                       "ais_framework.model.save_model"))
        return report
    report["checks"].append(_check("safe unpacking", True, summary))
    _run_model_checks(report, path, tolerance)
    if report["metadata"] is not None:
        _name_check(report, report["metadata"])
    report["passed"] = all(check["ok"] for check in report["checks"])
    return report


def _run_model_checks(report: dict[str, Any], path: Path, tolerance: float) -> None:
    from ais_framework.model import read_metadata, validate_model
    from ais_framework.errors import AisError

    result = validate_model(path, tolerance=tolerance)
    report["checks"] += result["checks"]
    report["warnings"] += result["warnings"]
    report["max_abs_diff"], report["tolerance"] = result["max_abs_diff"], tolerance
    if any(c["check"] == "metadata" and c["ok"] for c in result["checks"]):
        try:
            report["metadata"] = read_metadata(path).model_dump(mode="json")
        except AisError:
            pass


def _name_check(report: dict[str, Any], metadata: dict[str, Any]) -> None:
    name = report["name"] or metadata["name"]
    version = metadata["version"]
    report["name"], report["version"] = name, version
    if not re.fullmatch(NAME_PATTERN, name):
        report["checks"].append(_check("name", False, f"'{name}' is not a repository name",
                                       "use letters, digits, '_', '.', '-', e.g. ribosome_10A"))
    elif not re.fullmatch(VERSION_PATTERN, version):
        report["checks"].append(_check("name", False, f"version '{version}' is not a version",
                                       "use e.g. 1, 2 or 1.2.0"))
    else:
        report["checks"].append(_check("name", True, f"{name}@{version}"))


def _check(name: str, ok: bool, detail: str, hint: str = "") -> dict[str, Any]:
    return {"check": name, "ok": ok, "detail": detail, "hint": hint}
