"""Entry point of ``ais-fw``: builds the typer app and turns errors into one clear line.

Heavy libraries (numpy, torch, ...) are imported inside command bodies so that
``ais-fw --help`` stays fast.
"""
from __future__ import annotations

import os
import sys

import typer

from .. import __version__
from . import demo, info, model_cmd, plugins_cmd, scaffold_cmd, synth, train, tui_cmd
from . import mesh_cmd, preview_cmd
from . import models_cmd, repo_cmd
from . import compare_cmd
from . import evaluate_cmd, pick
from . import segment_cmd

app = typer.Typer(
    name="ais-fw",
    help="Segment cryo-electron tomograms with neural networks and pick particles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ais-fw {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    """Segment cryo-electron tomograms with neural networks and pick particles."""


plugins_app = typer.Typer(rich_markup_mode=None, help="List installed plugins, or write a new one (plugins new ...).")


@plugins_app.callback(invoke_without_command=True)
def _plugins(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
    strict: bool = typer.Option(False, "--strict", help="Fail if any plugin failed to load."),
) -> None:
    """List installed plugins: kind, name, providing distribution and version, and failures."""
    if ctx.invoked_subcommand is None:
        plugins_cmd.plugins(as_json=as_json, strict=strict)


plugins_app.add_typer(scaffold_cmd.plugins_new_app, name="new")
app.add_typer(plugins_app, name="plugins")
app.command("info")(info.info)
app.command("synth")(synth.synth)
app.command("train")(train.train)
app.command("segment")(segment_cmd.segment)
app.command("compare")(compare_cmd.compare)
app.add_typer(model_cmd.model_app, name="model")
app.command("demo")(demo.demo)
app.command("pick")(pick.pick)
app.add_typer(evaluate_cmd.evaluate_app, name="evaluate")
app.command("tui")(tui_cmd.tui)
app.command("mesh")(mesh_cmd.mesh)
app.command("preview")(preview_cmd.preview)
app.add_typer(repo_cmd.repo_app, name="repo")
models_cmd.register(app)


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("AIS_FW_DEBUG", "") not in ("", "0")


def _report(exc: BaseException) -> int:
    from ..errors import AisError

    if isinstance(exc, AisError):
        typer.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            typer.echo(f"hint: {exc.hint}", err=True)
        return exc.exit_code
    if isinstance(exc, OSError) and exc.filename is not None:  # disk full, permission denied, ...
        typer.echo(f"error: {exc.filename}: {exc.strerror or exc}", err=True)
        typer.echo("hint: check the path, its permissions and the free disk space", err=True)
        return 1
    typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
    typer.echo("hint: this is a bug in ais-fw or a plugin; rerun with --debug and report the traceback", err=True)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, called without arguments, exits with) the exit code.

    Usage errors are reported by typer itself (exit 2); ``AisError`` becomes one line on
    stderr with a hint (exit 1, or 2 for usage); ``--debug`` shows the traceback instead.
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="ais-fw")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        code = 130
    except Exception as exc:
        if _debug_requested(args):
            raise
        code = _report(exc)
    if argv is None:
        sys.exit(code)
    return code
