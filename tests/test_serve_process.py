"""`maillage serve` as operators run it: starts the embedded database, serves, and stops it on SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


@pytest.mark.slow
def test_serve_starts_embedded_database_and_stops_it_on_sigterm(settings):
    home = Path(tempfile.mkdtemp(prefix="maillage-serve-", dir="/tmp"))
    port = _free_port()
    env = {**os.environ, "MAILLAGE_HOME": str(home),
           "MAILLAGE_EMBEDDING_MODEL_DIR": str(settings.local_embedding_model_dir)}  # fmt: skip
    env.pop("DATABASE_URL", None)
    maillage = Path(sys.executable).parent / "maillage"
    subprocess.run([str(maillage), "db", "upgrade"], env=env, check=True, capture_output=True)
    # The CLI command itself stopped the embedded server on exit.
    assert _postgres_processes(home / "pgdata") == []
    process = subprocess.Popen([str(maillage), "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read().decode()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "not ready within 120 s"
            time.sleep(0.1)
        assert _postgres_processes(home / "pgdata"), "the embedded server should be running"
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        assert _postgres_processes(home / "pgdata") == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        process.stdout.close()
        for proc in _postgres_processes(home / "pgdata"):
            proc.kill()
        shutil.rmtree(home, ignore_errors=True)
