"""Publishing: validate a package here, then upload it; the repository validates it again."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ais_framework.errors import InputFileError, UsageError

from .client import RepositoryClient, RepositoryError
from .transfer import Progress


def publish(path: Path, name: str | None = None, repository: str | None = None, token: str | None = None,
            on_progress: Progress | None = None, validate: bool = True) -> dict[str, Any]:
    """Upload the package at ``path``; returns the repository's record (state published or validated).

    A package that fails local validation is not sent; one the repository refuses raises
    :class:`RepositoryError` with the failed check (the owner still sees it in ``ais-fw repo uploads``).
    """
    path = Path(path)
    if validate:
        _validate_here(path)
    client = RepositoryClient(repository, token)
    _check_before_sending(client, path, name)
    record = client.upload(path, name, on_progress)
    if record["state"] == "failed":
        raise RepositoryError(f"repository refused {record['name']}@{record['version']}: {_failure(record['report'])}",
                              "`ais-fw repo uploads` shows the full validation report")
    return record


def _check_before_sending(client: RepositoryClient, path: Path, name: str | None) -> None:
    """Refuse early what the repository would refuse after the whole upload: size, token, taken version."""
    from ais_framework.model import read_metadata

    limit = client.info()["max_upload_bytes"]
    if path.stat().st_size > limit:
        raise UsageError(f"{path}: {path.stat().st_size} bytes is more than this repository accepts ({limit})",
                         "ask the repository's admin to raise --max-upload-mb")
    if not client.token:
        raise UsageError("publishing needs a token",
                         "pass --token, set AIS_FW_TOKEN, or put token = \"...\" in the config file")
    client.me()
    meta = read_metadata(path)
    try:
        existing = client.version(name or meta.name, meta.version)
    except RepositoryError:
        return  # not there (or not visible to us): the repository decides
    if existing["state"] != "failed":
        raise RepositoryError(f"repository: {existing['name']}@{existing['version']} already exists in this "
                              "repository", "a published version never changes: save the model with a new "
                              "version and publish that")


def _validate_here(path: Path) -> None:
    from ais_framework.model import validate_model

    report = validate_model(path)
    if not report["passed"]:
        raise InputFileError(f"{path}: not published: {_failure(report)}",
                             "`ais-fw model validate` shows every check")


def _failure(report: dict) -> str:
    failed = next((c for c in report.get("checks", []) if not c["ok"]), None)
    if failed is None:
        return "validation failed"
    return f"the {failed['check']} check failed: {failed['detail']}"


__all__ = ["publish"]
