"""``ais-fw repo ...``: run a model repository (serve, tokens) and manage uploads on one (review, yank)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .output import print_json

repo_app = typer.Typer(name="repo", help="Run a model repository, create tokens, review and yank uploads.",
                       no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                       rich_markup_mode=None)
token_app = typer.Typer(help="Upload tokens (stored hashed; shown once).", no_args_is_help=True,
                        rich_markup_mode=None)
repo_app.add_typer(token_app, name="token")

DB = typer.Option(None, "--db", help="SQLAlchemy database URL, e.g. postgresql+psycopg://user@host/db "
                  "(default: SQLite in the store folder).")
STORE = typer.Option(None, "--store", help="Folder for the package files (default: the user data folder).")
REPOSITORY = typer.Option(None, "--repository", "-r", help="Repository URL (default: $AIS_FW_REPOSITORY or config).")
TOKEN = typer.Option(None, "--token", help="Token (default: $AIS_FW_TOKEN or the config file).")
REFERENCE = typer.Argument(..., metavar="NAME@VERSION", help="The version, e.g. ribosome_10A@2.")


def _settings(db: Optional[str], store: Optional[Path], **options):
    from platformdirs import user_data_dir

    from ais_repository_server.settings import Settings

    folder = store or Path(user_data_dir("ais-fw", appauthor=False)) / "repository"
    if db is None:  # the default SQLite file lives in the store folder
        folder.mkdir(parents=True, exist_ok=True)
    return Settings(store=folder, db_url=db, **options)


@repo_app.command("serve")
def serve(
    db: Optional[str] = DB,
    store: Optional[Path] = STORE,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for the whole network)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    max_upload_mb: float = typer.Option(512.0, "--max-upload-mb", min=0.001, help="Largest package accepted, MiB."),
    require_review: bool = typer.Option(False, "--require-review", help="Publish only after an admin approves."),
    tolerance: float = typer.Option(1e-3, "--tolerance", min=0.0, help="Test-pair tolerance for validation."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level (warning for quiet)."),
) -> None:
    """Run the model repository service (FastAPI + uvicorn; API docs at /docs)."""
    from ais_repository_server.app import serve as run

    settings = _settings(db, store, max_upload_bytes=int(max_upload_mb * 1024 * 1024),
                         require_review=require_review, tolerance=tolerance)
    typer.echo(f"model repository: store {settings.store}, database {_safe_url(settings.database_url)}, "
               f"http://{host}:{port}/docs", err=True)
    run(settings, host=host, port=port, log_level=log_level)


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@token_app.command("create")
def token_create(
    user: str = typer.Option(..., "--user", help="User name (created if new)."),
    admin: bool = typer.Option(False, "--admin", help="The user may approve and reject uploads."),
    db: Optional[str] = DB,
    store: Optional[Path] = STORE,
) -> None:
    """Create an upload token for USER in the repository's database and print it (once)."""
    from ais_repository_server.db import create_token, make_engine, session_factory

    settings = _settings(db, store)
    with session_factory(make_engine(settings.database_url))() as session:
        token = create_token(session, user, admin=admin)
    typer.echo(token)


def _client(repository: Optional[str], token: Optional[str]):
    from ais_repository_client.client import RepositoryClient

    return RepositoryClient(repository, token)


def _pin(reference: str) -> tuple[str, str]:
    from ..errors import UsageError
    from ..model.installed import parse_reference

    name, version = parse_reference(reference)
    if version is None:
        raise UsageError(f"'{reference}' names no version", f"write {name}@VERSION")
    return name, version


@repo_app.command("uploads")
def uploads(repository: Optional[str] = REPOSITORY, token: Optional[str] = TOKEN,
            as_json: bool = typer.Option(False, "--json", help="Print uploads and reports as JSON.")) -> None:
    """Your uploads with their state; failed ones with the check that failed."""
    found = _client(repository, token).uploads()
    if as_json:
        print_json(found)
        return
    for upload in found:
        failed = next((c for c in upload["report"].get("checks", []) if not c["ok"]), None)
        why = f"  {failed['check']}: {failed['detail']}" if failed else ""
        typer.echo(f"{upload['name']}@{upload['version']}  {upload['state']}{why}")


@repo_app.command("review")
def review(repository: Optional[str] = REPOSITORY, token: Optional[str] = TOKEN) -> None:
    """Uploads waiting for an admin's approval (with --require-review)."""
    for upload in _client(repository, token).review_queue():
        typer.echo(f"{upload['name']}@{upload['version']}  {upload['state']}  by {upload['owner']}")


@repo_app.command("approve")
def approve(reference: str = REFERENCE, repository: Optional[str] = REPOSITORY, token: Optional[str] = TOKEN) -> None:
    """Publish a validated upload (admins)."""
    record = _client(repository, token).approve(*_pin(reference))
    typer.echo(f"{record['name']}@{record['version']}: {record['state']}")


@repo_app.command("reject")
def reject(reference: str = REFERENCE, reason: str = typer.Option("", "--reason", help="Why, for the owner."),
           repository: Optional[str] = REPOSITORY, token: Optional[str] = TOKEN) -> None:
    """Refuse a validated upload (admins)."""
    record = _client(repository, token).reject(*_pin(reference), reason)
    typer.echo(f"{record['name']}@{record['version']}: {record['state']}")


@repo_app.command("yank")
def yank(reference: str = REFERENCE, reason: str = typer.Option("", "--reason", help="Why, shown to installers."),
         repository: Optional[str] = REPOSITORY, token: Optional[str] = TOKEN) -> None:
    """Hide a published version from search and `install-model NAME` (pinned installs still work, with a warning)."""
    record = _client(repository, token).yank(*_pin(reference), reason)
    typer.echo(f"{record['name']}@{record['version']}: yanked")
