"""Foundation figures: encoder throughput per backend, embedded PostgreSQL cold/warm start,
API start-up time and resident memory.

Run from the repository root: ``python bench/foundation.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.encoder_throughput import measure_encoder_throughput
from matching.config import Settings
from matching.storage.server import start_embedded_server


def measure_database_start(base: Path) -> dict[str, float]:
    """Seconds to init + start a new embedded server (cold), then to restart it (warm)."""
    pgdata = base / "pgdata"
    started = time.perf_counter()
    server = start_embedded_server(pgdata, cleanup_mode="stop")
    cold = time.perf_counter() - started
    server.cleanup()
    started = time.perf_counter()
    server = start_embedded_server(pgdata, cleanup_mode="delete")
    warm = time.perf_counter() - started
    server.cleanup()
    return {"cold_start_s": cold, "warm_start_s": warm}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure_api_startup(home: Path, model_dir: Path) -> dict[str, float]:
    """Seconds from process spawn until /readyz answers 200, and the process tree's resident memory."""
    port = _free_port()
    env = {**os.environ, "MAILLAGE_HOME": str(home), "MAILLAGE_EMBEDDING_MODEL_DIR": str(model_dir)}
    env.pop("DATABASE_URL", None)
    maillage = Path(sys.executable).parent / "maillage"
    subprocess.run([str(maillage), "db", "upgrade"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    process = subprocess.Popen([str(maillage), "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError("the API exited during start-up")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() - started > 120:
                raise RuntimeError("the API was not ready within 120 s")
            time.sleep(0.05)
        startup = time.perf_counter() - started
        api_rss = psutil.Process(process.pid).memory_info().rss
    finally:
        process.terminate()
        process.wait(30)
    return {"api_startup_s": startup, "api_rss_mib": api_rss / 2**20}


def main() -> None:
    """Print every figure."""
    settings = Settings()
    print("encoder throughput (sentences/s, 2 cores):")
    for backend, rate in measure_encoder_throughput(settings).items():
        print(f"  {backend:<22} {rate:8.1f}")
    with tempfile.TemporaryDirectory(prefix="maillage-bench-", dir="/tmp") as tmp:
        db = measure_database_start(Path(tmp) / "db")
        print(f"embedded PostgreSQL: cold start {db['cold_start_s']:.2f} s, warm start {db['warm_start_s']:.2f} s")
        api = measure_api_startup(Path(tmp) / "home", settings.local_embedding_model_dir)
        print(f"API: ready in {api['api_startup_s']:.2f} s (embedded DB start + model load), "
              f"resident memory {api['api_rss_mib']:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
