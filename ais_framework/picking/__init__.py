"""Particle picking from segmentations: choose a picker plugin, run it on files, write the picks.

The pickers themselves are plugins (``ais-fw plugins`` lists them; builtins: blob, centroid,
filament in ``plugins/pickers``). This module runs one on a segmentation file
(:func:`pick_file`) or on many in parallel processes (:func:`pick_many`), each writing one
coordinate file named after the segmentation: ``{tomogram}__{feature}_picks{ext}``.
Segmentations are uint8 0-255 (what ``ais-fw segment`` writes) or float 0..1 volumes.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AisError, UsageError
from ..picks import Picks, format_for, write_picks
from .common import check_threshold


def picker_spec(mode: str):
    """The picker plugin named ``mode`` (an error lists the known ones)."""
    from ..plugins import get_registry

    return get_registry().get("picker", mode)


def check_parameters(mode: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` without unset (None) values; an unknown name is a UsageError listing the known ones."""
    spec = picker_spec(mode)
    given = {k: v for k, v in params.items() if v is not None}
    known = getattr(spec, "parameters", {}) or {}
    unknown = sorted(set(given) - set(known)) if known else []
    if unknown:
        raise UsageError(f"picker '{mode}' has no parameter {', '.join(unknown)}",
                         f"its parameters: {', '.join(known)}")
    return given


def pick_volume(volume, mode: str = "blob", **params: Any) -> Picks:
    """Run picker ``mode`` on an in-memory :class:`~ais_framework.volume.Volume`."""
    return picker_spec(mode).pick(volume, **check_parameters(mode, params))


def pick_file(segmentation: str | os.PathLike, mode: str = "blob", pixel_size: float | None = None,
              **params: Any) -> Picks:
    """Run picker ``mode`` on a segmentation file; the picks are in its pixels."""
    from ..volume import read_volume

    check_parameters(mode, params)
    volume = read_volume(segmentation, pixel_size=pixel_size)
    return pick_volume(volume, mode, **params)


def output_path(outdir: Path, segmentation: Path, fmt: str) -> Path:
    """``outdir/{segmentation stem}_picks{ext}`` with the format's first extension."""
    spec = format_for(outdir / "x", fmt, "write")
    return outdir / f"{Path(segmentation).stem}_picks{spec.extensions[0]}"


@dataclass
class PickJob:
    """One segmentation to pick and where to write its picks."""

    segmentation: Path
    output: Path
    mode: str
    fmt: str
    pixel_size: float | None = None
    params: dict[str, Any] = field(default_factory=dict)


def run_job(job: PickJob) -> dict[str, Any]:
    """Pick one segmentation and write its file; returns a summary (``error`` set on failure)."""
    summary: dict[str, Any] = {"segmentation": str(job.segmentation), "output": str(job.output)}
    try:
        picks = pick_file(job.segmentation, job.mode, job.pixel_size, **job.params)
        write_picks(picks, job.output, fmt=job.fmt)
    except AisError as exc:
        return {**summary, "output": None, "error": exc.message, "hint": exc.hint}
    note = picks.metadata.get("note")
    if len(picks) == 0 and not note:
        note = "no particle passed the size, margin and spacing limits"
    return {**summary, "tomogram": picks.tomogram, "picks": len(picks), "binning": picks.metadata.get("binning"),
            "note": note if len(picks) == 0 else None}


def pick_many(segmentations: list[str | os.PathLike], outdir: str | os.PathLike, mode: str = "blob",
              fmt: str = "star", jobs: int = 0, pixel_size: float | None = None, on_done=None,
              **params: Any) -> list[dict[str, Any]]:
    """Pick many segmentations (``jobs`` processes; 0 = one per CPU), one output file each.

    Options are checked before any work starts. ``on_done(summary)`` is called as each file
    finishes. A file that fails does not stop the others: its summary has ``error``.
    """
    check_parameters(mode, params)
    if params.get("threshold") is not None:
        check_threshold(params["threshold"])
    outdir = Path(outdir)
    paths = [Path(s) for s in segmentations]
    todo = [PickJob(p, output_path(outdir, p, fmt), mode, fmt, pixel_size, params) for p in paths]
    _check_unique(todo)
    workers = max(1, min(jobs or (os.cpu_count() or 1), len(todo)))
    results = []
    if workers == 1:
        for job in todo:
            results.append(_report(run_job(job), on_done))
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for summary in pool.map(run_job, todo):
            results.append(_report(summary, on_done))
    return results


def _report(summary: dict[str, Any], on_done) -> dict[str, Any]:
    if on_done is not None:
        on_done(summary)
    return summary


def _check_unique(todo: list[PickJob]) -> None:
    seen: dict[Path, Path] = {}
    for job in todo:
        if job.output in seen:
            raise UsageError(f"{seen[job.output]} and {job.segmentation} would both write {job.output}",
                             "give each segmentation once, or pick them into different folders")
        seen[job.output] = job.segmentation
