"""The one library API. The CLI, the terminal UI and notebooks all call these functions.

Functions here return plain data (dicts, lists, paths, Volumes) and raise ``AisError``
subclasses; they never print or exit.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .plugins import get_registry
from .volume import read_volume, volume_stats


def list_plugins(strict: bool = False) -> dict[str, Any]:
    """Every loaded plugin spec (kind, name, title, distribution, version) and every failure."""
    registry = get_registry(strict=strict)
    plugins = [
        {
            "kind": entry.spec.kind,
            "name": entry.spec.name,
            "title": entry.spec.title,
            "plugin": entry.source.plugin,
            "module": entry.source.module,
            "distribution": entry.source.distribution,
            "version": entry.source.version,
        }
        for entry in registry.all_specs()
    ]
    failures = [vars(f) if not hasattr(f, "__dataclass_fields__") else _asdict(f) for f in registry.failures]
    return {"plugins": plugins, "failures": failures}


def _asdict(obj: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(obj)


def volume_info(path: str | os.PathLike, pixel_size: float | None = None) -> dict[str, Any]:
    """Facts about a volume file: shape (Z, Y, X), dtype, pixel size, origin and value statistics."""
    volume = read_volume(path, pixel_size=pixel_size, require_pixel_size=False)
    stats = volume_stats(volume.data)
    return {
        "path": str(Path(path)),
        "shape_zyx": list(volume.shape),
        "dtype": str(volume.data.dtype),
        "pixel_size_A": volume.pixel_size,
        "voxel_size_A": list(volume.voxel_size) if volume.voxel_size else None,
        "origin_A": list(volume.origin),
        **stats,
    }


def make_synthetic(output: str | os.PathLike, seed: int = 0, shape: tuple[int, int, int] | None = None,
                   pixel_size: float | None = None) -> dict[str, Any]:
    """Write a synthetic tomogram with known ground truth into ``output``; returns its manifest."""
    from .synth import DEFAULT_PIXEL_SIZE, DEFAULT_SHAPE, write_synthetic

    return write_synthetic(
        Path(output),
        seed=seed,
        shape=tuple(shape) if shape else DEFAULT_SHAPE,
        pixel_size=pixel_size if pixel_size is not None else DEFAULT_PIXEL_SIZE,
    )
