"""Competition: models flagged ``emit`` suppress every ``absorb`` model whose value is lower.

Voxel by voxel, an absorbing model is set to 0 where it is strictly lower than the strongest
emitting model (the emitters' values before any suppression). Ties survive, so a model that
both emits and absorbs never suppresses itself. A pipeline runs competition before the
interactions; it is set per model (``emit = true``, ``absorb = true``), not as an interaction.
"""
from __future__ import annotations

import numpy as np

from ais_framework import hookimpl
from ais_framework.specs import InteractionSpec


def apply(child: np.ndarray, parent: np.ndarray, *, threshold: float | None = None,
          radius_px: float | None = None, ball: bool = False) -> np.ndarray:
    """The absorbing ``child``, zeroed where the strongest emitter (``parent``) is higher."""
    return np.multiply(child, child >= parent, dtype=np.float32)


def no_halo(radius_px: float, ball: bool) -> int:
    """Competition works voxel by voxel."""
    return 0


@hookimpl
def ais_fw_interactions():
    return [InteractionSpec(
        name="competition", title="Competition", apply=apply, halo=no_halo,
        description="emitting models suppress absorbing models wherever they are higher (voxel by voxel)",
    )]
