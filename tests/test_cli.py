"""The ``ais-fw`` command line as a user meets it: exit codes, error lines, start-up imports."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np

import ais_framework
from ais_framework.cli.main import app, main

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "lightning", "pytorch_lightning", "textual")

# A third-party format whose reader has a bug (it returns nothing): the CLI must call it a bug, not crash.
BUGGY_FORMAT = textwrap.dedent('''
    from ais_framework import hookimpl
    from ais_framework.specs import VolumeFormatSpec

    def read(path, pixel_size=None):
        return None

    @hookimpl
    def ais_fw_volume_formats():
        return [VolumeFormatSpec(name="buggy", title="Buggy", extensions=(".buggy",), read=read)]
''')


def ais_fw(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    """Run the installed ``ais-fw`` script with extra environment variables."""
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AIS_FW_DEBUG")}
    script = Path(sysconfig.get_path("scripts")) / "ais-fw"
    return subprocess.run([str(script), *args], capture_output=True, text=True, env={**clean, **env},
                          cwd=cwd, timeout=120)


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


def buggy_plugin(tmp_path: Path) -> Path:
    (tmp_path / "buggy_format.py").write_text(BUGGY_FORMAT)
    info = tmp_path / "buggy_format-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: buggy-format\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ais_fw]\nbuggy = buggy_format\n")
    (tmp_path / "tomo.buggy").write_bytes(b"\0" * 16)
    return tmp_path / "tomo.buggy"


def error_lines(stderr: str) -> list[str]:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    assert [line.split(" ", 1)[0] for line in lines] == ["error:", "hint:"], stderr
    return lines


def test_version():
    result = ais_fw("--version")
    assert (result.returncode, result.stdout) == (0, f"ais-fw {ais_framework.__version__}\n")
    assert ais_framework.__version__ != "0.0.0+unknown"


def test_help_lists_every_command():
    result = ais_fw("--help")
    assert result.returncode == 0 and result.stderr == ""
    commands = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert {"plugins", "info"} <= set(commands)
    after = result.stdout.split("Commands:", 1)[1]
    listed = {line.split()[0] for line in after.splitlines() if line.strip()}
    assert set(commands) <= listed


def test_module_entry_runs_the_same_cli():
    result = subprocess.run([sys.executable, "-m", "ais_framework.cli", "--version"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, f"ais-fw {ais_framework.__version__}\n")


def test_usage_errors_exit_2():
    unknown = ais_fw("--no-such-option")
    assert unknown.returncode == 2 and "No such option: --no-such-option" in unknown.stderr
    missing = ais_fw("info")
    assert missing.returncode == 2 and "Missing argument" in missing.stderr
    assert "Traceback" not in unknown.stderr + missing.stderr


def test_ais_error_is_one_error_line_and_a_hint(tmp_path):
    missing = tmp_path / "absent.mrc"
    result = ais_fw("info", str(missing))
    assert result.returncode == 1 and result.stdout == ""
    error, hint = error_lines(result.stderr)
    assert str(missing) in error and len(hint) > len("hint: ")


def test_usage_ais_error_exits_2(tmp_path):
    import mrcfile

    tomo = tmp_path / "tomo.mrc"
    with mrcfile.new(tomo) as mrc:
        mrc.set_data(np.zeros((2, 3, 4), dtype=np.float32))
    result = ais_fw("info", str(tomo), "--pixel-size", "-1")
    assert result.returncode == 2
    error, _ = error_lines(result.stderr)
    assert "pixel size" in error


def test_unexpected_exception_is_reported_as_a_bug(tmp_path):
    tomo = buggy_plugin(tmp_path)
    result = ais_fw("info", str(tomo), cwd=tmp_path, PYTHONPATH=str(tmp_path))
    assert result.returncode == 1
    error, hint = error_lines(result.stderr)
    assert error.startswith("error: AttributeError: 'NoneType' object") and "bug" in hint and "--debug" in hint


def test_debug_shows_the_traceback(tmp_path):
    tomo = buggy_plugin(tmp_path)
    for args, env in ((["--debug"], {}), ([], {"AIS_FW_DEBUG": "1"})):
        result = ais_fw(*args, "info", str(tomo), cwd=tmp_path, PYTHONPATH=str(tmp_path), **env)
        assert result.returncode == 1
        assert "Traceback (most recent call last)" in result.stderr
        assert result.stderr.rstrip().splitlines()[-1].startswith("AttributeError: 'NoneType' object")
    ais_error = ais_fw("--debug", "info", str(tmp_path / "absent.mrc"))
    assert ais_error.returncode == 1 and "InputFileError" in ais_error.stderr


def test_main_returns_the_exit_code_when_given_arguments(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"ais-fw {ais_framework.__version__}\n"
    assert main(["info", "/no/such/file.mrc"]) == 1
    assert capsys.readouterr().err.startswith("error: /no/such/file.mrc")
    assert main(["--no-such-option"]) == 2


def loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` are imported after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    result = python(probe)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_does_not_load_heavy_libraries():
    code = "import ais_framework, ais_framework.plugins, ais_framework.specs, ais_framework.errors"
    assert loaded_after(code, HEAVY) == []


def test_help_does_not_load_heavy_libraries():
    code = "from ais_framework.cli.main import main\nassert main(['--help']) == 0"
    assert loaded_after(code, HEAVY + ("numpy", "rich")) == []


def test_listing_plugins_does_not_load_heavy_libraries():
    """Specs keep heavy work behind callables: loading every plugin must not import torch."""
    code = "from ais_framework.cli.main import main\nassert main(['plugins', '--json']) == 0"
    assert loaded_after(code, HEAVY) == []


def test_probe_sees_imports():  # the two tests above can fail
    assert loaded_after("import numpy", ("numpy", "torch")) == ["numpy"]
