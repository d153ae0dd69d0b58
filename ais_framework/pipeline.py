"""Pipelines: several models segmented together, then competition and interactions.

A pipeline file (TOML) lists the models and the rules between them::

    [[model]]
    path = "carbon.aism"        # relative to the pipeline file's folder
    emit = true
    [[model]]
    path = "membrane.aism"
    absorb = true
    [[interaction]]
    child = "membrane"
    parent = "carbon"
    kind = "avoid"
    radius_nm = 10
    threshold = 0.5

``[[model]]``: ``path`` (a package file, or an installed model's ``NAME`` or ``NAME@VERSION``);
``name`` (default: the model's feature; interactions and output
files use it); ``emit`` / ``absorb`` (competition); ``threshold`` (where this model counts as
present when it is an interaction's parent and the interaction gives none; default 0.5).
``[[interaction]]``: ``child`` and ``parent`` (model names), ``kind`` (an installed
interaction plugin: colocalize, avoid, ...), ``radius_nm`` (> 0), ``threshold`` and ``ball``
(reach in 3D instead of a disc in each slice).

:func:`postprocess` works on one slab: competition first (emitters' original values), then
the interactions in the file's order, each reading the arrays as the previous ones left them.
A slab given :func:`halo_slices` extra slices on each side gives, once cropped, exactly the
whole-volume result.
"""
from __future__ import annotations

import functools
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from . import pipeline_file
from .errors import AisError, InputFileError, PixelSizeError, PluginError, UsageError

DEFAULT_THRESHOLD = 0.5
COMPETITION = "competition"
_STRICT = ConfigDict(extra="forbid", strict=True, validate_assignment=True, populate_by_name=True)


class PipelineModel(BaseModel):
    """One ``[[model]]`` of a pipeline."""

    model_config = _STRICT

    path: str = Field(min_length=1)
    name: str | None = Field(None, min_length=1)
    emit: bool = False
    absorb: bool = False
    threshold: float | None = Field(None, ge=0, le=1)


class PipelineInteraction(BaseModel):
    """One ``[[interaction]]``: ``kind`` changes ``child`` near where ``parent`` is present."""

    model_config = _STRICT

    child: str = Field(min_length=1)
    parent: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    radius_nm: float = Field(gt=0, allow_inf_nan=False)
    threshold: float | None = Field(None, ge=0, le=1)
    ball: bool = False


class Pipeline(BaseModel):
    """The models of a pipeline and their interactions, in the order they are applied."""

    model_config = _STRICT

    models: list[PipelineModel] = Field(alias="model", min_length=1)
    interactions: list[PipelineInteraction] = Field(default_factory=list, alias="interaction")
    _folder: Path | None = PrivateAttr(None)

    @property
    def folder(self) -> Path:
        """Where relative model paths start: the pipeline file's folder (or the working folder)."""
        return self._folder or Path.cwd()

    @property
    def names(self) -> list[str]:
        """The models' names, in file order (after :func:`load_pipeline` or :func:`check_pipeline`)."""
        return [model.name or "" for model in self.models]

    def model_path(self, model: PipelineModel) -> Path:
        """A model's file: relative paths taken from the pipeline's folder; a ``path`` that is no
        file there but an installed model's NAME or NAME@VERSION is that model's package."""
        path = Path(model.path).expanduser()
        local = path if path.is_absolute() else self.folder / path
        if local.is_file():
            return local
        return _installed_model(model.path) or local

    def model_named(self, name: str) -> PipelineModel:
        """The model called ``name``."""
        for model in self.models:
            if model.name == name:
                return model
        raise UsageError(f"the pipeline has no model '{name}'", f"models: {', '.join(self.names)}")

    def threshold_of(self, interaction: PipelineInteraction) -> float:
        """The interaction's threshold, else its parent model's, else 0.5."""
        if interaction.threshold is not None:
            return interaction.threshold
        parent = self.model_named(interaction.parent).threshold
        return DEFAULT_THRESHOLD if parent is None else parent


# ---- reading, checking and writing -----------------------------------------------------

def load_pipeline(path: str | os.PathLike, registry: Any = None) -> Pipeline:
    """Read and check a pipeline file; errors name the table, the field and the line.

    Model paths must exist (or name installed models); a model without ``name`` is named after its feature; interaction
    kinds must be installed plugins and name models of the file.
    """
    path = Path(path)
    text = pipeline_file.read_text(path)
    try:
        pipeline = Pipeline.model_validate(pipeline_file.parse(text, path))
    except ValidationError as exc:
        raise pipeline_file.validation_error(exc, text, path) from None
    pipeline._folder = path.resolve().parent
    problem = _first_problem(pipeline, registry)
    if problem is not None:
        raise InputFileError(problem.located(text, path), problem.hint)
    return pipeline


def check_pipeline(pipeline: Pipeline, registry: Any = None) -> Pipeline:
    """Name unnamed models after their feature and check the cross-references (as loading does).

    Raises :class:`UsageError` naming the table and field at fault; returns ``pipeline``.
    """
    problem = _first_problem(pipeline, registry)
    if problem is not None:
        raise UsageError(problem.located(None, None), problem.hint)
    return pipeline


def save_pipeline(pipeline: Pipeline, path: str | os.PathLike, registry: Any = None) -> Path:
    """Check ``pipeline`` and write it as TOML (atomically); relative model paths follow the move."""
    from .atomic import write_text_atomic

    check_pipeline(pipeline, registry)
    target = Path(path)
    paths = [_path_from(pipeline, model, target.resolve().parent) for model in pipeline.models]
    write_text_atomic(target, pipeline_file.to_toml(pipeline, paths))
    return target


def _path_from(pipeline: Pipeline, model: PipelineModel, folder: Path) -> str:
    if Path(model.path).expanduser().is_absolute() or _is_installed_name(pipeline, model):
        return model.path
    try:
        return Path(os.path.relpath(pipeline.model_path(model).resolve(), folder)).as_posix()
    except ValueError:  # another drive
        return str(pipeline.model_path(model).resolve())


def _first_problem(pipeline: Pipeline, registry: Any) -> pipeline_file.Problem | None:
    for problem in _model_problems(pipeline):
        return problem
    for index, interaction in enumerate(pipeline.interactions):
        for problem in _interaction_problems(pipeline, index, interaction, registry):
            return problem
    return None


def _model_problems(pipeline: Pipeline):
    from .model import read_metadata

    Problem, seen = pipeline_file.Problem, {}
    for index, model in enumerate(pipeline.models):
        path = pipeline.model_path(model)
        if not path.is_file():
            also = f" and no installed model '{model.path}'" if _looks_like_name(model.path) else ""
            yield Problem("model", index, "path", f"model file not found: {path}{also}", _not_found_hint())
            return
        if model.name is None:
            try:
                model.name = read_metadata(path).feature
            except AisError as exc:
                yield Problem("model", index, "path", exc.message, exc.hint)
                return
        if model.name in seen:
            yield Problem("model", index, "name", f"two models are called '{model.name}' "
                          f"([[model]] {seen[model.name] + 1} and {index + 1})",
                          "give one of them another `name = ...`")
            return
        seen[model.name] = index


def _installed_model(text: str) -> Path | None:
    """The package of the installed model ``text`` (NAME or NAME@VERSION), or None."""
    from .model.installed import resolve_model

    if not _looks_like_name(text):
        return None
    try:
        found = resolve_model(text)
    except AisError:
        return None
    return None if found == Path(text) else found  # a file in the working folder is not an installed model


def _looks_like_name(text: str) -> bool:
    from .model.installed import NAME_PATTERN, VERSION_PATTERN

    return not text.endswith(".aism") and re.fullmatch(f"{NAME_PATTERN}(@{VERSION_PATTERN})?", text) is not None


def _is_installed_name(pipeline: Pipeline, model: PipelineModel) -> bool:
    path = Path(model.path).expanduser()
    local = path.is_absolute() or (pipeline.folder / path).is_file()
    return not local and _installed_model(model.path) is not None


def _not_found_hint() -> str:
    from .model.installed import installed_models

    names = sorted({f"{r['name']}@{r['version']}" for r in installed_models()})
    return ("paths are relative to the pipeline file's folder; an installed model is named NAME or "
            f"NAME@VERSION (installed: {', '.join(names) or 'none'}; `ais-fw models` lists them)")


def _interaction_problems(pipeline: Pipeline, index: int, interaction: PipelineInteraction, registry: Any):
    Problem = pipeline_file.Problem
    installed = sorted(_registry(registry).specs("interaction"))
    if interaction.kind == COMPETITION:
        yield Problem("interaction", index, "kind", "competition is not an interaction",
                      "set `emit = true` / `absorb = true` on the [[model]] tables instead")
    elif interaction.kind not in installed:
        kinds = ", ".join(k for k in installed if k != COMPETITION) or "none"
        yield Problem("interaction", index, "kind", f"unknown interaction kind '{interaction.kind}'",
                      f"installed: {kinds}; `ais-fw plugins` lists every plugin")
    for key in ("child", "parent"):
        name = getattr(interaction, key)
        if name not in pipeline.names:
            yield Problem("interaction", index, key, f"{key} '{name}' is not a model of this pipeline",
                          f"models: {', '.join(pipeline.names)} (a model's name defaults to its feature)")
    if interaction.child == interaction.parent:
        yield Problem("interaction", index, "parent", f"model '{interaction.child}' cannot interact with itself",
                      "the parent must be another model")


# ---- applying a pipeline to a slab -------------------------------------------------------

def radius_px(interaction: PipelineInteraction, pixel_size_A: float) -> float:
    """The interaction's radius in pixels of a tomogram with this pixel size (Å)."""
    return interaction.radius_nm * 10.0 / _checked_pixel_size(pixel_size_A)


def halo_slices(pipeline: Pipeline, pixel_size_A: float, registry: Any = None) -> int:
    """Extra slices a slab needs on each side so that :func:`postprocess` is exact on the slab.

    A chain of interactions adds up (a child that is the parent of a later interaction passes
    on its own halo); competition needs none.
    """
    registry = _registry(registry)
    inexact = {name: 0 for name in pipeline.names}  # slices at each slab edge not yet exact
    for interaction in pipeline.interactions:
        spec = registry.get("interaction", interaction.kind)
        reach = _halo_of(spec, radius_px(interaction, pixel_size_A), interaction.ball)
        inexact[interaction.child] = max(inexact[interaction.child], inexact[interaction.parent] + reach)
    return max(inexact.values(), default=0)


def _halo_of(spec: Any, radius: float, ball: bool) -> int:
    if spec.halo is None:
        return math.ceil(radius)
    halo = spec.halo(radius, ball)
    if not isinstance(halo, (int, np.integer)) or halo < 0:
        raise PluginError(f"interaction '{spec.name}' gave a halo of {halo!r}, not a whole number >= 0",
                          "ask the plugin's author to fix its halo()")
    return int(halo)


def postprocess(probs: dict[str, np.ndarray], pipeline: Pipeline, pixel_size_A: float,
                registry: Any = None) -> dict[str, np.ndarray]:
    """Competition, then the interactions, on one slab of float32 probabilities per model name.

    Returns a new dict (other names pass through); arrays no rule changed are the ones given,
    and the given arrays are never modified.
    """
    registry = _registry(registry)
    _checked_pixel_size(pixel_size_A)
    _check_predictions(probs, pipeline.names)
    result = dict(probs)
    _compete(result, pipeline, registry)
    for interaction in pipeline.interactions:
        spec = registry.get("interaction", interaction.kind)
        child = result[interaction.child]
        changed = spec.apply(child, result[interaction.parent], threshold=pipeline.threshold_of(interaction),
                             radius_px=radius_px(interaction, pixel_size_A), ball=interaction.ball)
        result[interaction.child] = _checked_output(changed, child, spec.name)
    return result


def _check_predictions(probs: dict[str, np.ndarray], names: list[str]) -> None:
    missing = [name for name in names if name not in probs]
    if missing:
        raise UsageError(f"no predictions for {', '.join(missing)}", f"the pipeline needs {', '.join(names)}")
    shapes = {np.shape(probs[name]) for name in names}
    if len(shapes) > 1:
        raise UsageError(f"the models' predictions differ in shape: {sorted(shapes)}", "give one slab of each model")
    for name in names:
        if not np.issubdtype(np.asarray(probs[name]).dtype, np.floating):
            raise UsageError(f"the predictions of '{name}' are {np.asarray(probs[name]).dtype}, not probabilities",
                             "give float32 probabilities (0..1), not uint8 0-255 outputs")


def _compete(result: dict[str, np.ndarray], pipeline: Pipeline, registry: Any) -> None:
    emitters = [model.name for model in pipeline.models if model.emit]
    absorbers = [model.name for model in pipeline.models if model.absorb and emitters != [model.name]]
    if not emitters or not absorbers:
        return
    rule = registry.get("interaction", COMPETITION)
    strongest = functools.reduce(np.maximum, [result[name] for name in emitters])
    for name in absorbers:
        absorbed = rule.apply(result[name], strongest, threshold=None, radius_px=0.0, ball=False)
        result[name] = _checked_output(absorbed, result[name], rule.name)


def _checked_output(changed: Any, child: np.ndarray, kind: str) -> np.ndarray:
    if not isinstance(changed, np.ndarray) or changed.shape != np.shape(child):
        got = getattr(changed, "shape", type(changed).__name__)
        raise PluginError(f"interaction '{kind}' returned {got}, not an array of shape {np.shape(child)}",
                          "ask the plugin's author to return the new child array")
    return changed


def _checked_pixel_size(pixel_size_A: float) -> float:
    if not pixel_size_A or not math.isfinite(pixel_size_A) or pixel_size_A <= 0:
        raise PixelSizeError(f"pixel size {pixel_size_A!r} Å: interactions need a pixel size > 0",
                             "pass the tomogram's pixel size (--pixel-size)")
    return float(pixel_size_A)


def _registry(registry: Any) -> Any:
    if registry is not None:
        return registry
    from .plugins import get_registry

    return get_registry()
