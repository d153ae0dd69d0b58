"""Training: training sets cut from annotations, augmentation, and the Lightning system.

Importing this package is cheap (no torch). The torch/Lightning parts live in their own
modules (``module``, ``datamodule``, ``fit``); the numpy-only parts are re-exported here::

    from ais_framework.training import TrainingSet, extract_from_labels, extract_from_store, merge
"""
from __future__ import annotations

from typing import Any

_LAZY = {
    "TrainingSet": "trainingset", "extract_from_labels": "trainingset", "extract_from_store": "trainingset",
    "merge": "trainingset", "check_box_options": "trainingset", "extra_augment": "augment", "orient": "augment",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
