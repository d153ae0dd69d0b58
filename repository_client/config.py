"""Where the repository is and who we are: options, then the environment, then the user config file.

The config file is TOML at ``{user config dir}/ais-fw/config.toml`` (``$AIS_FW_CONFIG`` overrides)::

    repository = "https://models.example-lab.org"
    token = "aisfw_..."          # only needed to publish
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from ais_framework.errors import InputFileError, UsageError

REPOSITORY_VARIABLE = "AIS_FW_REPOSITORY"
TOKEN_VARIABLE = "AIS_FW_TOKEN"
OFFLINE_VARIABLE = "AIS_FW_OFFLINE"
CONFIG_VARIABLE = "AIS_FW_CONFIG"


def config_path() -> Path:
    configured = os.environ.get(CONFIG_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("ais-fw", appauthor=False)) / "config.toml"


def user_config() -> dict[str, Any]:
    """The user config file's settings ({} when there is none)."""
    path = config_path()
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read the ais-fw config: {exc}",
                             'it is TOML, e.g. repository = "http://host:8000"') from exc


def repository_url(given: str | None = None) -> str:
    """``given``, else ``$AIS_FW_REPOSITORY``, else ``repository`` in the config file."""
    url = given or os.environ.get(REPOSITORY_VARIABLE) or user_config().get("repository")
    if not url:
        raise UsageError("no model repository is set",
                         f"pass --repository URL, set {REPOSITORY_VARIABLE}, or put repository = \"URL\" "
                         f"in {config_path()}")
    if not str(url).startswith(("http://", "https://")):
        raise UsageError(f"repository '{url}' is not an http(s) URL", "e.g. --repository http://127.0.0.1:8000")
    return str(url).rstrip("/")


def token(given: str | None = None) -> str | None:
    """``given``, else ``$AIS_FW_TOKEN``, else ``token`` in the config file (None when unset)."""
    return given or os.environ.get(TOKEN_VARIABLE) or user_config().get("token") or None


def offline() -> bool:
    """True when ``$AIS_FW_OFFLINE`` asks for no network (installed models only)."""
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")
