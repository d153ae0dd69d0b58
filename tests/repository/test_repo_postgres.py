"""The repository on PostgreSQL, as a lab runs it: a throwaway cluster on 127.0.0.1, the real service.

Skipped (with the reason) where PostgreSQL's server programs or the psycopg driver are missing.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from repo_helpers import free_port, refused, resave, run_cli

from ais_framework import api
from ais_repository_client.client import RepositoryClient, RepositoryError


def postgres_program(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


@pytest.fixture(scope="module")
def postgres_url():
    pytest.importorskip("psycopg", reason="the PostgreSQL driver is not installed (pip install 'ais-fw[postgres]')")
    initdb, pg_ctl = postgres_program("initdb"), postgres_program("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) not found")
    folder = Path(tempfile.mkdtemp(prefix="ais-fw-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser to start PostgreSQL as another user")
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port, data = free_port(), folder / "data"

    def postgres(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    postgres(initdb, "-D", str(data), "-U", "postgres", "--auth=trust")
    postgres(pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "start",
             "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1")
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    postgres(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")
    shutil.rmtree(folder, ignore_errors=True)


def test_publish_search_install_on_postgresql(postgres_url, start_server, tiny_model, tmp_path, capsys):
    server = start_server(db=postgres_url)
    token = server.token("alice")
    assert not (server.store / "repository.sqlite3").exists()
    publish = ("--repository", server.url, "--token", token, "--quiet")
    assert run_cli(capsys, "publish", tiny_model, *publish)[0] == 0
    again = resave(tiny_model, tmp_path / "again.aism", description="same version again")
    assert "already exists" in refused(*run_cli(capsys, "publish", again, *publish)[::2])
    with pytest.raises(RepositoryError) as raised:  # the database's unique index refuses it too
        RepositoryClient(server.url, token).upload(again)
    assert "already exists" in raised.value.message
    code, out, err = run_cli(capsys, "search", "--feature", "membrane", "--repository", server.url, "--json")
    assert code == 0 and [m["name"] for m in json.loads(out)] == ["membrane_20A"], err
    assert run_cli(capsys, "install-model", "membrane_20A", "--repository", server.url)[0] == 0
    assert api.load_model("membrane_20A").metadata.feature == "membrane"
