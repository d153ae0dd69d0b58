"""What the repository and its client refuse: bad tokens, bad packages, oversized and duplicate uploads,
damaged downloads; and who may see what (failed uploads, review, yanked versions)."""
from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest
import requests
from repo_helpers import refused, resave, run_cli

from ais_framework import api
from ais_framework.errors import InputFileError
from ais_repository_client.client import RepositoryClient, RepositoryError

NAME = "membrane_20A"


def publish(capsys, server, model, user="alice", *extra) -> tuple[int, str, str]:
    return run_cli(capsys, "publish", model, "--repository", server.url, "--token", server.tokens[user], "--quiet",
                   *extra)


def copy_zip(source: Path, target: Path, change=None, extra: list[tuple[zipfile.ZipInfo | str, bytes]] = ()) -> Path:
    """``source`` rewritten member by member; ``change(name, data)`` may alter data; ``extra`` adds members."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info.filename, change(info.filename, data) if change else data)
        for info, data in extra:
            new.writestr(info, data)
    return target


def upload_as(server, user: str, path: Path, name: str | None = None) -> dict:
    """Send a package straight to the repository (no local validation, as a hostile client would)."""
    return RepositoryClient(server.url, server.tokens[user]).upload(path, name)


def failed_check(record: dict) -> dict:
    assert record["state"] == "failed", record
    return next(check for check in record["report"]["checks"] if not check["ok"])


# ---------------------------------------------------------------- tokens

def test_a_wrong_token_is_refused(shared_server, tiny_model, capsys):
    code, _, err = run_cli(capsys, "publish", tiny_model, "--repository", shared_server.url, "--token", "aisfw_nope")
    assert "the token is not valid" in refused(code, err)
    response = requests.get(f"{shared_server.url}/api/v1/uploads", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    with pytest.raises(RepositoryError) as raised:
        RepositoryClient(shared_server.url, "aisfw_nope").upload(tiny_model)
    assert "the token is not valid" in raised.value.message


def test_publishing_without_a_token_says_how_to_get_one(shared_server, tiny_model, capsys):
    code, _, err = run_cli(capsys, "publish", tiny_model, "--repository", shared_server.url)
    assert "publishing needs a token" in refused(code, err)
    response = requests.post(f"{shared_server.url}/api/v1/models", files={"package": ("m.aism", b"x")})
    assert response.status_code == 401 and "token" in response.json()["detail"]["message"]


def test_tokens_are_stored_hashed(shared_server):
    import sqlite3

    database = sqlite3.connect(shared_server.store / "repository.sqlite3")
    stored = [row[0] for row in database.execute("SELECT token_sha256 FROM tokens")]
    database.close()
    assert len(stored) == 3 and not set(stored) & set(shared_server.tokens.values())
    assert all(len(value) == 64 for value in stored)


# ---------------------------------------------------------------- bad packages

def test_a_corrupt_package_fails_validation_and_only_its_owner_sees_it(shared_server, tiny_model, tmp_path, capsys):
    corrupt = copy_zip(tiny_model, tmp_path / "corrupt.aism",
                       change=lambda name, data: data[:-8] + b"\0" * 8 if name == "test_output.npy" else data)
    assert "checksums check failed" in refused(*publish(capsys, shared_server, corrupt)[::2])  # refused locally
    record = upload_as(shared_server, "alice", corrupt, name="corrupt_model")
    check = failed_check(record)
    assert check["check"] == "checksums" and "test_output.npy" in check["detail"]
    url = f"{shared_server.url}/api/v1/models/corrupt_model/1"
    assert requests.get(url, headers={"Authorization": f"Bearer {shared_server.tokens['alice']}"}).status_code == 200
    assert requests.get(url, headers={"Authorization": f"Bearer {shared_server.tokens['bob']}"}).status_code == 404
    assert requests.get(url).status_code == 404
    assert "corrupt_model" not in requests.get(f"{shared_server.url}/api/v1/models").text
    code, out, err = run_cli(capsys, "repo", "uploads", "--repository", shared_server.url,
                             "--token", shared_server.tokens["alice"])
    assert code == 0 and "corrupt_model@1  failed  checksums:" in out, err


def test_names_that_leave_the_package_are_refused(shared_server, tiny_model, tmp_path):
    for bad in ("../evil.txt", "/etc/evil.txt", "sub/../../evil.txt"):
        package = copy_zip(tiny_model, tmp_path / "traversal.aism", extra=[(bad, b"gotcha")])
        check = failed_check(upload_as(shared_server, "alice", package, name="traversal"))
        assert check["check"] == "safe unpacking" and "outside the package" in check["detail"], bad
    assert not list(shared_server.store.parent.rglob("evil.txt"))


def test_symbolic_links_are_refused(shared_server, tiny_model, tmp_path):
    link = zipfile.ZipInfo("preview.png")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    package = copy_zip(tiny_model, tmp_path / "symlink.aism", extra=[(link, b"/etc/passwd")])
    check = failed_check(upload_as(shared_server, "alice", package, name="symlink"))
    assert check["check"] == "safe unpacking" and "symbolic link" in check["detail"]


def test_a_package_with_a_foreign_architecture_is_refused(shared_server, tiny_model, tmp_path):
    def swap(name: str, data: bytes) -> bytes:
        if name != "model.json":
            return data
        meta = json.loads(data)
        return json.dumps({**meta, "architecture": "not_installed_net"}).encode()

    check = failed_check(upload_as(shared_server, "alice", copy_zip(tiny_model, tmp_path / "f.aism", swap)))
    assert check["check"] == "architecture" and "not_installed_net" in check["detail"]


def test_a_changed_test_output_fails_the_test_pair(shared_server, tiny_model, tmp_path):
    """Every sha256 matches, but the stored output is not what the network computes."""
    import io

    import numpy as np

    from ais_framework.model.archive import sha256

    def shifted(name: str, data: bytes) -> bytes:
        if name == "test_output.npy":
            buffer = io.BytesIO()
            np.save(buffer, np.clip(np.load(io.BytesIO(data)) + 0.2, 0, 1).astype(np.float32))
            shifted.output = buffer.getvalue()
            return shifted.output
        return data

    staged = copy_zip(tiny_model, tmp_path / "staged.aism", shifted)

    def resigned(name: str, data: bytes) -> bytes:
        if name != "model.json":
            return data
        meta = json.loads(data)
        meta["members"]["test_output.npy"] = sha256(shifted.output)
        return json.dumps(meta).encode()

    package = copy_zip(staged, tmp_path / "shifted.aism", resigned)
    check = failed_check(upload_as(shared_server, "alice", package, name="shifted"))
    assert check["check"] == "test pair" and "differs from the stored test output" in check["detail"]


# ---------------------------------------------------------------- sizes

def test_oversized_uploads_and_zip_bombs_are_refused(start_server, tiny_model, tmp_path, capsys):
    server = start_server("--max-upload-mb", "0.5")
    server.tokens = {"alice": server.token("alice")}
    assert tiny_model.stat().st_size > 0.6 * 1024 * 1024
    assert "more than this repository accepts" in refused(*publish(capsys, server, tiny_model)[::2])
    with pytest.raises(RepositoryError) as raised:
        upload_as(server, "alice", tiny_model)  # straight to the server: it stops reading and answers 413
    assert "larger than this repository accepts" in raised.value.message
    bomb = zipfile.ZipFile(tmp_path / "bomb.aism", "w", zipfile.ZIP_DEFLATED)
    bomb.writestr("test_input.npy", b"\0" * (40 * 1024 * 1024))
    bomb.close()
    assert (tmp_path / "bomb.aism").stat().st_size < 0.5 * 1024 * 1024
    check = failed_check(upload_as(server, "alice", tmp_path / "bomb.aism", name="bomb"))
    assert check["check"] == "safe unpacking" and "more than the" in check["detail"]
    assert not list((server.store / "sha256").rglob("*"))  # nothing refused was kept


# ---------------------------------------------------------------- versions

def test_a_published_version_cannot_be_replaced(start_server, tiny_model, tmp_path, capsys):
    server = start_server()
    server.tokens = {"alice": server.token("alice"), "bob": server.token("bob")}
    assert publish(capsys, server, tiny_model)[0] == 0
    changed = resave(tiny_model, tmp_path / "same_version.aism", description="different bytes, same version")
    assert "membrane_20A@1 already exists" in refused(*publish(capsys, server, changed)[::2])
    assert "already exists" in refused(*publish(capsys, server, changed, "bob")[::2])
    with pytest.raises(RepositoryError) as raised:  # the server refuses it too, after the upload
        upload_as(server, "bob", changed)
    assert "membrane_20A@1 already exists" in raised.value.message
    versions = requests.get(f"{server.url}/api/v1/models/{NAME}").json()["versions"]
    assert [(v["version"], v["state"], v["owner"]) for v in versions] == [("1", "published", "alice")]


def test_review_holds_uploads_until_an_admin_approves(start_server, tiny_model, capsys):
    server = start_server("--require-review")
    server.tokens = {"alice": server.token("alice"), "root": server.token("root", admin=True)}
    code, out, err = publish(capsys, server, tiny_model)
    assert code == 0 and "validated" in out, err
    assert requests.get(f"{server.url}/api/v1/models").json()["models"] == []
    repo = ("--repository", server.url, "--token")
    assert "not an admin" in refused(*run_cli(capsys, "repo", "approve", f"{NAME}@1", *repo,
                                              server.tokens["alice"])[::2])
    code, out, err = run_cli(capsys, "repo", "review", *repo, server.tokens["root"])
    assert out.strip() == f"{NAME}@1  validated  by alice"
    code, out, err = run_cli(capsys, "repo", "approve", f"{NAME}@1", *repo, server.tokens["root"])
    assert code == 0 and out.strip() == f"{NAME}@1: published", err
    assert [m["name"] for m in requests.get(f"{server.url}/api/v1/models").json()["models"]] == [NAME]


def test_yanked_versions_leave_search_but_pinned_installs_still_work(start_server, tiny_model, capsys):
    server = start_server()
    server.tokens = {"alice": server.token("alice"), "bob": server.token("bob")}
    assert publish(capsys, server, tiny_model)[0] == 0
    repo = ("--repository", server.url, "--token")
    assert "only the owner" in refused(*run_cli(capsys, "repo", "yank", f"{NAME}@1", *repo, server.tokens["bob"])[::2])
    code, out, err = run_cli(capsys, "repo", "yank", f"{NAME}@1", "--reason", "trained on the wrong labels", *repo,
                             server.tokens["alice"])
    assert code == 0, err
    assert requests.get(f"{server.url}/api/v1/models").json()["models"] == []
    assert "no published version" in refused(*run_cli(capsys, "install-model", NAME, "--repository", server.url)[::2])
    code, out, err = run_cli(capsys, "install-model", f"{NAME}@1", "--repository", server.url)
    assert code == 0 and "yanked: trained on the wrong labels" in err


# ---------------------------------------------------------------- downloads

def test_a_download_whose_sha256_does_not_match_is_refused(start_server, tiny_model, home, capsys):
    server = start_server()
    server.tokens = {"alice": server.token("alice")}
    assert publish(capsys, server, tiny_model)[0] == 0
    (blob,) = [p for p in (server.store / "sha256").rglob("*") if p.is_file()]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # the file rots on the server's disk
    blob.write_bytes(bytes(data))
    line = refused(*run_cli(capsys, "install-model", NAME, "--repository", server.url)[::2])
    assert "sha256 does not match" in line and "refusing to install" in line
    assert api_models_installed() == [] and not list((home / "downloads").glob("*"))


def api_models_installed() -> list:
    from ais_framework.model.installed import installed_models

    return installed_models()


def test_a_download_cut_by_a_stopped_server_resumes(start_server, big_model, home, capsys):
    """The server dies mid-download; the part stays; the next install asks only for the rest."""
    from ais_repository_client.install import install_model
    from ais_repository_client.transfer import TransferError

    server = start_server()
    server.tokens = {"alice": server.token("alice")}
    assert publish(capsys, server, big_model)[0] == 0
    size = big_model.stat().st_size

    def kill_server(done: int, total: int) -> None:
        server.kill()

    with pytest.raises(TransferError) as raised:
        install_model("big_10A", server.url, on_progress=kill_server)
    assert "broke off" in raised.value.message and "resume" in raised.value.hint
    (part,) = (home / "downloads").glob("*.part")
    have = part.stat().st_size
    assert 0 < have < size
    server.start()  # the same store and database, the same port
    result = install_model("big_10A", server.url)
    assert result["status"] == "installed" and result["resumed_from"] == have
    assert Path(result["path"]).read_bytes() == big_model.read_bytes()
    assert api.load_model("big_10A").metadata.architecture == "vggnet_m"
    with pytest.raises(InputFileError):
        api.resolve_model("big_10A@2")
