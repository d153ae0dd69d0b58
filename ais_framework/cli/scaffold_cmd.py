"""``ais-fw plugins new ...``: write a new plugin package from a template."""
from __future__ import annotations

from pathlib import Path

import typer

plugins_new_app = typer.Typer(
    help="Write a new plugin package, ready to develop, test and publish.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@plugins_new_app.callback()
def _new() -> None:
    """Write a new plugin package, ready to develop, test and publish."""


@plugins_new_app.command("architecture")
def new_architecture(
    name: str = typer.Argument(..., help="The architecture's name: lowercase letters, digits and '_', e.g. tiny_unet."),
    output: Path = typer.Option(Path("."), "-o", "--output", help="Folder to write the package folder into."),
) -> None:
    """Write ais-fw-arch-NAME/: the architecture template as a package with its entry point and contract test."""
    from ..scaffold import new_architecture_package, package_names

    root = new_architecture_package(name, output)
    module = package_names(name)["module"]
    typer.echo(f"wrote {root}/")
    typer.echo(f"  network: {root / 'src' / (module + '.py')}")
    typer.echo(f"  test:    {root / 'tests' / 'test_contract.py'}")
    typer.echo(f"next: cd {root} && pip install -e '.[test]' && pytest")
