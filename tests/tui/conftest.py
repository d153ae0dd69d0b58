"""Fixtures of the terminal UI tests: a small synthetic tomogram, copied fresh per test (the
UI writes its annotation store beside it), and helpers to drive the app with Textual's Pilot."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from ais_framework import api

pytest.importorskip("textual")

SHAPE = (40, 64, 64)
PIXEL_SIZE = 20.0  # seed 0 at this size has two vesicles; slices 10 and 20 cross a membrane


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    """Every test here runs torch on one thread (``one_thread`` in tests/conftest.py)."""


@pytest.fixture(scope="session")
def synth_source(tmp_path_factory) -> dict:
    return api.make_synthetic(tmp_path_factory.mktemp("tui-synth"), seed=0, shape=SHAPE, pixel_size=PIXEL_SIZE)


@pytest.fixture
def tomogram(synth_source, tmp_path) -> Path:
    """A fresh copy of the synthetic tomogram in this test's folder, as ``tomo.mrc``."""
    target = tmp_path / "tomo.mrc"
    shutil.copyfile(synth_source["tomogram"], target)
    return target


async def _settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@pytest.fixture
def settle():
    """``await settle(pilot)``: let every worker finish and every message be handled."""
    return _settle
