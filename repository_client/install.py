"""Installing models from a repository into the local cache, and removing them.

``install_model("ribosome_10A@2")`` resolves the version, downloads it (resuming a broken
download), checks the sha256 the repository announced and every member's sha256, then moves
it into place in one rename. With ``AIS_FW_OFFLINE=1`` nothing touches the network: installed
models are found in the cache, others are a clear error.
"""
from __future__ import annotations

from typing import Any

from ais_framework.errors import AisError
from ais_framework.model.installed import add_installed, downloads_dir, find_installed, parse_reference

from . import config
from .client import RepositoryClient
from .transfer import Progress


class OfflineError(AisError):
    """Offline mode was asked for and the model is not in the cache."""


def install_model(reference: str, repository: str | None = None, on_progress: Progress | None = None) -> dict[str, Any]:
    """Install NAME or NAME@VERSION; returns the installed record plus ``status`` and download facts."""
    name, version = parse_reference(reference)
    if config.offline():
        return _from_cache(name, version)
    client = RepositoryClient(repository)
    remote = client.resolve(name, version)
    existing = find_installed(name, remote["version"])
    if existing is not None and existing.get("sha256") == remote["sha256"]:
        return {**existing, "status": "already installed", "warnings": _warnings(remote)}
    part = downloads_dir() / f"{remote['sha256']}.part"
    transfer = client.download(remote, part, on_progress)
    _check_package(part)
    facts = {key: remote.get(key) for key in ("sha256", "size", "feature", "pixel_size_A", "architecture",
                                               "preprocessing", "author")}
    path = add_installed(part, name, remote["version"], repository=client.url, **facts)
    record = find_installed(name, remote["version"]) or {"path": str(path)}
    return {**record, "status": "installed", **transfer, "warnings": _warnings(remote)}


def _from_cache(name: str, version: str | None) -> dict[str, Any]:
    record = find_installed(name, version)
    if record is None:
        wanted = f"{name}@{version}" if version else name
        raise OfflineError(f"{wanted} is not in the local cache and {config.OFFLINE_VARIABLE} forbids downloads",
                           f"unset {config.OFFLINE_VARIABLE} (or set it to 0) to download it; "
                           "`ais-fw models` lists what is installed")
    return {**record, "status": "installed (offline: from the cache)", "warnings": []}


def _check_package(part) -> None:
    """Every member's sha256 and the metadata, before the file is installed (no torch needed)."""
    from ais_framework.model.package import open_verified

    try:
        open_verified(part)
    except AisError:
        part.unlink(missing_ok=True)
        raise


def _warnings(remote: dict) -> list[str]:
    if remote.get("yanked"):
        return [f"{remote['name']}@{remote['version']} was yanked: {remote.get('yank_reason') or 'no reason given'}"]
    return []
