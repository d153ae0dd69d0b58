"""A content-addressed store: each package file lives at ``{store}/sha256/ab/abcdef...`` once.

Uploads are written to ``{store}/incoming/`` while being hashed, then renamed into place, so
a file under its sha256 name is always complete. Identical uploads share one file.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


class TooLarge(Exception):
    """More bytes arrived than the store was told to accept."""


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "sha256").mkdir(parents=True, exist_ok=True)
        (self.root / "incoming").mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        return self.root / "sha256" / digest[:2] / digest

    def receive(self, stream: BinaryIO, limit: int) -> tuple[Path, str, int]:
        """Copy ``stream`` to a temporary file while hashing it; returns (temp path, sha256, size)."""
        fd, name = tempfile.mkstemp(dir=self.root / "incoming", suffix=".part")
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(size)
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name), digest.hexdigest(), size

    def keep(self, temporary: Path, digest: str) -> Path:
        """Move a received file to its sha256 name (or drop it when that content is already stored)."""
        target = self.path(digest)
        if target.exists():
            temporary.unlink(missing_ok=True)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, target)
        return target
