"""``ais-fw search | install-model | uninstall-model | models | publish``: models from a repository."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Optional

import typer

from .output import is_terminal, print_json

REPOSITORY = typer.Option(None, "--repository", "-r", help="Repository URL (default: $AIS_FW_REPOSITORY or the "
                          "config file).")
JSON_OPTION = typer.Option(False, "--json", help="Print the result as JSON.")
QUIET = typer.Option(False, "--quiet", "-q", help="No progress bar.")


def register(app: typer.Typer) -> None:
    """Add these commands to the main app."""
    app.command("search")(search)
    app.command("install-model")(install_model)
    app.command("uninstall-model")(uninstall_model)
    app.command("models")(models)
    app.command("publish")(publish)


@contextlib.contextmanager
def transfer_progress(what: str, quiet: bool) -> Iterator:
    """A rich progress bar on stderr (only on a terminal); yields the (done, total) callback or None."""
    if quiet or not is_terminal():
        yield None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    columns = (TextColumn(what), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(what, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def parse_pixel_size(text: str | None) -> tuple[float, float] | None:
    """``10`` → 10 Å ± 5 %; ``8-12`` → 8 to 12 Å."""
    from ..errors import UsageError

    if text is None:
        return None
    try:
        low, _, high = text.partition("-")
        values = (float(low), float(high)) if high else (float(low) * 0.95, float(low) * 1.05)
    except ValueError:
        raise UsageError(f"--pixel-size '{text}' is not a number or range", "e.g. --pixel-size 10 or 8-12") from None
    if not 0 < values[0] <= values[1]:
        raise UsageError(f"--pixel-size '{text}' is not a positive range", "e.g. --pixel-size 8-12")
    return values


def search(
    text: Optional[str] = typer.Argument(None, help="Text in the name, feature, description or author."),
    feature: Optional[str] = typer.Option(None, "--feature", "-f", help="Feature, e.g. membrane."),
    pixel_size: Optional[str] = typer.Option(None, "--pixel-size", help="Å: 10 (±5 %) or a range 8-12."),
    architecture: Optional[str] = typer.Option(None, "--architecture", help="Architecture plugin name."),
    preprocessing: Optional[str] = typer.Option(None, "--preprocessing", help="Preprocessing the model expects."),
    repository: Optional[str] = REPOSITORY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Search a model repository: name, version, feature, pixel size, preprocessing, architecture, author."""
    from ais_repository_client.client import RepositoryClient

    found = RepositoryClient(repository).search(text, feature, parse_pixel_size(pixel_size), architecture,
                                                preprocessing)
    if as_json:
        print_json(found)
        return
    if not found:
        typer.echo("no models found", err=True)
        return
    columns = ("name", "version", "feature", "pixel size", "preprocessing", "architecture", "author", "downloads")
    rows = [(m["name"], m["version"], m["feature"], f"{m['pixel_size_A']:g} Å", m["preprocessing"],
             m["architecture"], m["author"] or "-", str(m["downloads"])) for m in found]
    _table(columns, rows)


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, box=None, header_style="bold")
    for row in rows:
        table.add_row(*row)
    Console(width=200 if not is_terminal() else None).print(table)


def install_model(
    reference: str = typer.Argument(..., metavar="NAME[@VERSION]", help="The model to install, e.g. ribosome_10A."),
    repository: Optional[str] = REPOSITORY,
    quiet: bool = QUIET,
    as_json: bool = JSON_OPTION,
) -> None:
    """Download a model, verify its sha256 and install it; then use NAME wherever a model file goes."""
    from ais_repository_client.install import install_model as install

    with transfer_progress(f"downloading {reference}", quiet or as_json) as on_progress:
        result = install(reference, repository, on_progress)
    for warning in result["warnings"]:
        typer.echo(f"warning: {warning}", err=True)
    if as_json:
        print_json(result)
    elif not quiet:
        typer.echo(f"{result['name']}@{result['version']}: {result['status']} ({result['path']})")


def uninstall_model(reference: str = typer.Argument(..., metavar="NAME[@VERSION]",
                                                    help="Every installed version of NAME, or just VERSION.")) -> None:
    """Remove an installed model from the local cache."""
    from ..model.installed import parse_reference, remove_installed

    for record in remove_installed(*parse_reference(reference)):
        typer.echo(f"removed {record['name']}@{record['version']}")


def models(as_json: bool = JSON_OPTION) -> None:
    """List the installed models (usable by name wherever a model file goes)."""
    from ..model.installed import home_dir, installed_models

    found = installed_models()
    if as_json:
        print_json(found)
        return
    if not found:
        typer.echo(f"no models installed in {home_dir()} (install one with `ais-fw install-model NAME`)", err=True)
        return
    rows = [(r["name"], r["version"], r.get("feature") or "-", f"{r['pixel_size_A']:g} Å" if r.get("pixel_size_A")
             else "-", r.get("architecture") or "-", r.get("repository") or "-") for r in found]
    _table(("name", "version", "feature", "pixel size", "architecture", "repository"), rows)


def publish(
    model: Path = typer.Argument(..., help="Model package (.aism) to publish."),
    name: Optional[str] = typer.Option(None, "--name", help="Repository name (default: the name in the model)."),
    repository: Optional[str] = REPOSITORY,
    token: Optional[str] = typer.Option(None, "--token", help="Upload token (default: $AIS_FW_TOKEN or config)."),
    quiet: bool = QUIET,
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate a model here, then upload it; the repository validates it again before publishing it."""
    from ais_repository_client.publish import publish as send

    with transfer_progress(f"uploading {model.name}", quiet or as_json) as on_progress:
        record = send(model, name, repository, token, on_progress)
    if as_json:
        print_json(record)
    else:
        typer.echo(f"{record['name']}@{record['version']}: {record['state']} (sha256 {record['sha256'][:16]}…)")
