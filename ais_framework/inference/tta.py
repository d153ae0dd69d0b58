"""Test-time augmentation: the 8 dihedral variants of the XY plane (last two axes).

Variant ``k`` rotates by ``k % 4`` quarter turns, then mirrors left-right when ``k >= 4``;
:func:`undo_dihedral` maps a prediction of the variant back onto the original plane.
Variant 0 is the identity.
"""
from __future__ import annotations

from typing import Any


def dihedral(x: Any, k: int) -> Any:
    """Variant ``k`` (0..7) of a tensor's last two axes."""
    import torch

    out = torch.rot90(x, k % 4, dims=(-2, -1)) if k % 4 else x
    return torch.flip(out, dims=(-1,)) if k >= 4 else out


def undo_dihedral(x: Any, k: int) -> Any:
    """The inverse of :func:`dihedral` for the same ``k``."""
    import torch

    out = torch.flip(x, dims=(-1,)) if k >= 4 else x
    return torch.rot90(out, -(k % 4), dims=(-2, -1)) if k % 4 else out
