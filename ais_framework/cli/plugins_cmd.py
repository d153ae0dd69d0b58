"""``ais-fw plugins``: list every plugin, where it comes from, and the ones that failed."""
from __future__ import annotations

import typer

from .output import print_json


def plugins(
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
    strict: bool = typer.Option(False, "--strict", help="Fail if any plugin failed to load."),
) -> None:
    """List installed plugins: kind, name, providing distribution and version, and failures."""
    from .. import api

    listing = api.list_plugins(strict=strict)
    if as_json:
        print_json(listing)
        return
    _print_table(listing)


def _print_table(listing: dict) -> None:
    rows = [(p["kind"], p["name"], p["title"], f"{p['distribution']} {p['version']}") for p in listing["plugins"]]
    header = ("kind", "name", "title", "from")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(4)]
    for row in [header, *rows]:
        typer.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    for failure in listing["failures"]:
        typer.echo(
            f"FAILED {failure['plugin']} ({failure['distribution']} {failure['version']}): {failure['error']}",
            err=True,
        )
