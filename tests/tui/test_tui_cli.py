"""``ais-fw tui`` on the command line: bad input is refused before the UI starts; Textual is
imported only when the UI runs."""
from __future__ import annotations

import subprocess
import sys

from ais_framework.cli.main import main


def test_a_missing_tomogram_is_one_clear_error(tmp_path, capsys):
    code = main(["tui", str(tmp_path / "missing.mrc")])
    err = capsys.readouterr().err
    assert code == 1 and "missing.mrc: no such file" in err and "hint:" in err


def test_a_bad_pixel_size_is_a_usage_error(tomogram, capsys):
    assert main(["tui", str(tomogram), "--pixel-size", "0"]) == 2
    assert "--pixel-size must be positive" in capsys.readouterr().err


def test_help_describes_the_command_without_importing_textual():
    code = ("import sys; from ais_framework.cli.main import main; main(['tui', '--help']); "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "Annotate, train, segment and pick in the terminal" in out
    assert out.strip().endswith("False")
