"""``ais-fw model info|validate MODEL``: what a model package says, and whether it still works."""
from __future__ import annotations

import typer

from .output import print_json

model_app = typer.Typer(
    name="model",
    help="Inspect and validate model packages (.aism).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

MODEL_ARGUMENT = typer.Argument(..., help="Model package file (.aism), or an installed model's NAME or NAME@VERSION.")
JSON_OPTION = typer.Option(False, "--json", help="Print the result as JSON.")


@model_app.command("info")
def info(model: str = MODEL_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Show a model's metadata: feature, architecture, input geometry, pixel size, training, members."""
    from ..api import resolve_model
    from ..model import read_metadata

    metadata = read_metadata(resolve_model(model))
    if as_json:
        print_json(metadata.model_dump(mode="json"))
        return
    for label, value in _summary(metadata):
        typer.echo(f"{label:>13}: {value}")


@model_app.command("validate")
def validate(
    model: str = MODEL_ARGUMENT,
    tolerance: float = typer.Option(1e-3, "--tolerance", min=0.0, help="Largest allowed probability difference."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check the package (members, checksums, metadata, architecture, weights) and re-run its test input."""
    from ..api import resolve_model
    from ..model import validate_model

    report = validate_model(resolve_model(model), tolerance=tolerance)
    if as_json:
        print_json(report)
    else:
        for check in report["checks"]:
            typer.echo(f"{'ok' if check['ok'] else 'FAILED':<6} {check['check']:<12} {check['detail']}")
        for warning in report["warnings"]:
            typer.echo(f"warning: {warning}", err=True)
    if not report["passed"]:
        _fail(report)


def _fail(report: dict) -> None:
    failed = next(check for check in report["checks"] if not check["ok"])
    detail = failed["detail"].removeprefix(f"{report['path']}: ")
    typer.echo(f"error: {report['path']}: the {failed['check']} check failed: {detail}", err=True)
    if failed["hint"]:
        typer.echo(f"hint: {failed['hint']}", err=True)
    raise typer.Exit(1)


def _summary(meta) -> list[tuple[str, str]]:
    norm = meta.normalisation
    values = ", ".join(f"{k} {v:g}" for k, v in (("center", norm.center), ("scale", norm.scale)) if v is not None)
    origin = " ".join(part for part in (meta.architecture_distribution, meta.architecture_version) if part)
    arch = meta.architecture + (f" ({origin})" if origin else "")
    options = f", options {meta.architecture_options}" if meta.architecture_options else ""
    return [
        ("name", f"{meta.name} (version {meta.version})"),
        ("feature", meta.feature),
        ("architecture", arch + options),
        ("input", f"{meta.dims}, depth {meta.depth}, box {meta.box} px"),
        ("pixel size", f"{meta.pixel_size_A:g} Å"),
        ("normalisation", meta.normalisation.method + (f" (training data: {values})" if values else "")),
        ("preprocessing", meta.preprocessing),
        ("threshold", f"{meta.threshold:g}"),
        ("colour", meta.colour),
        ("training", _training(meta.training)),
        ("author", meta.author or "-"),
        ("licence", meta.licence or "-"),
        ("created", meta.created.isoformat(timespec="seconds")),
        ("description", meta.description or "-"),
        *[("member", f"{name}  sha256 {digest[:16]}…") for name, digest in sorted(meta.members.items())],
    ]


def _training(training) -> str:
    parts = [f"{training.epochs} epochs"]
    if training.loss:
        parts.append(f"loss {training.loss}")
    if training.best_loss is not None:
        parts.append(f"best {training.best_loss:.4g}")
    if training.samples is not None:
        parts.append(f"{training.samples} samples")
    if training.seconds is not None:
        parts.append(f"{training.seconds / 60:.1f} min")
    if training.framework_version:
        parts.append(f"ais-fw {training.framework_version}")
    return ", ".join(parts)
