"""``model.json``: what a model package says about its network, validated with pydantic.

Importing this module is cheap (no torch). Field errors name the field; they reach the
user as :class:`InputFileError` (a file we read) or :class:`UsageError` (values we were given).
"""
from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import InputFileError, UsageError

SCHEMA_VERSION = 1
METADATA_NAME = "model.json"
WEIGHTS_NAME = "weights.safetensors"
TEST_INPUT_NAME = "test_input.npy"
TEST_OUTPUT_NAME = "test_output.npy"
PREVIEW_NAME = "preview.png"
REQUIRED_MEMBERS = (METADATA_NAME, WEIGHTS_NAME, TEST_INPUT_NAME, TEST_OUTPUT_NAME)
KNOWN_MEMBERS = (*REQUIRED_MEMBERS, PREVIEW_NAME)
SHA256_PATTERN = r"^[0-9a-f]{64}$"


class Normalisation(BaseModel):
    """How tomogram values are normalised before they reach the network.

    ``method`` is recomputed per tomogram at inference; ``center``/``scale`` record the values
    the training data had (for reference, and for methods that use fixed values).
    """

    model_config = ConfigDict(extra="forbid")

    method: str = Field("median_mad", min_length=1)
    center: float | None = Field(None, allow_inf_nan=False)
    scale: float | None = Field(None, gt=0, allow_inf_nan=False)


class TrainingRecord(BaseModel):
    """How the network was trained. Extra keys are kept (trainers may record more)."""

    model_config = ConfigDict(extra="allow")

    epochs: int = Field(0, ge=0)
    loss: str = ""
    best_loss: float | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    seconds: float | None = Field(None, ge=0)
    samples: int | None = Field(None, ge=0)
    seed: int | None = None
    date: str | None = None
    framework_version: str = ""


class ModelMetadata(BaseModel):
    """Everything ``model.json`` holds. ``members`` maps every other member to its sha256."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    name: str = Field(min_length=1)
    feature: str = Field(min_length=1)
    version: str = Field("1", min_length=1)
    architecture: str = Field(min_length=1)
    architecture_distribution: str = ""
    architecture_version: str = ""
    architecture_options: dict[str, Any] = Field(default_factory=dict)
    dims: Literal["2d", "2.5d", "3d"] = "2.5d"
    depth: int = Field(ge=1)
    box: int = Field(ge=1)
    pixel_size_A: float = Field(gt=0, allow_inf_nan=False)
    normalisation: Normalisation = Field(default_factory=Normalisation)
    preprocessing: str = "none"
    threshold: float = Field(0.5, ge=0, le=1)
    colour: str = Field("#ffcc00", pattern=r"^#[0-9a-fA-F]{6}$")
    training: TrainingRecord = Field(default_factory=TrainingRecord)
    author: str = ""
    licence: str = ""
    description: str = ""
    created: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    members: dict[str, str] = Field(default_factory=dict)

    @field_validator("depth")
    @classmethod
    def _odd_depth(cls, depth: int) -> int:
        if depth % 2 == 0:
            raise ValueError("depth must be odd (the centre slice is the one segmented)")
        return depth

    @field_validator("architecture_options")
    @classmethod
    def _plain_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        for key, value in options.items():
            if not _is_plain(value):
                raise ValueError(f"option '{key}' must be a plain JSON value (number, text, bool, list, dict)")
        return options

    @field_validator("members")
    @classmethod
    def _known_members(cls, members: dict[str, str]) -> dict[str, str]:
        for name, digest in members.items():
            if name not in KNOWN_MEMBERS or name == METADATA_NAME:
                raise ValueError(f"unknown member '{name}' (known: {', '.join(KNOWN_MEMBERS[1:])})")
            if not re.match(SHA256_PATTERN, digest):
                raise ValueError(f"sha256 of '{name}' must be 64 lowercase hex digits")
        return members


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def describe_validation_error(exc: ValidationError, limit: int = 3) -> str:
    """``field 'a.b': message`` for the first few errors pydantic found."""
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        parts.append(f"field '{where}': {error['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def coerce_metadata(metadata: dict[str, Any] | ModelMetadata) -> ModelMetadata:
    """Metadata given by a caller (save time): a dict is validated; errors are usage errors."""
    if isinstance(metadata, ModelMetadata):
        return metadata.model_copy(deep=True)
    try:
        return ModelMetadata.model_validate(metadata)
    except ValidationError as exc:
        raise UsageError(f"model metadata: {describe_validation_error(exc)}",
                         "see ais_framework.model.ModelMetadata for the fields and their limits") from exc


def parse_metadata(data: bytes, source: str) -> ModelMetadata:
    """Metadata read from ``source`` (a package file): bad JSON, newer schema or bad fields are errors."""
    raw = _json_object(data, source)
    version = raw.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise InputFileError(
            f"{source}: model schema version {version} is newer than this ais-fw reads (up to {SCHEMA_VERSION})",
            "upgrade ais-fw: pip install -U ais-fw",
        )
    try:
        return ModelMetadata.model_validate(raw)
    except ValidationError as exc:
        raise InputFileError(f"{source}: {METADATA_NAME}: {describe_validation_error(exc)}",
                             "the package's metadata is invalid; ask its author for a fixed file") from exc


def _json_object(data: bytes, source: str) -> dict[str, Any]:
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{source}: {METADATA_NAME} is not valid JSON: {exc}",
                             "the package is damaged; download it again") from exc
    if not isinstance(raw, dict):
        raise InputFileError(f"{source}: {METADATA_NAME} must hold a JSON object",
                             "the package is damaged; download it again")
    return raw


def metadata_json(metadata: ModelMetadata) -> bytes:
    """The bytes written as ``model.json``."""
    return (metadata.model_dump_json(indent=2) + "\n").encode("utf-8")
