"""Talking to a model repository over its REST API (``/api/v1``), with clear errors."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ais_framework.errors import AisError, UsageError

from . import config
from .transfer import MultipartFile, Progress, TransferError, download

API = "/api/v1"


class RepositoryError(AisError):
    """The repository refused a request (its message and hint are passed on)."""


class RepositoryClient:
    """One repository: ``url`` (else from the environment or config) and an optional ``token``."""

    def __init__(self, url: str | None = None, token: str | None = None):
        import requests

        self.url = config.repository_url(url)
        self.token = config.token(token)
        self.session = requests.Session()
        if self.token:
            self.session.headers["Authorization"] = f"Bearer {self.token}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        import requests

        try:
            response = self.session.request(method, self.url + API + path, timeout=kwargs.pop("timeout", 60),
                                            **kwargs)
        except requests.RequestException as exc:
            raise TransferError(f"cannot reach the model repository at {self.url} ({type(exc).__name__})",
                                "check the URL and the network; AIS_FW_OFFLINE=1 uses installed models only") from exc
        if response.status_code >= 400:
            raise _refusal(response)
        return response.json()

    def info(self) -> dict:
        return self._call("GET", "/info")

    def search(self, text: str | None = None, feature: str | None = None, pixel_size: tuple[float, float] | None = None,
               architecture: str | None = None, preprocessing: str | None = None) -> list[dict]:
        params = {"q": text, "feature": feature, "architecture": architecture, "preprocessing": preprocessing}
        if pixel_size:
            params.update(pixel_size_min=pixel_size[0], pixel_size_max=pixel_size[1])
        return self._call("GET", "/models", params={k: v for k, v in params.items() if v is not None})["models"]

    def versions(self, name: str) -> list[dict]:
        return self._call("GET", f"/models/{name}")["versions"]

    def version(self, name: str, version: str) -> dict:
        return self._call("GET", f"/models/{name}/{version}")

    def resolve(self, name: str, version: str | None) -> dict:
        """The full record of NAME@VERSION, or of NAME's newest published, not yanked version."""
        if version is None:
            live = [v for v in self.versions(name) if v["state"] == "published" and not v["yanked"]]
            if not live:
                raise RepositoryError(f"model '{name}' has no published version to install",
                                      f"`ais-fw search {name}` shows what there is")
            version = live[-1]["version"]
        return self.version(name, version)

    def download(self, record: dict, part: Path, on_progress: Progress | None = None) -> dict:
        url = f"{self.url}{API}/models/{record['name']}/{record['version']}/download"
        return download(self.session, url, part, record["sha256"], record["size"], on_progress)

    def upload(self, path: Path, name: str | None = None, on_progress: Progress | None = None) -> dict:
        """Send a package; returns the upload's record with its validation report (also when it failed)."""
        if not self.token:
            raise UsageError("publishing needs a token",
                             f"pass --token, set {config.TOKEN_VARIABLE}, or put token = \"...\" in the config file")
        body = MultipartFile(path, {"name": name} if name else {}, on_progress)
        try:
            response = self._upload_response(body)
        finally:
            body.close()
        if response.status_code in (201, 422):
            return response.json()
        raise _refusal(response)

    def _upload_response(self, body: MultipartFile):
        import requests

        try:
            return self.session.post(self.url + API + "/models", data=body, timeout=(10, 600),
                                     headers={"Content-Type": body.content_type})
        except requests.RequestException as exc:
            self._refuse_if_too_large(body.size)  # a server stops reading a too-large upload
            raise TransferError(f"the upload to {self.url} broke off ({type(exc).__name__})",
                                "check the network and try again") from exc

    def _refuse_if_too_large(self, size: int) -> None:
        try:
            limit = self.info()["max_upload_bytes"]
        except AisError:
            return
        if size > limit:
            raise RepositoryError(f"repository: the package is larger than this repository accepts ({limit} bytes)",
                                  "ask the admin to raise --max-upload-mb, or publish a smaller model")

    def me(self) -> dict:
        """Who the token belongs to (a wrong token is refused here, before any upload)."""
        return self._call("GET", "/me")

    def uploads(self) -> list[dict]:
        return self._call("GET", "/uploads")["uploads"]

    def review_queue(self) -> list[dict]:
        return self._call("GET", "/review")["uploads"]

    def approve(self, name: str, version: str) -> dict:
        return self._call("POST", f"/models/{name}/{version}/approve")

    def reject(self, name: str, version: str, reason: str = "") -> dict:
        return self._call("POST", f"/models/{name}/{version}/reject", json={"reason": reason})

    def yank(self, name: str, version: str, reason: str = "") -> dict:
        return self._call("POST", f"/models/{name}/{version}/yank", json={"reason": reason})


def _refusal(response) -> RepositoryError:
    """The repository's own message and hint, or the status line."""
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, dict) and "message" in detail:
        return RepositoryError(f"repository: {detail['message']}", detail.get("hint", ""))
    text = detail if isinstance(detail, str) else response.text[:200]
    return RepositoryError(f"repository answered {response.status_code}: {text}",
                           "check the repository URL; the service's log says more")
