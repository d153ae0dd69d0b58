"""What every route needs: a database session, the caller (from the bearer token), errors, and views."""
from __future__ import annotations

from typing import Any, Iterator

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from .db import FAILED, PUBLISHED, User, Version, user_for_token

bearer = HTTPBearer(auto_error=False, description="a token from `ais-fw repo token create --user NAME`")
TOKEN_HINT = "ask the repository's admin for a token (`ais-fw repo token create --user NAME` on the server)"


def problem(status: int, message: str, hint: str = "") -> HTTPException:
    """An HTTP error whose body is ``{"detail": {"message", "hint"}}`` (the client shows both)."""
    return HTTPException(status_code=status, detail={"message": message, "hint": hint})


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def optional_user(credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
                  session: Session = Depends(get_session)) -> User | None:
    """The caller, or None without a token; a token that is not valid is an error (401)."""
    if credentials is None:
        return None
    user = user_for_token(session, credentials.credentials)
    if user is None:
        raise problem(401, "the token is not valid", TOKEN_HINT)
    return user


def required_user(user: User | None = Depends(optional_user)) -> User:
    if user is None:
        raise problem(401, "this needs a token (Authorization: Bearer TOKEN)", TOKEN_HINT)
    return user


def can_see(version: Version, user: User | None) -> bool:
    """Published versions are public; failed uploads only their owner's; the rest owner's and admins'."""
    if version.state == PUBLISHED:
        return True
    if user is None:
        return False
    if version.owner_id == user.id:
        return True
    return user.is_admin and version.state != FAILED


def describe(version: Version, full: bool = False) -> dict[str, Any]:
    """The public view of a version; ``full`` adds its model.json and validation report."""
    view = {
        "id": version.id, "name": version.name, "version": version.version, "state": version.state,
        "feature": version.feature, "pixel_size_A": version.pixel_size_A, "architecture": version.architecture,
        "preprocessing": version.preprocessing, "author": version.author, "description": version.description,
        "owner": version.owner.name, "sha256": version.sha256, "size": version.size,
        "downloads": version.downloads, "yanked": version.yanked, "yank_reason": version.yank_reason,
        "uploaded": version.uploaded.isoformat(), "published": version.published.isoformat() if version.published
        else None,
    }
    if full:
        view.update(metadata=version.model_json, report=version.report)
    return view
