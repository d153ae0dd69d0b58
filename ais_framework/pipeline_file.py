"""The pipeline file itself: reading TOML, saying where a problem is, writing TOML back.

Errors name the table (``[[interaction]] 2``), the field and, when the file is at hand, the
line, so that a user can go straight to it. Used by :mod:`ais_framework.pipeline`.
"""
from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import InputFileError

TABLES = {"model": "path, name, emit, absorb, threshold",
          "interaction": "child, parent, kind, radius_nm, threshold, ball"}
_TABLE_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_-]+)\s*\]\]")
HEADER = ("# ais-fw pipeline: competition between the models (emit / absorb) first,\n"
          "# then the interactions in this order. Model paths are relative to this file.\n")


@dataclass(frozen=True)
class Problem:
    """Something wrong in one table of a pipeline: where, what, and what to do."""

    table: str
    index: int
    key: str | None
    message: str
    hint: str = ""

    def located(self, text: str | None, path: Path | None) -> str:
        """``FILE, line N: [[table]] I, field 'key': message`` (the parts that are known)."""
        where = f"[[{self.table}]] {self.index + 1}"
        where += f", field '{self.key}'" if self.key else ""
        line = line_of(text, self.table, self.index, self.key) if text is not None else None
        prefix = f"{path}" if path is not None else ""
        prefix += f", line {line}" if line is not None else ""
        return f"{prefix + ': ' if prefix else ''}{where}: {self.message}"


def read_text(path: Path) -> str:
    """The pipeline file's text, or a clear error."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"pipeline file not found: {path}", "check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read pipeline file {path}: {exc}", "it must be a UTF-8 TOML file") from None


def parse(text: str, path: Path) -> dict[str, Any]:
    """The TOML document; syntax errors name the line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{path}: not valid TOML: {exc}",
                             "see the example in the README (Pipelines: competition and interactions)") from None


def validation_error(exc: ValidationError, text: str, path: Path) -> InputFileError:
    """The first thing pydantic found wrong, named by table, field and line."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a typo explains the rest
    loc = error["loc"]
    if len(loc) == 1 and error["type"] == "extra_forbidden":
        return InputFileError(f"{path}: unknown table '{loc[0]}'", "tables: [[model]], [[interaction]]")
    if len(loc) == 1 and error["type"] == "missing" and loc[0] == "model":
        return InputFileError(f"{path}: no [[model]] table", "a pipeline lists at least one model")
    if len(loc) < 3 or not isinstance(loc[1], int):
        return InputFileError(f"{path}: '{loc[0]}': {error['msg']}", f"write [[{loc[0]}]] tables")
    table, index, key = str(loc[0]), int(loc[1]), str(loc[2])
    if error["type"] == "extra_forbidden":
        return InputFileError(Problem(table, index, key, "unknown field").located(text, path),
                              f"fields of [[{table}]]: {TABLES.get(table, '?')}")
    what = "missing" if error["type"] == "missing" else f"{error['msg']} (got {error['input']!r})"
    problem = Problem(table, index, key, what)
    return InputFileError(problem.located(text, path), f"fields of [[{table}]]: {TABLES.get(table, '?')}")


def line_of(text: str, table: str, index: int, key: str | None = None) -> int | None:
    """The line (1-based) of ``key`` in the ``index``-th ``[[table]]``, else of its header."""
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines) if (m := _TABLE_HEADER.match(line)) and m.group(1) == table]
    if index >= len(starts):
        return None
    start = starts[index]
    end = next((n for n in range(start + 1, len(lines)) if lines[n].lstrip().startswith("[")), len(lines))
    if key is not None:
        assignment = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for n in range(start + 1, end):
            if assignment.match(lines[n]):
                return n + 1
    return start + 1


# ---- writing ----------------------------------------------------------------------------

def to_toml(pipeline: Any, paths: list[str]) -> str:
    """The pipeline as TOML text, with each model's path as given in ``paths``."""
    parts = [HEADER]
    for model, path in zip(pipeline.models, paths):
        parts.append(_table("model", {"path": path, "name": model.name, "emit": model.emit,
                                      "absorb": model.absorb, "threshold": model.threshold}))
    for interaction in pipeline.interactions:
        parts.append(_table("interaction", interaction.model_dump()))
    return "\n".join(parts)


def _table(name: str, fields: dict[str, Any]) -> str:
    lines = [f"[[{name}]]"]
    lines += [f"{key} = {_value(value)}" for key, value in fields.items() if value is not None]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value))
    text = json.dumps(str(value), ensure_ascii=False)  # a TOML basic string, but for DEL
    return text.replace("\x7f", "\\u007f")
