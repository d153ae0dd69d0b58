"""``validate_model``: check a package step by step and re-run its test input.

Each step becomes an entry of the report's ``checks``; the first failing step stops the
run. Errors of the package are reported, not raised (bugs still raise).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import AisError, InputFileError
from .archive import read_array, read_package, verify_members
from .metadata import METADATA_NAME, TEST_INPUT_NAME, TEST_OUTPUT_NAME, WEIGHTS_NAME, parse_metadata
from .network import network_from_weights, predict, resolve_architecture, version_warnings
from .package import describe_size

DEFAULT_TOLERANCE = 1e-3


class _Stop(Exception):
    """A check failed; the report already says why."""


def validate_model(path: str | os.PathLike, tolerance: float = DEFAULT_TOLERANCE, registry: Any = None) -> dict:
    """Check every part of the package at ``path`` and re-run its test pair on the CPU.

    Returns ``{"path", "passed", "tolerance", "max_abs_diff", "checks": [{"check", "ok", "detail",
    "hint"}], "warnings"}``; ``passed`` is true when every check passed and the largest absolute
    difference of the probabilities is at most ``tolerance``.
    """
    report: dict[str, Any] = {"path": str(path), "passed": False, "tolerance": tolerance,
                              "max_abs_diff": None, "checks": [], "warnings": []}
    try:
        _run_checks(report, Path(path), registry)
    except _Stop:
        return report
    report["passed"] = True
    return report


def _run_checks(report: dict, path: Path, registry: Any) -> None:
    step = _stepper(report["checks"])
    source = str(path)
    package = step("archive", read_package, path)
    metadata = step("metadata", parse_metadata, package[METADATA_NAME], source)
    step("checksums", verify_members, package, metadata)
    entry = step("architecture", resolve_architecture, metadata, registry, source)
    report["warnings"] += version_warnings(metadata, entry)
    network = step("weights", network_from_weights, entry.spec, metadata, package[WEIGHTS_NAME], source)
    test_input = step("test input", read_array, package, TEST_INPUT_NAME)
    expected = step("test output", read_array, package, TEST_OUTPUT_NAME)
    output = step("test run", predict, network, test_input)
    report["max_abs_diff"] = _max_abs_diff(output, expected)
    step("test pair", _compare, report["max_abs_diff"], report["tolerance"], output.shape, expected.shape)


def _stepper(checks: list[dict]) -> Callable[..., Any]:
    def step(name: str, function: Callable[..., Any], *args: Any) -> Any:
        try:
            result = function(*args)
        except AisError as exc:
            checks.append({"check": name, "ok": False, "detail": exc.message, "hint": exc.hint})
            raise _Stop() from exc
        checks.append({"check": name, "ok": True, "detail": _detail(name, result), "hint": ""})
        return result

    return step


def _detail(name: str, result: Any) -> str:
    if name == "archive":
        return f"{len(result.names)} members, {describe_size(sum(map(len, result.members.values())))}"
    if name == "metadata":
        return f"schema {result.schema_version}: '{result.name}' ({result.feature})"
    if name == "checksums":
        return f"sha256 of {result} members match"
    if name == "architecture":
        return f"'{result.spec.name}' from {result.source.distribution} {result.source.version}"
    if name == "weights":
        return f"{sum(p.numel() for p in result.parameters())} parameters loaded"
    if isinstance(result, np.ndarray):
        return f"shape {tuple(result.shape)}"
    return "ok" if result is None else str(result)


def _max_abs_diff(output: np.ndarray, expected: np.ndarray) -> float | None:
    if output.shape != expected.shape:
        return None
    return float(np.max(np.abs(output.astype(np.float64) - expected), initial=0.0))


def _compare(diff: float | None, tolerance: float, shape: tuple, expected_shape: tuple) -> str:
    if diff is None:
        raise InputFileError(f"the network gives shape {shape}, the stored test output has {expected_shape}",
                             "the installed architecture plugin behaves differently from the one that saved it")
    if not diff <= tolerance:  # also catches NaN
        raise InputFileError(f"the network's output differs from the stored test output by up to {diff:.3g} "
                             f"(tolerance {tolerance:g})",
                             "the weights, the architecture plugin or the stored output changed since saving")
    return f"max |difference| {diff:.3g} <= {tolerance:g}"
