"""The model repository for real: ``ais-fw repo serve`` in a subprocess on 127.0.0.1, temporary stores.

``tiny_model``: a unet_lite membrane model trained once per session (1 epoch, 2 slices, 2 copies)
on a 40x64x64 synthetic tomogram; ``big_model``: an untrained vggnet_m package (~24 MB) for
interrupted downloads. ``home`` points AIS_FW_HOME (installed models) at a fresh folder.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from repo_helpers import Server

from ais_framework import api
from ais_framework.cli.main import main

PIXEL_SIZE, SHAPE, SLICES = 20.0, (40, 64, 64), "10,20"


@pytest.fixture
def start_server(tmp_path_factory):
    """Start servers for one test; every one is stopped afterwards."""
    servers: list[Server] = []

    def start(*options: str, db: str | None = None) -> Server:
        server = Server(tmp_path_factory.mktemp("repository"), *options, db=db).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server with users alice (uploader), bob (another user) and root (admin) for a test module."""
    server = Server(tmp_path_factory.mktemp("shared_repository")).start()
    server.tokens = {name: server.token(name, admin=name == "root") for name in ("alice", "bob", "root")}
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """Installed models and downloads go to a fresh folder; no repository, token or config leaks in."""
    folder = tmp_path / "ais-fw-home"
    monkeypatch.setenv("AIS_FW_HOME", str(folder))
    monkeypatch.setenv("AIS_FW_CONFIG", str(tmp_path / "no-config.toml"))
    for variable in ("AIS_FW_REPOSITORY", "AIS_FW_TOKEN", "AIS_FW_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    return folder


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> dict:
    return api.make_synthetic(tmp_path_factory.mktemp("synth"), seed=0, shape=SHAPE, pixel_size=PIXEL_SIZE)


@pytest.fixture(scope="session")
def tiny_model(synth, tmp_path_factory) -> Path:
    """A real trained model (named membrane_20A by the trainer), trained once per session."""
    import torch

    output = tmp_path_factory.mktemp("tiny_model") / "membrane.aism"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    code = main(["train", "--feature", "membrane", "--tomogram", synth["tomogram"], "--labels",
                 synth["files"]["membrane_mask"], "--slices", SLICES, "--epochs", "1", "--box", "32",
                 "--copies", "2", "--batch-size", "8", "--quiet", "-o", str(output)])
    torch.set_num_threads(threads)
    assert code == 0
    return output


@pytest.fixture(scope="session")
def big_model(tmp_path_factory) -> Path:
    """A valid ~24 MB package (untrained vggnet_m), big enough to cut a download in the middle."""
    import torch

    from ais_framework.model import save_model
    from ais_framework.plugins import get_registry

    torch.manual_seed(0)
    network = get_registry().get("architecture", "vggnet_m").build(1)
    meta = {"name": "big_10A", "feature": "ribosome", "architecture": "vggnet_m", "dims": "2d", "depth": 1,
            "box": 64, "pixel_size_A": 10.0, "version": "1"}
    test_input = np.random.default_rng(0).normal(size=(1, 1, 16, 16)).astype(np.float32)
    return save_model(tmp_path_factory.mktemp("big_model") / "big.aism", network, meta, test_input)
