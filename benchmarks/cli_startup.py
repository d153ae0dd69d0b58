"""Start-up time of ``ais-fw --help``: the time a user waits before the CLI answers.

Runs the command N times in fresh processes and prints the median and the minimum wall time.
Usage: python benchmarks/cli_startup.py [-n 20] [--module]
  --module   time ``python -m ais_framework.cli`` instead of the installed ``ais-fw`` script
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

TARGET_S = 0.3


def command(use_module: bool) -> list[str]:
    script = Path(sysconfig.get_path("scripts")) / "ais-fw"
    if use_module or not script.exists():
        return [sys.executable, "-m", "ais_framework.cli", "--help"]
    return [str(script), "--help"]


def time_once(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="number of timed runs (default 20)")
    parser.add_argument("--module", action="store_true", help="time `python -m ais_framework.cli`")
    args = parser.parse_args(argv)
    cmd = command(args.module)
    time_once(cmd)  # warm the file cache and write the .pyc files
    times = [time_once(cmd) for _ in range(args.n)]
    median = statistics.median(times)
    verdict = "ok" if median <= TARGET_S else "SLOW"
    print(f"{' '.join([Path(cmd[0]).name, *cmd[1:]])}: {args.n} runs")
    print(f"median {median:.3f} s  min {min(times):.3f} s  target {TARGET_S} s  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
