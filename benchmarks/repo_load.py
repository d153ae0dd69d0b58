"""Load on one repository process: N concurrent downloads of a ~20 MB model, every one verified.

    python benchmarks/repo_load.py                      # 50 downloads, all at once
    python benchmarks/repo_load.py --downloads 100 --concurrency 25

Starts ``ais-fw repo serve`` (one uvicorn process, SQLite, temporary store) on 127.0.0.1,
publishes an untrained vggnet_m package (6.1 M parameters, ~24.5 MB: weights stored
uncompressed), then downloads it N times from ``--concurrency`` threads, each through the
client's resumable download, which checks the sha256 of the whole file. Prints the wall time,
the aggregate throughput, per-download times and the number of errors; the server's download
counter must equal N. The client threads run on the same machine and share its cores.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests

CLI = (sys.executable, "-m", "ais_framework.cli")


def make_model(folder: Path) -> Path:
    import torch

    from ais_framework.model import save_model
    from ais_framework.plugins import get_registry

    torch.manual_seed(0)
    network = get_registry().get("architecture", "vggnet_m").build(1)
    meta = {"name": "load_test_10A", "feature": "ribosome", "architecture": "vggnet_m", "dims": "2d", "depth": 1,
            "box": 64, "pixel_size_A": 10.0}
    test_input = np.random.default_rng(0).normal(size=(1, 1, 16, 16)).astype(np.float32)
    return save_model(folder / "load_test.aism", network, meta, test_input)


def start_server(store: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen([*CLI, "repo", "serve", "--store", str(store), "--port", str(port),
                               "--log-level", "warning"], stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/info", timeout=1)
            return server
        except requests.ConnectionError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def one_download(url: str, record: dict, folder: Path, index: int) -> float:
    from ais_repository_client.client import RepositoryClient

    client = RepositoryClient(url)
    started = time.perf_counter()
    part = folder / f"{index}.part"
    client.download(record, part)  # raises on a broken transfer or a sha256 mismatch
    part.unlink()
    return time.perf_counter() - started


def run(downloads: int, concurrency: int, port: int) -> int:
    from ais_repository_client.client import RepositoryClient
    from ais_repository_client.publish import publish

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        model = make_model(folder)
        server = start_server(folder / "store", port)
        try:
            url = f"http://127.0.0.1:{port}"
            token = subprocess.run([*CLI, "repo", "token", "create", "--user", "bench", "--store",
                                    str(folder / "store")], capture_output=True, text=True, check=True).stdout.strip()
            publish(model, repository=url, token=token)
            record = RepositoryClient(url).version("load_test_10A", "1")
            (folder / "downloads").mkdir()
            results = fetch_all(url, record, folder / "downloads", downloads, concurrency)
            report(downloads, concurrency, record, *results)
            served = RepositoryClient(url).version("load_test_10A", "1")["downloads"]
            print(f"server download counter: {served} (expected {downloads})")
        finally:
            server.terminate()
            server.wait(10)
    return 0


def fetch_all(url: str, record: dict, folder: Path, downloads: int, concurrency: int):
    errors: list[str] = []
    times: list[float] = []
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(one_download, url, record, folder, i) for i in range(downloads)]
        for future in futures:
            try:
                times.append(future.result())
            except Exception as exc:  # counted and shown, not fatal
                errors.append(f"{type(exc).__name__}: {exc}")
    return time.perf_counter() - started, times, errors


def report(downloads: int, concurrency: int, record: dict, wall: float, times: list[float], errors: list[str]) -> None:
    size_mb = record["size"] / 1e6
    print(f"model: {size_mb:.1f} MB (sha256 {record['sha256'][:12]}…), {downloads} downloads, "
          f"{concurrency} at once, one server process")
    print(f"wall time: {wall:.2f} s; {len(times) * size_mb / wall:.0f} MB/s in all; "
          f"verified: {len(times)}; errors: {len(errors)}")
    if times:
        print(f"per download: median {statistics.median(times):.2f} s, max {max(times):.2f} s")
    for error in errors[:5]:
        print(f"  error: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--downloads", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    return run(args.downloads, args.concurrency, args.port)


if __name__ == "__main__":
    sys.exit(main())
