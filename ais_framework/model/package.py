"""Saving and loading model packages (``.aism``).

A package is a zip of ``model.json`` (metadata with the sha256 of every other member),
``weights.safetensors``, ``test_input.npy`` / ``test_output.npy`` (the network's
probabilities on the input, computed when saving) and an optional ``preview.png``.
Loading reads safetensors and ``.npy`` without pickle: it never executes code from the file.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import UsageError
from .archive import Package, array_bytes, read_package, sha256, verify_members, write_package
from .metadata import (METADATA_NAME, PREVIEW_NAME, TEST_INPUT_NAME, TEST_OUTPUT_NAME, WEIGHTS_NAME,
                       ModelMetadata, coerce_metadata, metadata_json, parse_metadata)
from .network import network_from_weights, predict, resolve_architecture, version_warnings, weights_bytes

MODEL_SUFFIX = ".aism"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class LoadedModel:
    """A model ready to use: its metadata, the network (eval mode, weights loaded) and its spec."""

    metadata: ModelMetadata
    network: Any
    spec: Any
    path: Path
    warnings: list[str] = field(default_factory=list)


def read_metadata(path: str | os.PathLike) -> ModelMetadata:
    """The metadata of a package, read cheaply (only ``model.json``; no torch, no checksums)."""
    package = read_package(path, names=(METADATA_NAME,))
    return parse_metadata(package[METADATA_NAME], str(package.path))


def open_verified(path: str | os.PathLike) -> tuple[Package, ModelMetadata]:
    """Every member of a package, with the metadata parsed and every sha256 checked."""
    package = read_package(path)
    metadata = parse_metadata(package[METADATA_NAME], str(package.path))
    verify_members(package, metadata)
    return package, metadata


def load_model(path: str | os.PathLike, device: Any = "cpu", registry: Any = None) -> LoadedModel:
    """Check a package and build its network with the installed architecture plugin.

    Raises :class:`InputFileError` (not a zip, missing or unexpected member, sha256 mismatch,
    bad metadata, weights that do not fit) or :class:`PluginError` (architecture not installed).
    """
    package, metadata = open_verified(path)
    entry = resolve_architecture(metadata, registry, str(package.path))
    network = network_from_weights(entry.spec, metadata, package[WEIGHTS_NAME], str(package.path))
    network.to(device)
    return LoadedModel(metadata, network, entry.spec, package.path, version_warnings(metadata, entry))


def save_model(path: str | os.PathLike, network: Any, metadata: dict[str, Any] | ModelMetadata,
               test_input: np.ndarray, preview_png: bytes | None = None, registry: Any = None) -> Path:
    """Write ``network`` with its metadata as a package at ``path`` (atomically); returns the path.

    The architecture must be installed: its distribution and version are recorded, and the
    network is rebuilt from the saved weights to prove the package loads. ``test_output`` is
    that rebuilt network's probabilities on ``test_input`` (N, depth, H, W), or (N, 1, D, H, W) in 3D.
    """
    meta = coerce_metadata(metadata)
    entry = resolve_architecture(meta, registry, str(path))
    meta = _with_provenance(meta, entry.source)
    test_input = _checked_test_input(test_input, meta)
    weights = weights_bytes(network)
    rebuilt = network_from_weights(entry.spec, meta, weights, str(path))
    members = {WEIGHTS_NAME: weights, TEST_INPUT_NAME: array_bytes(test_input),
               TEST_OUTPUT_NAME: array_bytes(predict(rebuilt, test_input))}
    if preview_png is not None:
        members[PREVIEW_NAME] = _checked_png(preview_png)
    meta = meta.model_copy(update={"members": {name: sha256(data) for name, data in members.items()}})
    members[METADATA_NAME] = metadata_json(meta)
    return write_package(path, members)


def _with_provenance(meta: ModelMetadata, source: Any) -> ModelMetadata:
    training = meta.training.model_copy(update={"framework_version": meta.training.framework_version or __version__})
    return meta.model_copy(update={"architecture_distribution": source.distribution,
                                   "architecture_version": source.version, "training": training})


def _checked_test_input(test_input: np.ndarray, meta: ModelMetadata) -> np.ndarray:
    array = np.asarray(test_input)
    if array.dtype.kind not in "fiu" or not np.all(np.isfinite(array)):
        raise UsageError("test_input must be a finite numeric array", "pass a normalised crop of the training data")
    want = (5, 1) if meta.dims == "3d" else (4, meta.depth)
    if array.ndim != want[0] or array.shape[1] != want[1] or 0 in array.shape:
        layout = "(N, 1, D, H, W)" if meta.dims == "3d" else f"(N, {meta.depth}, H, W)"
        raise UsageError(f"test_input has shape {array.shape}; a {meta.dims} model wants {layout}",
                         f"e.g. one box: shape (1, {meta.depth}, {meta.box}, {meta.box})")
    return array.astype(np.float32)


def _checked_png(data: bytes) -> bytes:
    if not bytes(data).startswith(PNG_SIGNATURE):
        raise UsageError("preview_png is not a PNG image", "pass the bytes of a .png file, or None")
    return bytes(data)


def describe_size(n_bytes: int) -> str:
    """``12.3 MB`` style sizes for listings."""
    if n_bytes < 1000:
        return f"{n_bytes} B"
    exponent = min(int(math.log(n_bytes, 1000)), 3)
    return f"{n_bytes / 1000**exponent:.1f} {['B', 'kB', 'MB', 'GB'][exponent]}"
