"""Writing to the repository: upload (token, size limit, validation), the owner's uploads, yank, review."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .api_models import find_version
from .db import FAILED, PENDING, PUBLISHED, REJECTED, VALIDATED, User, Version, now
from .deps import describe, get_session, problem, required_user
from .store import TooLarge
from .validation import validate_upload

router = APIRouter(prefix="/api/v1", tags=["uploads"])
MULTIPART_SLACK = 64 * 1024  # form boundaries and the name field around the package
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["package"],
    "properties": {"package": {"type": "string", "format": "binary", "description": "the .aism file"},
                   "name": {"type": "string", "description": "repository name (default: the name in model.json)"}},
}}}}}


class UploadTooLarge(Exception):
    """The request body went past the size limit; answered with 413."""

    def __init__(self, limit: int):
        self.limit = limit


def too_large_response(limit: int) -> JSONResponse:
    return JSONResponse(status_code=413, content={"detail": {
        "message": f"the package is larger than this repository accepts ({limit} bytes)",
        "hint": "ask the admin to raise --max-upload-mb, or publish a smaller model"}})


def _limited(receive, limit: int):
    """``receive`` that stops a request body as soon as it passes ``limit`` bytes."""
    seen = 0

    async def limited_receive():
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise UploadTooLarge(limit)
        return message

    return limited_receive


@router.post("/models", status_code=201, openapi_extra=UPLOAD_BODY,
             summary="Upload a package; it is validated, then published (or held for review)")
async def upload(request: Request, user: User = Depends(required_user)) -> JSONResponse:
    settings, store = request.app.state.settings, request.app.state.store
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise UploadTooLarge(limit)
    form = await Request(request.scope, _limited(request.receive, limit + MULTIPART_SLACK)).form(
        max_files=1, max_fields=2)
    package = form.get("package")
    if package is None or isinstance(package, str):
        raise problem(422, "the form has no file field 'package'", "send the .aism file as multipart field 'package'")
    name = form.get("name") if isinstance(form.get("name"), str) else None
    try:
        temporary, digest, size = await run_in_threadpool(store.receive, package.file, limit)
    except TooLarge:
        raise UploadTooLarge(limit) from None
    finally:
        await package.close()
    status, body = await run_in_threadpool(_accept, request.app, temporary, digest, size, user.id, name or None)
    return JSONResponse(status_code=status, content=body)


def _accept(app, temporary: Path, digest: str, size: int, user_id: int, name: str | None) -> tuple[int, dict]:
    """Record a received file as pending, validate it, then mark it validated/published or failed.

    Returns 201 (validated or published), 422 (failed, with the report) or 409 (NAME@VERSION exists).
    """
    settings = app.state.settings
    try:
        with app.state.sessions() as session:
            version = _pending(session, temporary, digest, size, user_id, name)
            if version is None:
                return 409, _exists(temporary, name)
            try:
                report = validate_upload(temporary, settings.max_unpacked_bytes, settings.tolerance, name)
            except Exception as exc:  # a bug must not leave the upload pending forever
                report = {"passed": False, "checks": [{"check": "validation", "ok": False, "detail": repr(exc),
                                                       "hint": "tell the repository's admin"}], "metadata": None}
                _finish(version, report, settings.require_review)
                session.commit()
                raise
            _finish(version, report, settings.require_review)
            if report["passed"]:
                app.state.store.keep(temporary, digest)
            session.commit()
            return (201 if version.state != FAILED else 422), describe(version, full=True)
    finally:
        temporary.unlink(missing_ok=True)


def _claimed_name(temporary: Path, name: str | None) -> tuple[str, str] | None:
    """NAME and VERSION the package claims (cheap: model.json only), or None when it is unreadable."""
    from ais_framework.errors import AisError
    from ais_framework.model import read_metadata

    try:
        meta = read_metadata(temporary)
    except AisError:
        return None
    return name or meta.name, meta.version


def _pending(session: Session, temporary: Path, digest: str, size: int, user_id: int,
             name: str | None) -> Version | None:
    """A pending row for the upload (None when NAME@VERSION is already taken)."""
    claimed = _claimed_name(temporary, name)
    name, number = claimed if claimed else (name or "unnamed", "?")
    version = Version(name=name[:80], version=number[:40],
                      state=PENDING if claimed else FAILED, owner_id=user_id, sha256=digest, size=size)
    session.add(version)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return version


def _exists(temporary: Path, name: str | None) -> dict:
    claimed = _claimed_name(temporary, name) or (name, "?")
    return {"detail": {"message": f"{claimed[0]}@{claimed[1]} already exists in this repository",
                       "hint": "a published version never changes: raise the version in model.json "
                               "(save the model again with a new version) and publish that"}}


def _finish(version: Version, report: dict, review: bool) -> None:
    meta = report.pop("metadata", None) or {}
    version.state = FAILED if not report["passed"] else (VALIDATED if review else PUBLISHED)
    if report.get("name") and report.get("version"):
        version.name, version.version = report["name"][:80], report["version"][:40]
    version.feature, version.pixel_size_A = meta.get("feature", ""), meta.get("pixel_size_A")
    version.architecture, version.preprocessing = meta.get("architecture", ""), meta.get("preprocessing", "")
    version.author, version.description = meta.get("author", ""), meta.get("description", "")
    version.model_json, version.report = meta or None, report
    version.published = now() if version.state == PUBLISHED else None


@router.get("/me", summary="Who the token belongs to")
def me(user: User = Depends(required_user)) -> dict[str, Any]:
    return {"name": user.name, "is_admin": user.is_admin}


@router.get("/uploads", summary="The caller's own uploads, failed ones included, with their reports")
def my_uploads(session: Session = Depends(get_session), user: User = Depends(required_user)) -> dict[str, Any]:
    rows = session.scalars(select(Version).where(Version.owner_id == user.id).order_by(Version.id)).all()
    return {"uploads": [describe(v, full=True) for v in rows]}


@router.get("/review", summary="Uploads waiting for an admin's approval (admins only)")
def review_queue(session: Session = Depends(get_session), user: User = Depends(required_user)) -> dict[str, Any]:
    _admin(user)
    rows = session.scalars(select(Version).where(Version.state.in_((PENDING, VALIDATED))).order_by(Version.id)).all()
    return {"uploads": [describe(v, full=True) for v in rows]}


@router.post("/models/{name}/{version}/approve", summary="Publish a validated upload (admins only)")
def approve(name: str, version: str, session: Session = Depends(get_session),
            user: User = Depends(required_user)) -> dict[str, Any]:
    found = _reviewable(session, name, version, user)
    found.state, found.published = PUBLISHED, now()
    session.commit()
    return describe(found)


@router.post("/models/{name}/{version}/reject", summary="Refuse a validated upload (admins only)")
def reject(name: str, version: str, reason: str = Body("", embed=True), session: Session = Depends(get_session),
           user: User = Depends(required_user)) -> dict[str, Any]:
    found = _reviewable(session, name, version, user)
    found.state = REJECTED
    found.report = {**found.report, "rejected": reason or "rejected by the admin"}
    session.commit()
    return describe(found)


def _admin(user: User) -> None:
    if not user.is_admin:
        raise problem(403, f"user '{user.name}' is not an admin of this repository",
                      "an admin token comes from `ais-fw repo token create --user NAME --admin`")


def _reviewable(session: Session, name: str, version: str, user: User) -> Version:
    _admin(user)
    found = find_version(session, name, version, user)
    if found.state != VALIDATED:
        raise problem(409, f"{name}@{version} is {found.state}, not waiting for review",
                      "`ais-fw repo review` lists the uploads waiting for review")
    return found


@router.post("/models/{name}/{version}/yank", summary="Hide a published version from search (owner or admin)")
def yank(name: str, version: str, reason: str = Body("", embed=True), session: Session = Depends(get_session),
         user: User = Depends(required_user)) -> dict[str, Any]:
    found = find_version(session, name, version, user)
    if found.owner_id != user.id and not user.is_admin:
        raise problem(403, f"only the owner of {name}@{version} or an admin may yank it",
                      f"ask {found.owner.name} or the repository's admin")
    if found.state != PUBLISHED:
        raise problem(409, f"{name}@{version} is {found.state}; only published versions are yanked",
                      "an upload that is not published is not offered to anyone")
    found.yanked, found.yank_reason = True, reason or "yanked"
    session.commit()
    return describe(found)
