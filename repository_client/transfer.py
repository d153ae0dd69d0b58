"""Moving package files: resumable, verified downloads and streamed multipart uploads.

A download goes to ``{downloads}/{sha256}.part``; when it is interrupted the part stays, and
the next attempt asks only for the missing bytes (HTTP Range). The finished file must have
the sha256 the repository announced, or it is deleted and refused.
"""
from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import BinaryIO, Callable

from ais_framework.errors import AisError, InputFileError

CHUNK = 1024 * 1024
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


class TransferError(AisError):
    """The connection to the repository broke or it answered something unexpected."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download(session, url: str, part: Path, sha256: str, size: int, on_progress: Progress | None = None) -> dict:
    """Fetch ``url`` into ``part`` (resuming what is there) and verify it; returns {"resumed_from", "bytes"}.

    Raises :class:`TransferError` when the connection breaks (the part is kept for a resume)
    and :class:`InputFileError` when the content's sha256 is not ``sha256`` (the part is deleted).
    """
    import requests

    part.parent.mkdir(parents=True, exist_ok=True)
    start = part.stat().st_size if part.exists() else 0
    if start > size:
        part.unlink()
        start = 0
    try:
        if start < size:
            start = _fetch(session, url, part, start, sha256, size, on_progress)
    except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
        have = part.stat().st_size if part.exists() else 0
        raise TransferError(f"the download broke off after {have} of {size} bytes ({type(exc).__name__})",
                            "run the same command again to resume where it stopped") from exc
    if file_sha256(part) != sha256:
        part.unlink(missing_ok=True)
        raise InputFileError(f"the downloaded file's sha256 does not match the repository's {sha256[:16]}…; "
                             "refusing to install it", "the file was damaged in transit or on the server; "
                             "try again, and tell the repository's admin if it persists")
    return {"resumed_from": start, "bytes": size}


def _fetch(session, url: str, part: Path, start: int, sha256: str, size: int, on_progress: Progress | None) -> int:
    headers = {"Range": f"bytes={start}-", "If-Range": f'"{sha256}"'} if start else {}
    with session.get(url, headers=headers, stream=True, timeout=(10, 60)) as response:
        if response.status_code == 200:
            start = 0  # the server sent the whole file (it ignored or refused the range)
        elif response.status_code != 206:
            raise TransferError(f"the repository answered {response.status_code} to the download",
                                response.text[:200])
        with open(part, "r+b" if start else "wb") as out:
            out.seek(start)
            out.truncate()
            done = start
            for chunk in response.iter_content(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if on_progress:
                    on_progress(done, size)
    return start


class MultipartFile:
    """A ``multipart/form-data`` body with one file field, read in chunks (never all in memory).

    ``len()`` gives the exact body size, so requests sends a Content-Length and streams ``read``.
    """

    def __init__(self, path: Path, fields: dict[str, str], on_progress: Progress | None = None):
        self.boundary = uuid.uuid4().hex
        self.size = path.stat().st_size
        head = "".join(f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{value}\r\n"
                       for key, value in fields.items())
        head += (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"package\"; filename=\"{path.name}\""
                 "\r\nContent-Type: application/octet-stream\r\n\r\n")
        self._parts: list[bytes | BinaryIO] = [head.encode(), open(path, "rb"), f"\r\n--{self.boundary}--\r\n".encode()]
        self._length = len(self._parts[0]) + self.size + len(self._parts[2])
        self._sent, self._on_progress = 0, on_progress

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def read(self, amount: int = -1) -> bytes:
        amount = CHUNK if amount is None or amount < 0 else amount
        while self._parts:
            current = self._parts[0]
            if isinstance(current, bytes):
                data, self._parts[0] = current[:amount], current[amount:]
                if not self._parts[0]:
                    self._parts.pop(0)
            else:
                data = current.read(amount)
                if not data:
                    current.close()
                    self._parts.pop(0)
                    continue
            self._sent += len(data)
            if self._on_progress:
                self._on_progress(min(self._sent, self._length), self._length)
            return data
        return b""

    def close(self) -> None:
        for part in self._parts:
            if not isinstance(part, bytes):
                part.close()
        self._parts = []
