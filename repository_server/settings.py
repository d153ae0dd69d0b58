"""What a repository service is configured with (command-line options of ``ais-fw repo serve``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024
DEFAULT_MAX_UPLOAD = 512 * MiB


@dataclass(frozen=True)
class Settings:
    """``store``: the folder of package files (and of the default SQLite database).

    ``db_url``: an SQLAlchemy URL; None means ``sqlite:///{store}/repository.sqlite3``.
    ``max_upload_bytes``: the largest package accepted; packages may unpack to at most
    ``2 * max_upload_bytes + 16 MiB`` (bounded decompression).
    ``require_review``: validated uploads wait for an admin's approval before publication.
    ``tolerance``: the largest allowed difference when the package's test input is re-run.
    """

    store: Path
    db_url: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    require_review: bool = False
    tolerance: float = 1e-3

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{Path(self.store).resolve() / 'repository.sqlite3'}"

    @property
    def max_unpacked_bytes(self) -> int:
        return 2 * self.max_upload_bytes + 16 * MiB
