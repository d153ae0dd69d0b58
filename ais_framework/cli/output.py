"""Small helpers the commands share for printing results."""
from __future__ import annotations

import json
import sys
from typing import Any

import typer


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def is_terminal() -> bool:
    return sys.stderr.isatty()
