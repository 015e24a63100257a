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
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from matching.config import ConfigError
from matching.storage.server import start_embedded_server


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


@pytest.fixture
def scratch_pgdata() -> Iterator[Path]:
    """A data folder for a server of the test's own; what it leaves running is killed, the folder removed."""
    base = Path(tempfile.mkdtemp(prefix="maillage-pg-", dir="/tmp"))
    try:
        yield base / "pgdata"
    finally:
        for proc in _postgres_processes(base / "pgdata"):
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)


def _shared_buffers(server) -> str:
    with psycopg.connect(server.get_uri()) as conn:
        return conn.execute("SHOW shared_buffers").fetchone()[0]


def test_embedded_server_started_here_gets_its_shared_buffers_and_still_stops(scratch_pgdata):
    server = start_embedded_server(scratch_pgdata, cleanup_mode="delete", shared_buffers="64MB")
    assert _shared_buffers(server) == "64MB"
    # The restarted server is the one the handle stops.
    server.cleanup()
    assert _postgres_processes(scratch_pgdata) == []


def test_running_embedded_server_is_not_restarted_for_shared_buffers(scratch_pgdata, caplog):
    server = start_embedded_server(scratch_pgdata, cleanup_mode="delete")
    with psycopg.connect(server.get_uri()) as conn:
        started = conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
        again = start_embedded_server(scratch_pgdata, cleanup_mode="delete", shared_buffers="64MB")
        assert again is server
        # Another process may be using it: the setting waits for the next start.
        assert conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0] == started
        assert conn.execute("SHOW shared_buffers").fetchone()[0] == "128MB"
        assert conn.execute(
            "SELECT setting FROM pg_file_settings WHERE name = 'shared_buffers' ORDER BY seqno DESC LIMIT 1"
        ).fetchone()[0] == "64MB"  # fmt: skip
    assert "applied at the embedded server's next start" in caplog.text
    server.cleanup()
    assert _postgres_processes(scratch_pgdata) == []


def test_shared_buffers_the_server_cannot_start_with_is_refused_and_undone(scratch_pgdata):
    with pytest.raises(ConfigError, match="does not start with shared_buffers = 4000GB"):
        start_embedded_server(scratch_pgdata, cleanup_mode="delete", shared_buffers="4000GB")
    # Back on its previous setting, and the next start is not blocked by the refused one.
    server = start_embedded_server(scratch_pgdata, cleanup_mode="delete")
    assert _shared_buffers(server) == "128MB"
    assert "shared_buffers" not in (scratch_pgdata / "postgresql.auto.conf").read_text()
    server.cleanup()
    assert _postgres_processes(scratch_pgdata) == []


def test_handle_of_a_killed_process_does_not_keep_the_embedded_server_running(scratch_pgdata):
    # A process that held a handle and was killed before its exit handlers ran.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[2]); "
         "from pathlib import Path; from matching.storage.server import start_embedded_server; "
         "start_embedded_server(Path(sys.argv[1]), cleanup_mode='stop'); print('up', flush=True); "
         "time.sleep(600)", str(scratch_pgdata), str(Path(__file__).resolve().parents[1])],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == b"up"
    finally:
        holder.kill()
        holder.wait(10)
        holder.stdout.close()
    server = start_embedded_server(scratch_pgdata, cleanup_mode="stop")
    assert _postgres_processes(scratch_pgdata)
    server.cleanup()
    assert _postgres_processes(scratch_pgdata) == []
