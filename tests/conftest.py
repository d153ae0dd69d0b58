"""Shared fixtures.

``shared_data``: the third-party test files in ``shared/data`` beside the checkout
(``$AIS_FW_TEST_DATA`` overrides). Tests that use it are skipped, with the reason, when it
is absent; the files are read in place and never copied into the repository.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Where the shared test data should be (it may not exist)."""
    configured = os.environ.get("AIS_FW_TEST_DATA")
    return Path(configured) if configured else (REPO_ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared test-data folder; skips the test when it is not there."""
    folder = shared_data_dir()
    if not folder.is_dir():
        pytest.skip(f"shared test data not found at {folder} (set AIS_FW_TEST_DATA to its folder)")
    return folder


@pytest.fixture
def one_thread():
    """Torch on one CPU thread for the test: tiny convolutions run fastest, and steadiest on a busy machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
