"""Reading the repository: search, versions of a model, one version's metadata, and downloads."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ais_framework.model.installed import version_key

from .db import FAILED, PUBLISHED, User, Version
from .deps import can_see, describe, get_session, optional_user, problem

router = APIRouter(prefix="/api/v1", tags=["models"])


@router.get("/info", summary="What this repository accepts")
def info(request: Request) -> dict[str, Any]:
    from ais_framework import __version__

    settings = request.app.state.settings
    return {"service": "ais-fw model repository", "framework_version": __version__,
            "max_upload_bytes": settings.max_upload_bytes, "require_review": settings.require_review}


@router.get("/models", summary="Search published models (newest version of each name)")
def search(
    q: str | None = Query(None, description="text in the name, feature, description, author or architecture"),
    feature: str | None = Query(None, description="exact feature name, any case"),
    pixel_size_min: float | None = Query(None, description="smallest pixel size, Å"),
    pixel_size_max: float | None = Query(None, description="largest pixel size, Å"),
    architecture: str | None = None,
    preprocessing: str | None = None,
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    query = select(Version).where(Version.state == PUBLISHED, Version.yanked.is_(False))
    if q:
        columns = (Version.name, Version.feature, Version.description, Version.author, Version.architecture)
        query = query.where(or_(*(column.icontains(q, autoescape=True) for column in columns)))
    for column, value in ((Version.feature, feature), (Version.architecture, architecture),
                          (Version.preprocessing, preprocessing)):
        if value:
            query = query.where(func.lower(column) == value.lower())
    if pixel_size_min is not None:
        query = query.where(Version.pixel_size_A >= pixel_size_min)
    if pixel_size_max is not None:
        query = query.where(Version.pixel_size_A <= pixel_size_max)
    return {"models": _newest_per_name(session, session.scalars(query).all())}


def _newest_per_name(session: Session, versions: list[Version]) -> list[dict[str, Any]]:
    newest: dict[str, Version] = {}
    for version in versions:
        if version.name not in newest or version_key(version.version) > version_key(newest[version.name].version):
            newest[version.name] = version
    totals = dict(session.execute(select(Version.name, func.sum(Version.downloads))
                                  .where(Version.name.in_(list(newest))).group_by(Version.name)).all())
    return [{**describe(v), "downloads": int(totals.get(name) or 0)} for name, v in sorted(newest.items())]


@router.get("/models/{name}", summary="Every version of a model the caller may see")
def versions(name: str, session: Session = Depends(get_session),
             user: User | None = Depends(optional_user)) -> dict[str, Any]:
    found = [v for v in session.scalars(select(Version).where(Version.name == name)).all() if can_see(v, user)]
    if not found:
        raise problem(404, f"no model named '{name}' in this repository", "`ais-fw search` lists the models")
    found.sort(key=lambda v: (version_key(v.version), v.id))
    return {"name": name, "versions": [describe(v) for v in found]}


def find_version(session: Session, name: str, version: str, user: User | None) -> Version:
    """The live (or, for its owner, the latest failed) upload of NAME@VERSION the caller may see; else 404."""
    rows = session.scalars(select(Version).where(Version.name == name, Version.version == version)
                           .order_by(Version.id.desc())).all()
    for row in sorted(rows, key=lambda v: v.state == "failed"):
        if can_see(row, user):
            return row
    raise problem(404, f"no version {name}@{version} in this repository",
                  f"`ais-fw search {name}` lists the published versions")


@router.get("/models/{name}/{version}", summary="One version: facts, model.json and validation report")
def metadata(name: str, version: str, session: Session = Depends(get_session),
             user: User | None = Depends(optional_user)) -> dict[str, Any]:
    return describe(find_version(session, name, version, user), full=True)


@router.get("/models/{name}/{version}/download", summary="The package file (HTTP Range supported)",
            response_class=FileResponse, responses={200: {"content": {"application/octet-stream": {}}},
                                                    206: {"description": "the requested byte range"}})
def download(name: str, version: str, request: Request, session: Session = Depends(get_session),
             user: User | None = Depends(optional_user)) -> FileResponse:
    found = find_version(session, name, version, user)
    if found.state == FAILED:
        raise problem(409, f"{name}@{version} failed validation and has no file to download",
                      "see its report: `ais-fw repo uploads`")
    path = request.app.state.store.path(found.sha256)
    if not path.is_file():
        raise problem(500, f"the file of {name}@{version} is missing from the store", "tell the repository's admin")
    if _counts_as_download(request.headers.get("range")):
        session.execute(update(Version).where(Version.id == found.id).values(downloads=Version.downloads + 1))
        session.commit()
    headers = {"etag": f'"{found.sha256}"', "x-content-sha256": found.sha256}
    return FileResponse(path, media_type="application/octet-stream", filename=f"{name}@{version}.aism",
                        headers=headers)


def _counts_as_download(range_header: str | None) -> bool:
    """A download is counted once: a plain request, or the range that starts at byte 0."""
    return range_header is None or range_header.replace(" ", "").startswith("bytes=0-")
