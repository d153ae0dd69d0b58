"""Helpers for the repository tests: a real server process, re-saved models, CLI calls."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from ais_framework.cli.main import main

CLI = (sys.executable, "-m", "ais_framework.cli")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One ``ais-fw repo serve`` process over ``store`` (and ``db``); restartable on the same port."""

    def __init__(self, store: Path, *options: str, db: str | None = None):
        self.store, self.options, self.db = store, options, db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = store / "server.log"

    def _db_args(self) -> list[str]:
        return ["--store", str(self.store)] + (["--db", self.db] if self.db else [])

    def start(self) -> "Server":
        self.store.mkdir(parents=True, exist_ok=True)
        command = [*CLI, "repo", "serve", *self._db_args(), "--port", str(self.port), "--log-level", "warning",
                   *self.options]
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                requests.get(self.url + "/api/v1/info", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("server did not start within 60 s")

    def kill(self) -> None:
        """Stop at once, as a crash or a pulled cable would (SIGKILL)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def token(self, user: str, admin: bool = False) -> str:
        """A token made the way an admin makes one: ``ais-fw repo token create``."""
        command = [*CLI, "repo", "token", "create", "--user", user, *self._db_args(), *(["--admin"] if admin else [])]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
        return result.stdout.strip()


def resave(source: Path, target: Path, **changes) -> Path:
    """The same network saved again with metadata ``changes`` (e.g. version="2")."""
    from ais_framework.model import load_model, save_model
    from ais_framework.model.archive import read_array, read_package

    loaded = load_model(source)
    meta = loaded.metadata.model_copy(update={"members": {}, **changes})
    test_input = read_array(read_package(source), "test_input.npy")
    return save_model(target, loaded.network, meta, test_input)


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """``ais-fw ARGS`` in-process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(code: int, err: str) -> str:
    """A clean refusal: exit 1 or 2, one error line and one hint line; returns the error line."""
    assert code in (1, 2), (code, err)
    assert "Traceback" not in err and "bug in ais-fw" not in err, err
    lines = err.strip().splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["error:", "hint:"], err
    return lines[0]
