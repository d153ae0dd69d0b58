"""Training-data options shared by ``ais-fw train`` and ``ais-fw compare``.

Label volumes are given as ``--tomogram T --labels L`` pairs, restricted by ``--slices``
(one for all tomograms, or one per tomogram); annotation stores as ``--annotations``.
"""
from __future__ import annotations

from pathlib import Path


def parse_slices(text: str) -> tuple[int, ...]:
    """'10,20,30', '10-14,30' or '4-88:4' (every 4th) -> (10, 20, 30) / (10, 11, 12, 13, 14, 30) / (4, 8, ..., 88)."""
    from ..errors import UsageError

    slices: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            span, _, step = part.partition(":")
            lo, _, hi = span.partition("-")
            if (hi and int(hi) < int(lo)) or (step and (not hi or int(step) < 1)):
                raise ValueError(part)
            slices.extend(range(int(lo), int(hi) + 1, int(step or 1)) if hi else [int(lo)])
    except ValueError:
        slices = []
    if not slices:
        raise UsageError(f"--slices '{text}' is not a list of slice numbers",
                         "write e.g. --slices 10,20,30-35 or 4-88:4 (every 4th)")
    return tuple(slices)


def label_sources(tomograms: list[Path], labels: list[Path], slices: list[str]) -> list:
    """The ``LabelSource`` of every ``--tomogram``/``--labels`` pair, with its ``--slices``."""
    from ..errors import UsageError
    from ..training.run import LabelSource

    if len(tomograms) != len(labels):
        raise UsageError(f"{len(tomograms)} --tomogram but {len(labels)} --labels", "give one --labels per --tomogram")
    if len(slices) not in (0, 1, len(tomograms)):
        raise UsageError("give one --slices for all tomograms, or one per --tomogram", "e.g. --slices 10,20,30")
    chosen = slices * len(tomograms) if len(slices) == 1 else slices or [None] * len(tomograms)
    return [LabelSource(t, l, None if s is None else parse_slices(s)) for t, l, s in zip(tomograms, labels, chosen)]
