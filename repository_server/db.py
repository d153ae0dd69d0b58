"""The repository's database: users, their tokens (hashed) and model versions.

SQLAlchemy 2 with SQLite (one file, the default) or PostgreSQL (``postgresql+psycopg://...``).
Tables are created on start. A version's ``state`` is pending → validated → published, or
failed (visible only to its owner, with the validation report) or rejected by an admin.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        create_engine, event, select, text)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

PENDING, VALIDATED, PUBLISHED, FAILED, REJECTED = "pending", "validated", "published", "failed", "rejected"
TOKEN_PREFIX = "aisfw_"


def now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    user: Mapped[User] = relationship()


class Version(Base):
    """One uploaded package: its facts (from model.json), where it is stored, and its review state."""

    __tablename__ = "versions"
    __table_args__ = (
        # one live upload per NAME@VERSION; failed uploads do not block a corrected one
        Index("one_live_version", "name", "version", unique=True,
              sqlite_where=text("state != 'failed'"), postgresql_where=text("state != 'failed'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    feature: Mapped[str] = mapped_column(String(80), default="")
    pixel_size_A: Mapped[float | None] = mapped_column(Float, nullable=True)
    architecture: Mapped[str] = mapped_column(String(80), default="")
    preprocessing: Mapped[str] = mapped_column(String(200), default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    model_json: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    yanked: Mapped[bool] = mapped_column(Boolean, default=False)
    yank_reason: Mapped[str] = mapped_column(Text, default="")
    uploaded: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    published: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    owner: Mapped[User] = relationship()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode and a generous lock timeout (many readers, one writer)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    Base.metadata.create_all(engine)
    return engine


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def hash_token(token: str) -> str:
    """Tokens are long random strings, so one sha256 is a safe way to store them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user_name: str, admin: bool = False) -> str:
    """A new token for ``user_name`` (created if new; ``admin`` grants review rights). Shown once."""
    user = session.scalar(select(User).where(User.name == user_name))
    if user is None:
        user = User(name=user_name, is_admin=admin)
        session.add(user)
    elif admin:
        user.is_admin = True
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(Token(user=user, token_sha256=hash_token(token)))
    session.commit()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    found = session.scalar(select(Token).where(Token.token_sha256 == hash_token(token)))
    return found.user if found is not None else None
